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
// than int64 nanoseconds.
Result<Duration> parse_duration(std::string_view text);

// Prints a duration exactly, the way Go does: "250ms", "1m30s", "1.5us", "1h2m3.000000004s".
std::string format_duration(Duration d);

// Milliseconds as a double, for JSON.
inline double to_ms(Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace grpcdx
