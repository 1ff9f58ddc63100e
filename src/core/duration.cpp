// Go-style duration parsing and printing.
#include "core/duration.hpp"

#include <cmath>
#include <cstdint>
#include <fmt/format.h>

namespace grpcdx {

namespace {

struct Unit {
  std::string_view name;
  double ns;
};

constexpr Unit k_units[] = {
    {"ns", 1.0}, {"us", 1e3}, {"\xC2\xB5s", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9},
};

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
  double total_ns = 0;
  while (!text.empty()) {
    size_t i = 0;
    bool digits = false;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
      digits = digits || text[i] != '.';
      ++i;
    }
    if (!digits) return bad("expected a number");
    double value = 0;
    try {
      value = std::stod(std::string(text.substr(0, i)));
    } catch (...) {
      return bad("expected a number");
    }
    text.remove_prefix(i);
    size_t j = 0;
    while (j < text.size() && !std::isdigit(static_cast<unsigned char>(text[j])) && text[j] != '.') ++j;
    std::string_view unit = text.substr(0, j);
    if (unit.empty()) return bad("missing unit (ns, us, ms, s, m, h)");
    const Unit* found = nullptr;
    for (const auto& u : k_units)
      if (u.name == unit) found = &u;
    if (!found) return bad(fmt::format("unknown unit '{}' (use ns, us, ms, s, m or h)", unit));
    total_ns += value * found->ns;
    text.remove_prefix(j);
  }
  if (!std::isfinite(total_ns) || total_ns > 9.2e18) return bad("too large");
  return Duration(static_cast<int64_t>(std::llround(total_ns)));
}

std::string format_duration(Duration d) {
  using namespace std::chrono;
  const int64_t ns = d.count();
  if (ns == 0) return "0s";
  if (ns < 1'000) return fmt::format("{}ns", ns);
  if (ns < 1'000'000) return fmt::format("{:g}us", ns / 1e3);
  if (ns < 1'000'000'000) return fmt::format("{:g}ms", ns / 1e6);
  int64_t total_ms = ns / 1'000'000;
  int64_t h = total_ms / 3'600'000;
  int64_t m = (total_ms / 60'000) % 60;
  double s = (total_ms % 60'000) / 1e3;
  std::string out;
  if (h) out += fmt::format("{}h", h);
  if (h || m) out += fmt::format("{}m", m);
  out += fmt::format("{:g}s", s);
  return out;
}

}  // namespace grpcdx
