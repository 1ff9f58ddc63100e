// Unit tests for src/core/duration.
#include <doctest.h>

#include <cstdint>
#include <limits>

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

TEST_CASE("parse_duration is exact to the nanosecond, up to 100000h") {
  CHECK(parse_duration("1.000000001s")->count() == 1'000'000'001);
  CHECK(parse_duration(".5ms")->count() == 500'000);
  CHECK(parse_duration("1.5us")->count() == 1'500);
  CHECK(parse_duration("0.1h")->count() == 360'000'000'000);
  CHECK(parse_duration("1.0000000000000000000009s")->count() == 1'000'000'000);  // below 1 ns: dropped
  CHECK(parse_duration("100000h")->count() == 360'000'000'000'000'000);
  CHECK(parse_duration("99999h59m59.999999999s")->count() == 359'999'999'999'999'999);
  CHECK(parse_duration("15ms00000000359999999s")->count() == 359'999'999'015'000'000);
  CHECK(parse_duration("100000h1ns").error().message == "invalid duration '100000h1ns': too large (at most 100000h)");
  CHECK(parse_duration("15ms00000009059575345s").error().message ==
        "invalid duration '15ms00000009059575345s': too large (at most 100000h)");
  CHECK(!parse_duration("9223372036854775808ns"));
  CHECK(!parse_duration("99999999999999999999999999999h"));
  CHECK(parse_duration(".s").error().message == "invalid duration '.s': expected a number");
  CHECK(!parse_duration("1.2.3s"));
}

TEST_CASE("duration_from_ms clamps what comes from files and rates") {
  CHECK(duration_from_ms(1.5) == std::chrono::microseconds(1500));
  CHECK(duration_from_ms(0) == Duration::zero());
  CHECK(duration_from_ms(-3) == Duration::zero());
  CHECK(duration_from_ms(std::numeric_limits<double>::quiet_NaN()) == Duration::zero());
  CHECK(duration_from_ms(1e300) == k_max_duration);
  CHECK(duration_from_ms(std::numeric_limits<double>::infinity()) == k_max_duration);
}

TEST_CASE("format_duration prints every nanosecond, and what it prints parses back the same") {
  CHECK(format_duration(std::chrono::nanoseconds(999'999'999)) == "999.999999ms");
  CHECK(format_duration(std::chrono::nanoseconds(1'500)) == "1.5us");
  CHECK(format_duration(std::chrono::nanoseconds(3'723'000'000'004)) == "1h2m3.000000004s");
  CHECK(format_duration(std::chrono::nanoseconds(INT64_MAX)) == "2562047h47m16.854775807s");
  for (int64_t ns : {int64_t{1}, int64_t{999}, int64_t{1'000}, int64_t{999'999'999}, int64_t{60'000'000'000},
                     int64_t{359'999'999'015'000'000}, int64_t{360'000'000'000'000'000}}) {
    auto d = std::chrono::nanoseconds(ns);
    CHECK(*parse_duration(format_duration(d)) == d);
  }
}
