// Unit tests for src/codec/json_codec: JSON <-> messages and splitting multi-message input.
#include <doctest.h>

#include "codec/json_codec.hpp"
#include "grpc/testing/messages.pb.h"

using namespace grpcdx;
using namespace grpcdx::codec;

namespace {
const google::protobuf::Descriptor* simple_request() { return grpc::testing::SimpleRequest::descriptor(); }
}  // namespace

TEST_CASE("split_json_values handles concatenated, line-separated and nested values") {
  auto values = split_json_values(R"({"a":1}{"b":{"c":"}{"}}
{"d":[1,2]}  )", "-d");
  REQUIRE(values);
  REQUIRE(values->size() == 3);
  CHECK((*values)[0] == R"({"a":1})");
  CHECK((*values)[1] == R"({"b":{"c":"}{"}})");
  CHECK((*values)[2] == R"({"d":[1,2]})");
  CHECK(split_json_values("", "-d")->empty());
  CHECK(split_json_values("  \n ", "-d")->empty());
}

TEST_CASE("split_json_values reports unfinished values and stray text") {
  CHECK(split_json_values(R"({"a":)", "-d").error().message ==
        "invalid JSON in -d: unexpected end of input inside a value");
  CHECK(split_json_values("{}\nhello", "req.json").error().message ==
        "invalid JSON in req.json: line 2: unexpected 'h' outside a JSON object");
  CHECK(split_json_values(R"({"s":"\"}"})", "-d")->size() == 1);
}

TEST_CASE("JsonSplitter yields values as bytes arrive") {
  JsonSplitter s;
  s.feed(R"({"a":)");
  CHECK(!s.next());
  s.feed(R"(1}{"b")");
  auto first = s.next();
  REQUIRE(first);
  CHECK(*first == R"({"a":1})");
  CHECK(!s.next());
  s.feed(":2}");
  CHECK(*s.next() == R"({"b":2})");
  CHECK(s.finish("stdin"));
}

TEST_CASE("MessageCodec parses JSON with either field-name style and prints lowerCamelCase") {
  MessageCodec codec({});
  auto m = codec.from_json(R"({"response_size": 10, "responseStatus": {"code": 3}})", simple_request());
  REQUIRE(m);
  auto json = codec.to_json(**m);
  REQUIRE(json);
  CHECK(*json == R"({"responseSize":10,"responseStatus":{"code":3}})");
}

TEST_CASE("MessageCodec errors name the type and the problem") {
  MessageCodec codec({});
  auto unknown = codec.from_json(R"({"nope": 1})", simple_request());
  REQUIRE(!unknown);
  CHECK(unknown.error().kind == ErrorKind::local);
  CHECK(unknown.error().message.starts_with("invalid JSON for grpc.testing.SimpleRequest: "));
  CHECK(unknown.error().message.find("nope") != std::string::npos);
  auto wrong_type = codec.from_json(R"({"responseSize": "abc"})", simple_request());
  REQUIRE(!wrong_type);
  CHECK(wrong_type.error().message.starts_with("invalid JSON for grpc.testing.SimpleRequest: "));
  CHECK(!codec.from_json("{", simple_request()));
}

TEST_CASE("MessageCodec options: unknown fields, defaults, proto names, bytes as base64") {
  MessageCodec lenient({.allow_unknown_fields = true});
  CHECK(lenient.from_json(R"({"nope": 1, "responseSize": 2})", simple_request()));

  MessageCodec defaults({.emit_defaults = true, .proto_names = true});
  auto m = defaults.from_json(R"({"payload": {"body": "AAEC"}})", simple_request());
  REQUIRE(m);
  auto json = defaults.to_json(**m);
  REQUIRE(json);
  CHECK(json->find(R"("response_size":0)") != std::string::npos);
  CHECK(json->find(R"("body":"AAEC")") != std::string::npos);
}

TEST_CASE("MessageCodec::from_bytes rejects bytes that are not the message") {
  MessageCodec codec({});
  auto bad = codec.from_bytes(std::string("\xff\xff\xff", 3), simple_request());
  REQUIRE(!bad);
  CHECK(bad.error().message == "the server sent 3 bytes that are not a valid grpc.testing.SimpleRequest");
}

