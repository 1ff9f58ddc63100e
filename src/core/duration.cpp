// Go-style duration parsing and printing, exact to the nanosecond (integers, no floating point).
#include "core/duration.hpp"

#include <cctype>
#include <cstdint>
#include <limits>
#include <optional>
#include <fmt/format.h>

namespace grpcdx {

namespace {

struct Unit {
  std::string_view name;
  int64_t ns;
};

constexpr Unit k_units[] = {
    {"ns", 1},
    {"us", 1'000},
    {"\xC2\xB5s", 1'000},
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
};

constexpr int64_t k_int64_max = std::numeric_limits<int64_t>::max();
constexpr int64_t k_max_ns = k_max_duration.count();

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// "12.5" of unit `unit_ns` in nanoseconds, truncated below a nanosecond; nullopt past int64.
std::optional<int64_t> scaled(std::string_view whole, std::string_view fraction, int64_t unit_ns) {
  __int128 ns = 0;
  for (char c : whole) {
    ns = ns * 10 + (c - '0');
    if (ns * unit_ns > k_int64_max) return std::nullopt;
  }
  ns *= unit_ns;
  // The fraction is numerator / 10^k of a unit; digits past the 19th can't reach 1 ns of any unit.
  __int128 numerator = 0, denominator = 1;
  for (char c : fraction.substr(0, 19)) {
    numerator = numerator * 10 + (c - '0');
    denominator *= 10;
  }
  ns += numerator * unit_ns / denominator;
  if (ns > k_int64_max) return std::nullopt;
  return static_cast<int64_t>(ns);
}

// Nanoseconds below `unit` as ".123" with trailing zeros dropped ("" when none).
std::string decimals(int64_t remainder, int64_t unit) {
  if (remainder == 0) return {};
  int width = 0;
  for (int64_t u = unit; u > 1; u /= 10) ++width;
  std::string digits = fmt::format("{:0{}}", remainder, width);
  while (!digits.empty() && digits.back() == '0') digits.pop_back();
  return "." + digits;
}

}  // namespace

Result<Duration> parse_duration(std::string_view text) {
  const std::string original(text);
  auto bad = [&](std::string why) {
    return usage_error(fmt::format("invalid duration '{}': {}", original, why),
                       "write durations like 250ms, 2s, 1m30s or 10us");
  };
  if (text.empty()) return bad("empty");
  if (text == "0") return Duration::zero();
  if (text.front() == '-') return bad("must not be negative");
  if (text.front() == '+') text.remove_prefix(1);
  int64_t total_ns = 0;
  const std::string too_large = "too large (at most 100000h)";
  while (!text.empty()) {
    size_t i = 0;
    while (i < text.size() && is_digit(text[i])) ++i;
    std::string_view whole = text.substr(0, i);
    std::string_view fraction;
    if (i < text.size() && text[i] == '.') {
      size_t j = i + 1;
      while (j < text.size() && is_digit(text[j])) ++j;
      fraction = text.substr(i + 1, j - i - 1);
      i = j;
    }
    if (whole.empty() && fraction.empty()) return bad("expected a number");
    text.remove_prefix(i);
    size_t j = 0;
    while (j < text.size() && !is_digit(text[j]) && text[j] != '.') ++j;
    std::string_view unit = text.substr(0, j);
    if (unit.empty()) return bad("missing unit (ns, us, ms, s, m, h)");
    const Unit* found = nullptr;
    for (const auto& u : k_units)
      if (u.name == unit) found = &u;
    if (!found) return bad(fmt::format("unknown unit '{}' (use ns, us, ms, s, m or h)", unit));
    auto part = scaled(whole, fraction, found->ns);
    if (!part || *part > k_max_ns - total_ns) return bad(too_large);
    total_ns += *part;
    text.remove_prefix(j);
  }
  return Duration(total_ns);
}

Duration duration_from_ms(double ms) {
  if (!(ms > 0)) return Duration::zero();
  if (ms >= static_cast<double>(k_max_ns) / 1e6) return k_max_duration;
  return Duration(static_cast<int64_t>(ms * 1e6));
}

std::string format_duration(Duration d) {
  const int64_t ns = d.count();
  if (ns == 0) return "0s";
  if (ns < 1'000) return fmt::format("{}ns", ns);
  if (ns < 1'000'000) return fmt::format("{}{}us", ns / 1'000, decimals(ns % 1'000, 1'000));
  if (ns < 1'000'000'000) return fmt::format("{}{}ms", ns / 1'000'000, decimals(ns % 1'000'000, 1'000'000));
  const int64_t total_s = ns / 1'000'000'000;
  const int64_t h = total_s / 3600;
  const int64_t m = (total_s / 60) % 60;
  std::string out;
  if (h) out += fmt::format("{}h", h);
  if (h || m) out += fmt::format("{}m", m);
  out += fmt::format("{}{}s", total_s % 60, decimals(ns % 1'000'000'000, 1'000'000'000));
  return out;
}

}  // namespace grpcdx
