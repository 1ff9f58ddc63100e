// Unit tests for src/codec/status_details: google.rpc.Status (grpc-status-details-bin) to JSON.
#include <doctest.h>

#include <string>

#include "codec/status_details.hpp"
#include "grpc/testing/messages.pb.h"

using namespace grpcdx::codec;

namespace {

// Protobuf's wire format by hand, from the public field numbers, so the tests do not share the
// .proto that grpcdx decodes with.
std::string varint(uint64_t n) {
  std::string out;
  do {
    char byte = static_cast<char>(n & 0x7f);
    n >>= 7;
    out += static_cast<char>(byte | (n ? 0x80 : 0));
  } while (n);
  return out;
}
std::string int_field(int number, uint64_t value) { return varint(uint64_t(number) << 3) + varint(value); }
std::string bytes_field(int number, const std::string& value) {
  return varint(uint64_t(number) << 3 | 2) + varint(value.size()) + value;
}
std::string any(const std::string& type_url, const std::string& value) {
  return bytes_field(1, type_url) + bytes_field(2, value);
}
std::string status(int code, const std::string& message, const std::vector<std::string>& details) {
  std::string out = int_field(1, code) + bytes_field(2, message);
  for (const auto& d : details) out += bytes_field(3, d);
  return out;
}

const google::protobuf::DescriptorPool* testing_pool() {
  return grpc::testing::SimpleRequest::descriptor()->file()->pool();
}

}  // namespace

TEST_CASE("no trailer, no details; a trailer that is not a google.rpc.Status is called malformed") {
  auto none = decode_status_details("", nullptr, {});
  CHECK(none.details.empty());
  CHECK(!none.malformed);
  auto bad = decode_status_details(std::string("\x0a\xff\xff\xff\xff\x0f\x00", 7), nullptr, {});
  CHECK(bad.details.empty());
  CHECK(bad.malformed);
  // A Status with no details is well formed and has none.
  auto empty = decode_status_details(status(5, "gone", {}), nullptr, {});
  CHECK(empty.details.empty());
  CHECK(!empty.malformed);
}

TEST_CASE("google.rpc's standard details decode without any schema from the server") {
  std::string error_info = bytes_field(1, "STOCK_EMPTY") + bytes_field(2, "shop.example") +
                           bytes_field(3, bytes_field(1, "sku") + bytes_field(2, "A-1"));
  std::string bad_request = bytes_field(1, bytes_field(1, "quantity") + bytes_field(2, "must be positive"));
  std::string retry_info = bytes_field(1, int_field(1, 1) + int_field(2, 500000000));
  auto got = decode_status_details(status(9, "no stock",
                                          {any("type.googleapis.com/google.rpc.ErrorInfo", error_info),
                                           any("type.googleapis.com/google.rpc.BadRequest", bad_request),
                                           any("type.googleapis.com/google.rpc.RetryInfo", retry_info)}),
                                   nullptr, {});
  REQUIRE(got.details.size() == 3);
  CHECK(got.details[0].decoded);
  CHECK(got.details[0].json.dump() ==
        R"({"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"STOCK_EMPTY","domain":"shop.example",)"
        R"("metadata":{"sku":"A-1"}})");
  CHECK(got.details[1].json.dump() ==
        R"({"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"quantity",)"
        R"("description":"must be positive"}]})");
  CHECK(got.details[2].json.dump() == R"({"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.500s"})");
  CHECK(got.details[2].type_url == "type.googleapis.com/google.rpc.RetryInfo");
}

TEST_CASE("a detail of a well-known type prints as the Any JSON mapping does: its value under \"value\"") {
  std::string duration = int_field(1, 2);
  auto got = decode_status_details(status(4, "", {any("type.googleapis.com/google.protobuf.Duration", duration)}),
                                   nullptr, {});
  REQUIRE(got.details.size() == 1);
  CHECK(got.details[0].decoded);
  CHECK(got.details[0].json.dump() == R"({"@type":"type.googleapis.com/google.protobuf.Duration","value":"2s"})");
}

