// Unit tests for src/net/metadata: -H parsing (plain and -bin) and secret redaction.
#include <doctest.h>

#include "net/metadata.hpp"

using namespace grpcdx;
using grpcdx::net::parse_header;

TEST_CASE("parse_header: plain values") {
  auto h = parse_header("X-Trace-Id: abc 123");
  REQUIRE(h);
  CHECK(h->key == "x-trace-id");
  CHECK(h->value == "abc 123");

  auto no_space = parse_header("key:value");
  REQUIRE(no_space);
  CHECK(no_space->key == "key");
  CHECK(no_space->value == "value");

  auto empty_value = parse_header("key:");
  REQUIRE(empty_value);
  CHECK(empty_value->value.empty());

  auto colon_in_value = parse_header("authorization: Bearer a:b");
  REQUIRE(colon_in_value);
  CHECK(colon_in_value->value == "Bearer a:b");
}

TEST_CASE("parse_header: -bin values are base64 and hold raw bytes") {
  auto h = parse_header("x-grpc-test-echo-trailing-bin: AAEC/w==");
  REQUIRE(h);
  CHECK(h->key == "x-grpc-test-echo-trailing-bin");
  CHECK(h->value == std::string("\x00\x01\x02\xff", 4));

  auto unpadded = parse_header("k-bin: AAEC_w");
  REQUIRE(unpadded);
  CHECK(unpadded->value == std::string("\x00\x01\x02\xff", 4));
}

TEST_CASE("parse_header: errors are usage errors with exact text") {
  auto check_error = [](const char* text, const char* message) {
    CAPTURE(text);
    auto h = parse_header(text);
    REQUIRE(!h);
    CHECK(h.error().kind == ErrorKind::usage);
    CHECK(h.error().message == message);
  };
  check_error("novalue", "invalid header 'novalue': expected 'key: value'");
  check_error(": value", "invalid header ': ...': expected 'key: value'");
  check_error(" : value", "invalid header ' : ...': expected 'key: value'");
  check_error(":", "invalid header ':': expected 'key: value'");
  check_error("bad key: v", "invalid header key 'bad key': use only a-z, 0-9, '-', '_' and '.'");
  check_error("grpc-timeout: 1S", "invalid header key 'grpc-timeout': reserved by gRPC");
  check_error("x-bin: !!!!", "invalid header 'x-bin': a -bin value must be base64");
  check_error("x: caf\xc3\xa9",
              "invalid header 'x': value must be printable ASCII (use a -bin key for bytes)");
}

TEST_CASE("parse_header: an error never echoes what may be a secret value") {
  auto no_colon = parse_header("authorization Bearer s3cret");
  REQUIRE(!no_colon);
  CHECK(no_colon.error().message == "invalid header 'authorization ...': expected 'key: value'");
  auto no_key = parse_header(": Bearer s3cret");
  REQUIRE(!no_key);
  CHECK(no_key.error().message.find("s3cret") == std::string::npos);
  auto bad_value = parse_header("authorization: Bearer caf\xc3\xa9");
  REQUIRE(!bad_value);
  CHECK(bad_value.error().message.find("Bearer") == std::string::npos);
}

TEST_CASE("secrets are redacted unless asked for") {
  using grpcdx::net::is_secret_key;
  using grpcdx::net::shown_value;
  CHECK(is_secret_key("authorization"));
  CHECK(is_secret_key("cookie"));
  CHECK(is_secret_key("x-auth-token"));
  CHECK(!is_secret_key("x-trace-id"));
  CHECK(shown_value("authorization", "Bearer s3cret", false) == "<redacted>");
  CHECK(shown_value("authorization", "Bearer s3cret", true) == "Bearer s3cret");
  CHECK(shown_value("x-trace-id", "abc", false) == "abc");
  for (const char* key : {"proxy-authorization", "set-cookie", "x-api-key", "token", "x-goog-iam-token"})
    CHECK(is_secret_key(key));
  for (const char* key : {"tokens", "x-token-id", "authority", "cookies-enabled"}) CHECK(!is_secret_key(key));
}
