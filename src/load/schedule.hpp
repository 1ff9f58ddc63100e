// Load shapes with ghz's semantics: a rate (calls/s) or a concurrency that is constant, changes
// in steps, or changes every second along a line. Pure: every function takes the time from
// outside, so the tests need no clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/duration.hpp"
#include "core/error.hpp"

namespace grpcdx::load {

enum class ScheduleKind { constant, step, line };

// `const`, `step` or `line`.
const char* schedule_kind_name(ScheduleKind kind);

// One schedule, validated (make_schedule). For `step`, the value starts at `start` and changes by
// `step` every `step_duration`; `line` is a step schedule whose steps last one second (ghz's
// linear load). The change stops when the value reaches `end` (held from then on), or when
// `max_duration` has passed: from then on the value is `end` when one was given, else the value
// reached. With neither, the value changes for the whole run.
struct Schedule {
  ScheduleKind kind = ScheduleKind::constant;
  double start = 0;             // the value at t = 0 (the constant value for `const`)
  std::optional<double> end;    // where the change stops
  double step = 0;              // the change per step (per second for `line`); never 0 for step/line
  Duration step_duration{};     // step: > 0; line: one second
  Duration max_duration{};      // zero: no limit on the change
};

// A schedule whose value is always `value` (what --rps and -c are).
inline Schedule constant_schedule(double value) {
  Schedule s;
  s.start = value;
  return s;
}

// What the flags say, before validation. `flag` names the family ("--load" or "--concurrency")
// for error messages; `minimum` is the least value the schedule may reach (a rate above 0, a
// concurrency of 1 or more).
struct ScheduleFlags {
  std::string kind = "const";
  std::optional<double> start, end, step;
  std::optional<Duration> step_duration, max_duration;
};

// Validates the flags as ghz does and builds the schedule. Fails (usage) when the kind is not
// const/step/line; when step/line lacks a start or a non-zero step; when step lacks a step
// duration; when line is given one; when the start equals the end, or the step moves away from
// the end; when a value would fall below `minimum` (a decreasing schedule with no end that
// reaches it); when const is given any of these flags.
Result<Schedule> make_schedule(const ScheduleFlags& flags, const std::string& family, double minimum);

// The value at time t (t < 0 counts as 0).
double schedule_value(const Schedule& schedule, Duration t);

// The first time after t at which the value may change, or nothing when it never changes again.
std::optional<Duration> next_change(const Schedule& schedule, Duration t);

// The largest value the schedule takes.
double schedule_peak(const Schedule& schedule);

// "step from 50 to 150 by 10 every 5s", "line from 200 by -2 a second for 30s", "const 100".
std::string describe_schedule(const Schedule& schedule);

// The times at which an open-loop run's calls are due when its rate follows a schedule: call k
// (from 0) is due when the rate's integral reaches k. A run with a warm-up of W starts W before
// the schedule's t = 0 at the start rate. Times are from the schedule's t = 0 (warm-up calls have
// negative times). Calls must be asked for in increasing k (the pacer walks the steps once).
class RatePacer {
 public:
  RatePacer(const Schedule& rate, Duration warmup);
  // The due time of call k; k never decreases between calls.
  Duration due(uint64_t k);

 private:
  Schedule m_rate;
  Duration m_warmup{};
  double m_lead_calls = 0;  // calls due during the warm-up, at the start rate
  // The step being walked: from m_seg_start to m_seg_end (none: endless) at m_seg_rate, with
  // m_seg_start_calls calls due from t = 0 before it.
  Duration m_seg_start{};
  std::optional<Duration> m_seg_end;
  double m_seg_rate = 0;
  double m_seg_start_calls = 0;
};

}  // namespace grpcdx::load
