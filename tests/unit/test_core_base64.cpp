// Unit tests for src/core/base64: RFC 4648 vectors, round trips, URL-safe input, bad input.
#include <doctest.h>

#include <string>

#include "core/base64.hpp"

using namespace grpcdx;

TEST_CASE("base64_encode: RFC 4648 test vectors") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foob") == "Zm9vYg==");
  CHECK(base64_encode("fooba") == "Zm9vYmE=");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_encode(std::string(10, '\0')) == "AAAAAAAAAAAAAA==");
}

TEST_CASE("base64 round trips every byte value and every length") {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t len = 0; len <= all.size(); ++len) {
    std::string bytes = all.substr(all.size() - len);
    auto decoded = base64_decode(base64_encode(bytes));
    REQUIRE(decoded);
    CHECK(*decoded == bytes);
  }
}

TEST_CASE("base64_decode accepts the URL-safe alphabet and missing padding") {
  CHECK(*base64_decode("Zm9vYg") == "foob");
  CHECK(*base64_decode("-_8=") == "\xfb\xff");
  CHECK(*base64_decode("+/8=") == "\xfb\xff");
}

TEST_CASE("base64_decode rejects bad input") {
  CHECK(!base64_decode("Zm9v!"));
  CHECK(!base64_decode("Z"));
  CHECK(!base64_decode("Zm 9v"));
}