TEST_CASE("MessageCodec refuses what protobuf's JSON parser lets through but the proto3 JSON mapping forbids") {
  MessageCodec codec({});
  const auto* streaming = grpc::testing::StreamingOutputCallRequest::descriptor();
  const auto* reconnect = grpc::testing::ReconnectInfo::descriptor();
  const auto* stats = grpc::testing::LoadBalancerStatsResponse::descriptor();
  auto message = [&](std::string_view json, const google::protobuf::Descriptor* type) {
    auto parsed = codec.from_json(json, type);
    return parsed ? std::string("ok") : parsed.error().message;
  };
  // A repeated field given one value, not an array (protobuf makes it a list of one).
  CHECK(message(R"({"responseParameters": {"size": 10}})", streaming) ==
        "invalid JSON for grpc.testing.StreamingOutputCallRequest: field 'response_parameters' is repeated: it "
        "needs a JSON array, not an object");
  CHECK(message(R"({"backoffMs": 5})", reconnect) ==
        "invalid JSON for grpc.testing.ReconnectInfo: field 'backoff_ms' is repeated: it needs a JSON array, not a "
        "number");
  CHECK(message(R"({"backoff_ms": "5"})", reconnect) ==
        "invalid JSON for grpc.testing.ReconnectInfo: field 'backoff_ms' is repeated: it needs a JSON array, not a "
        "string");
  // null inside a repeated field (protobuf drops it).
  CHECK(message(R"({"backoffMs": [1, null]})", reconnect) ==
        "invalid JSON for grpc.testing.ReconnectInfo: 'backoff_ms[1]' is null: a repeated field cannot hold null");
  // Duplicate keys and one field under both names (protobuf keeps the last).
  CHECK(message(R"({"passed": true, "passed": false})", reconnect) ==
        "invalid JSON for grpc.testing.ReconnectInfo: key 'passed' is given twice in one object");
  CHECK(message(R"({"backoff_ms": [1], "backoffMs": [2]})", reconnect) ==
        "invalid JSON for grpc.testing.ReconnectInfo: field 'backoff_ms' is given twice (as 'backoff_ms' and "
        "'backoffMs')");
  CHECK(message(R"({"rpcsByPeer": {"a": 1, "a": 2}})", stats) ==
        "invalid JSON for grpc.testing.LoadBalancerStatsResponse: key 'a' is given twice in one object");
  // Nested messages, array elements and map values are checked too, with their path.
  CHECK(message(R"({"responseParameters": [{"size": 1}, {"size": 2, "size": 3}]})", streaming) ==
        "invalid JSON for grpc.testing.StreamingOutputCallRequest: key 'size' is given twice in one object");
  CHECK(message(R"({"rpcsByMethod": {"m": {"rpcsByPeer": {"p": 1}, "rpcs_by_peer": {}}}})", stats) ==
        "invalid JSON for grpc.testing.LoadBalancerStatsResponse: field 'rpcs_by_method[\"m\"].rpcs_by_peer' is "
        "given twice (as 'rpcsByPeer' and 'rpcs_by_peer')");
  CHECK(message(R"({"payload": {"body": "AAEC"}, "responseStatus": {"code": 3}})", streaming) == "ok");

  // The forms the mapping allows stay accepted: null for any field, numbers as strings, an enum
  // by number, an empty array, int64 as a string.
  CHECK(message(R"({"backoffMs": null, "passed": null})", reconnect) == "ok");
  CHECK(message(R"({"backoffMs": ["1", 2], "passed": "true"})", reconnect) == "ok");
  CHECK(message(R"({"responseType": 0, "responseParameters": []})", streaming) == "ok");
  CHECK(message(R"({"rpcsByPeer": {"a": "1", "b": 2}, "numFailures": "3"})", stats) == "ok");
  // Errors protobuf already reports keep its words.
  CHECK(message(R"({"responseSize": [1]})", simple_request()) ==
        "invalid JSON for grpc.testing.SimpleRequest: responseSize: Proto field is not repeating, cannot start "
        "list.");
  CHECK(message(R"({"payload": 5})", simple_request()) ==
        "invalid JSON for grpc.testing.SimpleRequest: (payload): invalid value 5 for type "
        "type.googleapis.com/grpc.testing.Payload");
}
