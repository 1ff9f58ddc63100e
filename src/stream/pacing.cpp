// Pacing of replayed messages.
#include "stream/pacing.hpp"

#include <charconv>
#include <cmath>
#include <thread>

#include <fmt/format.h>

namespace grpcdx::stream {

Result<Pace> parse_pace(std::string_view text) {
  if (text == "recorded") return Pace{Pace::Kind::recorded, 0};
  if (text == "asap") return Pace{Pace::Kind::asap, 0};
  auto bad = [&] {
    return usage_error(
        fmt::format("invalid --pace '{}': use recorded, asap or N/s (a rate such as 10/s)", text));
  };
  if (!text.ends_with("/s")) return bad();
  std::string_view number = text.substr(0, text.size() - 2);
  double rate = 0;
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), rate);
  if (number.empty() || ec != std::errc() || ptr != number.data() + number.size() ||
      !std::isfinite(rate) || rate <= 0)
    return bad();
  return Pace{Pace::Kind::rate, rate};
}

Duration send_offset(const Pace& pace, size_t index, double t_ms) {
  switch (pace.kind) {
    case Pace::Kind::recorded:
      return duration_from_ms(t_ms);
    case Pace::Kind::asap:
      return Duration::zero();
    case Pace::Kind::rate:
      return duration_from_ms(static_cast<double>(index) * 1000.0 / pace.per_second);
  }
  return Duration::zero();
}

PacedRequestSource::PacedRequestSource(std::vector<Message> messages, Pace pace, Now now)
    : m_messages(std::move(messages)),
      m_pace(pace),
      m_now(now ? std::move(now) : Now([] { return std::chrono::steady_clock::now(); })) {}

std::optional<Result<std::string>> PacedRequestSource::next(const std::atomic<bool>& stop) {
  if (!m_started) {
    m_started = true;
    m_start = m_now();
  }
  if (stop || m_pos >= m_messages.size()) return std::nullopt;
  auto due = m_start + send_offset(m_pace, m_pos, m_messages[m_pos].t_ms);
  constexpr auto k_slice = std::chrono::milliseconds(10);
  while (!stop) {
    auto now = m_now();
    if (now >= due) break;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(due - now, k_slice));
  }
  if (stop) return std::nullopt;
  return Result<std::string>(std::move(m_messages[m_pos++].bytes));
}

}  // namespace grpcdx::stream
