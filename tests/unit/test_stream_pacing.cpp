// Unit tests for src/stream/pacing: parsing --pace and the schedule of each mode.
#include <doctest.h>

#include "stream/pacing.hpp"

using namespace grpcdx;
using namespace grpcdx::stream;
using namespace std::chrono_literals;

TEST_CASE("parse_pace accepts recorded, asap and N/s") {
  CHECK(parse_pace("recorded")->kind == Pace::Kind::recorded);
  CHECK(parse_pace("asap")->kind == Pace::Kind::asap);
  auto rate = parse_pace("20/s");
  REQUIRE(rate);
  CHECK(rate->kind == Pace::Kind::rate);
  CHECK(rate->per_second == 20);
  CHECK(parse_pace("0.5/s")->per_second == 0.5);
}

TEST_CASE("parse_pace rejects anything else with a usage error") {
  for (const char* bad : {"", "fast", "10", "0/s", "-1/s", "x/s", "/s", "10/m", "1e999/s"}) {
    auto r = parse_pace(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::usage);
  }
  CHECK(parse_pace("fast").error().message ==
        "invalid --pace 'fast': use recorded, asap or N/s (a rate such as 10/s)");
}

TEST_CASE("send_offset: recorded keeps the gaps, asap never waits, N/s spaces sends evenly") {
  Pace recorded{Pace::Kind::recorded, 0};
  CHECK(send_offset(recorded, 0, 0) == 0ms);
  CHECK(send_offset(recorded, 3, 250.5) == 250500us);
  Pace asap{Pace::Kind::asap, 0};
  CHECK(send_offset(asap, 7, 9000) == 0ms);
  Pace rate{Pace::Kind::rate, 4};
  CHECK(send_offset(rate, 0, 9000) == 0ms);
  CHECK(send_offset(rate, 1, 0) == 250ms);
  CHECK(send_offset(rate, 6, 0) == 1500ms);
}

TEST_CASE("send_offset never overflows: a replay file's t_ms and a tiny rate are capped") {
  CHECK(send_offset(Pace{Pace::Kind::recorded, 0}, 0, 1e300) == k_max_duration);
  CHECK(send_offset(Pace{Pace::Kind::rate, 1e-300}, 5, 0) == k_max_duration);
}

TEST_CASE("PacedRequestSource returns every message in order, and nothing once stopped") {
  std::vector<PacedRequestSource::Message> messages = {{"a", 0}, {"b", 0}};
  PacedRequestSource source(messages, Pace{Pace::Kind::asap, 0});
  std::atomic<bool> stop{false};
  CHECK(**source.next(stop) == "a");
  stop = true;
  CHECK_FALSE(source.next(stop));
}

TEST_CASE("PacedRequestSource waits until a message is due") {
  // A fake clock that jumps forward each time it is read: the source must read it until due.
  auto t = std::chrono::steady_clock::time_point{};
  int reads = 0;
  PacedRequestSource source({{"a", 0}, {"b", 30}}, Pace{Pace::Kind::recorded, 0}, [&] {
    ++reads;
    return t += 10ms;
  });
  std::atomic<bool> stop{false};
  CHECK(**source.next(stop) == "a");
  CHECK(**source.next(stop) == "b");
  // The clock started at 10ms (the first read): "b" is due at 40ms and not a step earlier.
  CHECK(t == std::chrono::steady_clock::time_point{} + 40ms);
  CHECK(reads == 4);
  CHECK_FALSE(source.next(stop));
}