TEST_CASE("a server's own detail types come from the call's schema") {
  std::string request = int_field(2, 7);  // SimpleRequest.response_size
  std::string bytes = status(3, "bad", {any("type.googleapis.com/grpc.testing.SimpleRequest", request)});
  auto with_schema = decode_status_details(bytes, testing_pool(), {});
  REQUIRE(with_schema.details.size() == 1);
  CHECK(with_schema.details[0].decoded);
  CHECK(with_schema.details[0].json.dump() ==
        R"({"@type":"type.googleapis.com/grpc.testing.SimpleRequest","responseSize":7})");
  // The JSON options of the call apply (here: .proto field names).
  JsonOptions proto_names;
  proto_names.proto_names = true;
  CHECK(decode_status_details(bytes, testing_pool(), proto_names).details[0].json.dump() ==
        R"({"@type":"type.googleapis.com/grpc.testing.SimpleRequest","response_size":7})");
  // Without the schema it stays undecoded.
  auto without = decode_status_details(bytes, nullptr, {});
  REQUIRE(without.details.size() == 1);
  CHECK(!without.details[0].decoded);
  CHECK(without.details[0].json.dump() ==
        R"({"@type":"type.googleapis.com/grpc.testing.SimpleRequest","value":"EAc="})");
}

TEST_CASE("unknown types, odd type URLs and bytes that do not parse stay undecoded, as base64") {
  auto got = decode_status_details(
      status(2, "x",
             {any("type.googleapis.com/example.v1.Unknown", "\x08\x01"), any("", "\x08\x01"),
              any("google.rpc.ErrorInfo", bytes_field(1, "NO_SLASH")),
              any("type.googleapis.com/google.rpc.ErrorInfo", std::string("\x0a\xff\xff\xff\xff\x0f\x00", 7))}),
      nullptr, {});
  REQUIRE(got.details.size() == 4);
  CHECK(!got.details[0].decoded);
  CHECK(got.details[0].json.dump() == R"({"@type":"type.googleapis.com/example.v1.Unknown","value":"CAE="})");
  CHECK(!got.details[1].decoded);
  CHECK(got.details[1].json.dump() == R"({"@type":"","value":"CAE="})");
  // A type URL without a host part still names its type.
  CHECK(got.details[2].decoded);
  CHECK(got.details[2].json.dump() == R"({"@type":"google.rpc.ErrorInfo","reason":"NO_SLASH"})");
  CHECK(!got.details[3].decoded);
}

TEST_CASE("encode_retry_info_status writes what decode_status_details and the wire format expect") {
  using namespace std::chrono_literals;
  std::string bytes = encode_retry_info_status(8, "slow down", 1500ms);
  // Field by field, from the public field numbers.
  std::string retry_info = bytes_field(1, int_field(1, 1) + int_field(2, 500000000));
  CHECK(bytes == status(8, "slow down", {any("type.googleapis.com/google.rpc.RetryInfo", retry_info)}));
  auto got = decode_status_details(bytes, nullptr, {});
  REQUIRE(got.details.size() == 1);
  CHECK(got.details[0].json.dump() == R"({"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.500s"})");
  // Whole seconds only, and zero.
  CHECK(decode_status_details(encode_retry_info_status(14, "", 3s), nullptr, {}).details[0].json["retryDelay"] == "3s");
  CHECK(decode_status_details(encode_retry_info_status(14, "", 0s), nullptr, {}).details[0].json["retryDelay"] == "0s");
}

TEST_CASE("invalid UTF-8 in a detail's string field leaves that detail undecoded") {
  auto got = decode_status_details(
      status(3, "x", {any("type.googleapis.com/google.rpc.ErrorInfo", bytes_field(1, "\xff\xfe"))}), nullptr, {});
  REQUIRE(got.details.size() == 1);
  CHECK(!got.details[0].decoded);
  CHECK(got.details[0].json.dump() == R"({"@type":"type.googleapis.com/google.rpc.ErrorInfo","value":"CgL//g=="})");
}
