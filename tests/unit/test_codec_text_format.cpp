// Unit tests for protobuf text format in and out (--format text).
#include <doctest.h>

#include "codec/json_codec.hpp"
#include "codec/text_format.hpp"
#include "grpc/testing/messages.pb.h"

using namespace grpcdx::codec;

TEST_CASE("codec::parse_text_message and print_text_message") {
  grpc::testing::SimpleRequest request;
  REQUIRE(parse_text_message("response_size: 3 payload { body: \"ab\" }", request));
  CHECK(request.response_size() == 3);
  CHECK(request.payload().body() == "ab");
  CHECK(print_text_message(request, false) == "response_size: 3 payload { body: \"ab\" }");
  CHECK(print_text_message(request, true) == "response_size: 3\npayload {\n  body: \"ab\"\n}");

  auto bad = parse_text_message("response_size: x", request);
  REQUIRE(!bad);
  CHECK(bad.error().message == "invalid text format for grpc.testing.SimpleRequest: 1:16: Expected integer, got: x");
  CHECK(!parse_text_message("no_such_field: 1", request));
}

TEST_CASE("codec::split_text_messages") {
  CHECK(split_text_messages("a: 1").size() == 1);
  auto parts = split_text_messages("a: 1\x1e\nb: 2\n\x1e  \n");
  REQUIRE(parts.size() == 2);
  CHECK(parts[0] == "a: 1");
  CHECK(parts[1] == "\nb: 2\n");
  CHECK(split_text_messages("").empty());
}

TEST_CASE("codec::MessageCodec with text_format") {
  JsonOptions options;
  options.text_format = true;
  MessageCodec codec(options);
  const auto* type = grpc::testing::SimpleRequest::descriptor();
  auto message = codec.from_json("response_size: 7", type);
  REQUIRE(message);
  auto text = codec.to_json(**message);
  REQUIRE(text);
  CHECK(*text == "response_size: 7");
}

TEST_CASE("codec::split_json_values takes an array as its elements") {
  auto values = split_json_values(R"([{"a": 1}, {"b": "{{.UUID}}"}] {"c": 3})", "-d");
  REQUIRE(values);
  REQUIRE(values->size() == 3);
  CHECK((*values)[0] == R"({"a": 1})");
  CHECK((*values)[1] == R"({"b": "{{.UUID}}"})");
  CHECK((*values)[2] == R"({"c": 3})");
  auto stray = split_json_values("[{}, 5]", "-d");
  REQUIRE(!stray);
  CHECK(stray.error().message == "invalid JSON in -d: line 1: unexpected '5' outside a JSON object");
}

TEST_CASE("codec::JsonSplitter expands arrays as they arrive, as split_json_values does") {
  JsonSplitter s;
  s.feed(R"([{"a": 1}, )");
  CHECK(!s.next());
  s.feed(R"({"b": 2}])");
  CHECK(*s.next() == R"({"a": 1})");
  CHECK(*s.next() == R"({"b": 2})");
  CHECK(s.finish("-d"));
  auto mismatched = split_json_values("[{}}", "-d");
  REQUIRE(!mismatched);
  CHECK(mismatched.error().message == "invalid JSON in -d: line 1: '[' closed by '}'");
}
