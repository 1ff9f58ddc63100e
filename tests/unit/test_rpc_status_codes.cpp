// Unit tests for src/rpc/status_codes and the exit-code mapping of src/rpc/exit_codes.
#include <doctest.h>

#include "rpc/exit_codes.hpp"
#include "rpc/status_codes.hpp"

using namespace grpcdx;
using namespace grpcdx::rpc;

TEST_CASE("status_name") {
  CHECK(status_name(0) == "OK");
  CHECK(status_name(1) == "CANCELLED");
  CHECK(status_name(4) == "DEADLINE_EXCEEDED");
  CHECK(status_name(14) == "UNAVAILABLE");
  CHECK(status_name(16) == "UNAUTHENTICATED");
  CHECK(status_name(17) == "CODE_17");
  CHECK(status_name(-1) == "CODE_-1");
}

TEST_CASE("parse_status_code accepts names in any case and numbers") {
  CHECK(*parse_status_code("UNAVAILABLE") == 14);
  CHECK(*parse_status_code("unavailable") == 14);
  CHECK(*parse_status_code("Unavailable") == 14);
  CHECK(*parse_status_code("14") == 14);
  CHECK(*parse_status_code("0") == 0);
  CHECK(*parse_status_code("OK") == 0);
  CHECK(*parse_status_code("CANCELED") == 1);
  CHECK(*parse_status_code("16") == 16);
  for (int code = 0; code <= 16; ++code) CHECK(*parse_status_code(status_name(code)) == code);
}

TEST_CASE("parse_status_code rejects everything else with a usage error") {
  for (const char* text : {"NOPE", "17", "-1", "", "14x", " 14"}) {
    CAPTURE(text);
    auto r = parse_status_code(text);
    REQUIRE(!r);
    CHECK(r.error().kind == ErrorKind::usage);
    CHECK(r.error().message == std::string("unknown status code '") + text +
                                   "' (use a name like UNAVAILABLE or a number 0-16)");
  }
}

TEST_CASE("status_for_http follows the gRPC HTTP/2 mapping") {
  CHECK(status_for_http(400) == 13);
  CHECK(status_for_http(401) == 16);
  CHECK(status_for_http(403) == 7);
  CHECK(status_for_http(404) == 12);
  CHECK(status_for_http(429) == 14);
  CHECK(status_for_http(502) == 14);
  CHECK(status_for_http(503) == 14);
  CHECK(status_for_http(504) == 14);
  CHECK(status_for_http(500) == 2);
  CHECK(status_for_http(200) == 2);
}

TEST_CASE("exit codes of SPEC.md") {
  CHECK(exit_code_for_status(0) == 0);
  CHECK(exit_code_for_status(14) == 78);
  CHECK(exit_code_for_status(4) == 68);
  CHECK(exit_code_for(Error{ErrorKind::usage, "m", "", 0}) == 2);
  CHECK(exit_code_for(Error{ErrorKind::local, "m", "", 0}) == 1);
  CHECK(exit_code_for(Error{ErrorKind::rpc_status, "m", "", 14}) == 78);
}
