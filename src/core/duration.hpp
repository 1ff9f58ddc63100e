// Go-style durations ("250ms", "1m30s", "10us") parsed into and printed from std::chrono.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace grpcdx {

using Duration = std::chrono::nanoseconds;

// Parses a duration such as "250ms", "2s", "1m30s", "1.5h", "10us" or "0".
// Units: ns, us (or µs), ms, s, m, h; exact to the nanosecond (finer digits are dropped).
// Fails (usage) on an empty string, a missing unit, an unknown unit, a negative value or more
// than 100000h (so that now() plus any duration fits the clocks' int64 nanoseconds).
Result<Duration> parse_duration(std::string_view text);

// Prints a duration exactly, the way Go does: "250ms", "1m30s", "1.5us", "1h2m3.000000004s".
std::string format_duration(Duration d);

// The longest duration grpcdx accepts or computes: 100,000 hours (11.4 years). Every duration
// ends up added to a clock's now() (deadlines, timers, --duration); the system clock's now() is
// already 1.8e18 ns, so values near int64's limit would overflow there.
inline constexpr Duration k_max_duration = std::chrono::hours(100'000);

// Milliseconds from outside (a replay file's t_ms, a rate's interval) as a Duration, clamped to
// [0, k_max_duration]; NaN is 0.
Duration duration_from_ms(double ms);

// Milliseconds as a double, for JSON.
inline double to_ms(Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace grpcdx
