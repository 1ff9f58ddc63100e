// Unit tests for src/core/duration.
#include <doctest.h>

#include "core/duration.hpp"

using namespace grpcdx;
using namespace std::chrono_literals;

TEST_CASE("parse_duration accepts Go-style durations") {
  CHECK(*parse_duration("250ms") == 250ms);
  CHECK(*parse_duration("2s") == 2s);
  CHECK(*parse_duration("1m30s") == 90s);
  CHECK(*parse_duration("10us") == 10us);
  CHECK(*parse_duration("1.5h") == 5400s);
  CHECK(*parse_duration("0") == 0s);
  CHECK(*parse_duration("100ns") == 100ns);
}

TEST_CASE("parse_duration rejects bad input with a usage error") {
  auto r = parse_duration("10");
  REQUIRE(!r);
  CHECK(r.error().kind == ErrorKind::usage);
  CHECK(r.error().message == "invalid duration '10': missing unit (ns, us, ms, s, m, h)");
  CHECK(parse_duration("5x").error().message == "invalid duration '5x': unknown unit 'x' (use ns, us, ms, s, m or h)");
  CHECK(parse_duration("").error().message == "invalid duration '': empty");
  CHECK(parse_duration("-1s").error().message == "invalid duration '-1s': must not be negative");
  CHECK(parse_duration("ms").error().message == "invalid duration 'ms': expected a number");
}

TEST_CASE("format_duration prints round values like Go") {
  CHECK(format_duration(250ms) == "250ms");
  CHECK(format_duration(90s) == "1m30s");
  CHECK(format_duration(2s) == "2s");
  CHECK(format_duration(10us) == "10us");
  CHECK(format_duration(0s) == "0s");
}
