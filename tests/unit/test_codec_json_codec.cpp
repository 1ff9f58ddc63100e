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
