// Load shapes: ghz's validation, the value at a time, the next change, and the due times of a
// scheduled rate.
#include <doctest.h>

#include "load/schedule.hpp"

using namespace grpcdx;
using namespace grpcdx::load;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

ScheduleFlags flags(std::string kind, std::optional<double> start, std::optional<double> step,
                    std::optional<Duration> step_duration = std::nullopt, std::optional<double> end = std::nullopt,
                    std::optional<Duration> max_duration = std::nullopt) {
  ScheduleFlags f;
  f.kind = std::move(kind);
  f.start = start;
  f.step = step;
  f.step_duration = step_duration;
  f.end = end;
  f.max_duration = max_duration;
  return f;
}

Schedule rate(const ScheduleFlags& f) {
  auto s = make_schedule(f, "--load", 0);
  REQUIRE_MESSAGE(s, s.error().message);
  return *s;
}

std::string rate_error(const ScheduleFlags& f) {
  auto s = make_schedule(f, "--load", 0);
  REQUIRE(!s);
  CHECK(s.error().kind == ErrorKind::usage);
  return s.error().message;
}

}  // namespace

TEST_CASE("load::make_schedule refuses what ghz refuses") {
  CHECK(rate_error(flags("step", 50, std::nullopt, seconds(5))) ==
        "--load-schedule step needs a non-zero --load-step (the change at each step)");
  CHECK(rate_error(flags("step", 50, 0, seconds(5))) ==
        "--load-schedule step needs a non-zero --load-step (the change at each step)");
  CHECK(rate_error(flags("line", 50, 0)) == "--load-schedule line needs a non-zero --load-step (the change each second)");
  CHECK(rate_error(flags("step", 50, 10)) == "--load-schedule step needs --load-step-duration (how long each step lasts)");
  CHECK(rate_error(flags("step", std::nullopt, 10, seconds(1))) ==
        "--load-schedule step needs --load-start (the rate to begin with)");
  CHECK(rate_error(flags("step", 0, 10, seconds(1))) == "invalid --load-start 0: the rate must stay above 0");
  CHECK(rate_error(flags("step", 50, 10, seconds(5), 50)) == "--load-end equals --load-start: nothing changes");
  CHECK(rate_error(flags("step", 50, -10, seconds(5), 150)) == "--load-step -10 moves away from --load-end 150");
  CHECK(rate_error(flags("line", 50, 10, seconds(5))) ==
        "--load-step-duration applies to --load-schedule step (--load-schedule line changes every second)");
  CHECK(rate_error(flags("step", 200, -10, seconds(5))) ==
        "a decreasing --load-schedule needs --load-end or --load-max-duration: the rate would fall to 0");
  CHECK(rate_error(flags("step", 200, -10, seconds(5), std::nullopt, seconds(100))) ==
        "--load-schedule step reaches 0 within --load-max-duration 1m40s: the rate must stay above 0");
  CHECK(rate_error(flags("ramp", 50, 10)) == "invalid --load-schedule 'ramp': expected const, step or line");
  CHECK(rate_error(flags("const", 50, std::nullopt)) == "--load-start applies to --load-schedule step or line");

  auto c = make_schedule(flags("step", 10, 2.5, seconds(1)), "--concurrency", 1);
  REQUIRE(!c);
  CHECK(c.error().message == "invalid --concurrency-step 2.5: expected a whole number");
  c = make_schedule(flags("line", 10, -2, std::nullopt, 0), "--concurrency", 1);
  REQUIRE(!c);
  CHECK(c.error().message == "invalid --concurrency-end 0: the concurrency must stay at 1 or more");
  CHECK(make_schedule(flags("const", std::nullopt, std::nullopt), "--concurrency", 1));
}

TEST_CASE("load::schedule_value: step up to an end, then held") {
  // ghz's docs: 50 rps, +10 every 5 s until 150.
  const Schedule s = rate(flags("step", 50, 10, seconds(5), 150));
  CHECK(schedule_value(s, Duration::zero()) == 50);
  CHECK(schedule_value(s, milliseconds(4999)) == 50);
  CHECK(schedule_value(s, seconds(5)) == 60);
  CHECK(schedule_value(s, seconds(49)) == 140);
  CHECK(schedule_value(s, seconds(50)) == 150);
  CHECK(schedule_value(s, seconds(500)) == 150);
  CHECK(schedule_value(s, -seconds(3)) == 50);
  CHECK(schedule_peak(s) == 150);
  CHECK(describe_schedule(s) == "step from 50 to 150 by 10 every 5s");
}

