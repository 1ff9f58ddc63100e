// Unit tests for src/interop/checks: canned wrong answers must fail with a reason that says
// what was expected and what came back.
#include <doctest.h>

#include "interop/checks.hpp"

using namespace grpcdx::interop;
namespace gt = grpc::testing;

namespace {
gt::Payload zeros(size_t n) {
  gt::Payload p;
  p.set_body(std::string(n, '\0'));
  return p;
}
}  // namespace

TEST_CASE("check_large_unary wants 314159 zero bytes") {
  gt::SimpleResponse ok;
  *ok.mutable_payload() = zeros(314159);
  CHECK(!check_large_unary(ok));

  gt::SimpleResponse short_one;
  *short_one.mutable_payload() = zeros(314158);
  CHECK(check_large_unary(short_one) == "response: expected a payload of 314159 bytes, got 314158");

  gt::SimpleResponse dirty = ok;
  (*dirty.mutable_payload()->mutable_body())[7] = 'x';
  CHECK(check_large_unary(dirty) == "response: expected zero bytes, byte 7 is 0x78");
}

TEST_CASE("check_client_streaming wants the sum 74922") {
  gt::StreamingInputCallResponse r;
  r.set_aggregated_payload_size(74922);
  CHECK(!check_client_streaming(r));
  r.set_aggregated_payload_size(74921);
  CHECK(check_client_streaming(r) == "expected aggregated_payload_size 74922, got 74921");
}

TEST_CASE("check_streamed_sizes wants four responses of the right sizes, in order") {
  std::vector<gt::StreamingOutputCallResponse> responses(4);
  const size_t sizes[] = {31415, 9, 2653, 58979};
  for (size_t i = 0; i < 4; ++i) *responses[i].mutable_payload() = zeros(sizes[i]);
  CHECK(!check_streamed_sizes(responses));

  auto swapped = responses;
  std::swap(swapped[1], swapped[2]);
  CHECK(check_streamed_sizes(swapped) == "response 2: expected a payload of 9 bytes, got 2653");

  auto missing = responses;
  missing.pop_back();
  CHECK(check_streamed_sizes(missing) == "expected 4 responses, got 3");
}

TEST_CASE("check_status compares code and message, escaping control characters") {
  CHECK(!check_status({2, "test status message"}, 2, std::string("test status message")));
  CHECK(check_status({14, "down"}, 2) == "expected status UNKNOWN (2), got UNAVAILABLE (14): down");
  CHECK(check_status({2, "test with whitespace"}, 2, std::string(k_special_status_message)) ==
        "expected status message \"\\t\\ntest with whitespace\\r\\nand Unicode BMP \u263A and non-BMP \U0001F608\\t\\n\", "
        "got \"test with whitespace\"");
  CHECK(check_status({0, ""}, 1) == "expected status CANCELLED (1), got OK (0)");
}

TEST_CASE("check_echoed_metadata wants both echoes with the exact values") {
  CHECK(!check_echoed_metadata(std::string("test_initial_metadata_value"), std::string("\xab\xab\xab")));
  CHECK(check_echoed_metadata(std::nullopt, std::string("\xab\xab\xab")) ==
        "initial metadata 'x-grpc-test-echo-initial' was not echoed");
  CHECK(check_echoed_metadata(std::string("other"), std::string("\xab\xab\xab")) ==
        "initial metadata 'x-grpc-test-echo-initial': expected \"test_initial_metadata_value\", got \"other\"");
  CHECK(check_echoed_metadata(std::string("test_initial_metadata_value"), std::nullopt) ==
        "trailing metadata 'x-grpc-test-echo-trailing-bin' was not echoed");
  CHECK(check_echoed_metadata(std::string("test_initial_metadata_value"), std::string("\xab")) ==
        "trailing metadata 'x-grpc-test-echo-trailing-bin': expected 3 bytes ab ab ab, got 1 bytes");
}