TEST_CASE("load::schedule_value: step down for a maximum duration") {
  // 200 rps, -10 every 5 s for 40 s: held at the value reached (120).
  const Schedule s = rate(flags("step", 200, -10, seconds(5), std::nullopt, seconds(40)));
  CHECK(schedule_value(s, seconds(39)) == 130);
  CHECK(schedule_value(s, seconds(40)) == 120);
  CHECK(schedule_value(s, seconds(400)) == 120);
  CHECK(schedule_peak(s) == 200);
  // With an end too, the end is taken once the maximum duration has passed (ghz).
  const Schedule both = rate(flags("step", 50, 10, seconds(5), 500, seconds(20)));
  CHECK(schedule_value(both, seconds(19)) == 80);
  CHECK(schedule_value(both, seconds(20)) == 500);
}

TEST_CASE("load::schedule_value: line changes every second and overshoots no end") {
  const Schedule s = rate(flags("line", 200, -2, std::nullopt, 51));
  CHECK(schedule_value(s, milliseconds(999)) == 200);
  CHECK(schedule_value(s, seconds(1)) == 198);
  CHECK(schedule_value(s, seconds(74)) == 52);
  CHECK(schedule_value(s, seconds(75)) == 51);  // 50 clamped to the end
  CHECK(schedule_value(s, seconds(1000)) == 51);
  CHECK(describe_schedule(s) == "line from 200 to 51 by -2 a second");
  const Schedule up = rate(flags("line", 5, 5));
  CHECK(schedule_value(up, seconds(100)) == 505);
  CHECK(schedule_peak(up) == std::numeric_limits<double>::infinity());
  CHECK(schedule_value(constant_schedule(7), seconds(9)) == 7);
}

TEST_CASE("load::next_change walks the steps and stops where the change stops") {
  const Schedule s = rate(flags("step", 50, 10, seconds(5), 70));
  CHECK(next_change(s, Duration::zero()) == seconds(5));
  CHECK(next_change(s, milliseconds(5001)) == seconds(10));
  CHECK(!next_change(s, seconds(10)));  // 70 reached at 10 s
  const Schedule m = rate(flags("step", 50, 10, seconds(5), std::nullopt, milliseconds(7500)));
  CHECK(next_change(m, seconds(5)) == milliseconds(7500));
  CHECK(!next_change(m, milliseconds(7500)));
  CHECK(!next_change(constant_schedule(7), Duration::zero()));
}

TEST_CASE("load::RatePacer: the due times follow the integral of the rate") {
  // 10 calls/s for the first second, 20 the next, then 30 (held).
  const Schedule s = rate(flags("step", 10, 10, seconds(1), 30));
  RatePacer pacer(s, Duration::zero());
  CHECK(pacer.due(0) == Duration::zero());
  CHECK(pacer.due(5) == milliseconds(500));
  CHECK(pacer.due(10) == seconds(1));
  CHECK(pacer.due(20) == milliseconds(1500));
  CHECK(pacer.due(30) == seconds(2));
  CHECK(pacer.due(60) == seconds(3));
  CHECK(pacer.due(90) == seconds(4));
  // A constant rate is k / rate, as --rps.
  RatePacer constant(constant_schedule(4), Duration::zero());
  CHECK(constant.due(0) == Duration::zero());
  CHECK(constant.due(3) == milliseconds(750));
  CHECK(constant.due(4000) == seconds(1000));
}

TEST_CASE("load::RatePacer: a warm-up runs at the start rate before t = 0") {
  const Schedule s = rate(flags("step", 10, 10, seconds(1), 30));
  RatePacer pacer(s, seconds(2));
  CHECK(pacer.due(0) == -seconds(2));
  CHECK(pacer.due(10) == -seconds(1));
  CHECK(pacer.due(20) == Duration::zero());
  CHECK(pacer.due(30) == seconds(1));
  CHECK(pacer.due(50) == seconds(2));
}
