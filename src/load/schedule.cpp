// Load shapes: validation as ghz's, the value at a time, and the due times of a scheduled rate.
#include "load/schedule.hpp"

#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace grpcdx::load {

namespace {

constexpr double k_inf = std::numeric_limits<double>::infinity();

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

// "50", "0.5": a value as people write it.
std::string number(double v) { return fmt::format("{}", v); }

// The time at which the change stops (the end reached or the maximum duration passed), or
// nothing when it never stops.
std::optional<Duration> stop_time(const Schedule& s) {
  std::optional<Duration> stop;
  if (s.max_duration > Duration::zero()) stop = s.max_duration;
  if (s.end) {
    // The first step at which start + step * n is at or past the end.
    const double steps = std::ceil((*s.end - s.start) / s.step - 1e-9);
    const double ns = steps * static_cast<double>(s.step_duration.count());
    const Duration at = ns >= static_cast<double>(k_max_duration.count()) ? k_max_duration : Duration(static_cast<int64_t>(ns));
    if (!stop || at < *stop) stop = at;
  }
  return stop;
}

double clamp_to_end(const Schedule& s, double v) {
  if (s.end) v = s.step > 0 ? std::min(v, *s.end) : std::max(v, *s.end);
  return v;
}

}  // namespace

const char* schedule_kind_name(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::constant: return "const";
    case ScheduleKind::step: return "step";
    case ScheduleKind::line: return "line";
  }
  return "const";
}

Result<Schedule> make_schedule(const ScheduleFlags& f, const std::string& family, double minimum) {
  // "--load" -> "rate", "--concurrency" -> "concurrency", for the messages.
  const bool rate = family == "--load";
  const std::string noun = rate ? "rate" : "concurrency";
  const std::string floor_text = rate ? "the rate must stay above 0" : fmt::format("the concurrency must stay at {} or more", minimum);
  auto too_low = [&](double v) { return rate ? !(v > minimum) : !(v >= minimum); };
  const std::string kind_flag = family + "-schedule";

  Schedule s;
  if (f.kind == "const") {
    s.kind = ScheduleKind::constant;
    const std::pair<bool, const char*> given[] = {{f.start.has_value(), "-start"}, {f.end.has_value(), "-end"},
                                                  {f.step.has_value(), "-step"}, {f.step_duration.has_value(), "-step-duration"},
                                                  {f.max_duration.has_value(), "-max-duration"}};
    for (const auto& [present, suffix] : given)
      if (present)
        return usage_error(fmt::format("{}{} applies to {} step or line", family, suffix, kind_flag),
                           fmt::format("add {} step (or line)", kind_flag));
    return s;
  }
  if (!rate) {
    // Calls in flight come in whole numbers.
    const std::pair<const std::optional<double>*, const char*> values[] = {{&f.start, "-start"}, {&f.end, "-end"}, {&f.step, "-step"}};
    for (const auto& [value, suffix] : values)
      if (*value && std::floor(**value) != **value)
        return usage_error(fmt::format("invalid {}{} {}: expected a whole number", family, suffix, number(**value)));
  }
  if (f.kind == "step") s.kind = ScheduleKind::step;
  else if (f.kind == "line") s.kind = ScheduleKind::line;
  else return usage_error(fmt::format("invalid {} '{}': expected const, step or line", kind_flag, f.kind));

  if (!f.start) return usage_error(fmt::format("{} {} needs {}-start (the {} to begin with)", kind_flag, f.kind, family, noun));
  if (!std::isfinite(*f.start) || too_low(*f.start))
    return usage_error(fmt::format("invalid {}-start {}: {}", family, number(*f.start), floor_text));
  s.start = *f.start;
  if (!f.step || *f.step == 0 || !std::isfinite(*f.step))
    return usage_error(fmt::format("{} {} needs a non-zero {}-step (the change {})", kind_flag, f.kind, family,
                                   s.kind == ScheduleKind::line ? "each second" : "at each step"));
  s.step = *f.step;
  if (s.kind == ScheduleKind::step) {
    if (!f.step_duration || *f.step_duration <= Duration::zero())
      return usage_error(fmt::format("{} step needs {}-step-duration (how long each step lasts)", kind_flag, family));
    s.step_duration = *f.step_duration;
  } else {
    if (f.step_duration)
      return usage_error(fmt::format("{}-step-duration applies to {} step ({} line changes every second)", family,
                                     kind_flag, kind_flag));
    s.step_duration = std::chrono::seconds(1);
  }
  if (f.max_duration) s.max_duration = *f.max_duration;
  if (f.end) {
    if (!std::isfinite(*f.end) || too_low(*f.end))
      return usage_error(fmt::format("invalid {}-end {}: {}", family, number(*f.end), floor_text));
    if (*f.end == s.start)
      return usage_error(fmt::format("{}-end equals {}-start: nothing changes", family, family),
                         fmt::format("use {} const for a constant {}", kind_flag, noun));
    if ((*f.end > s.start) != (s.step > 0))
      return usage_error(fmt::format("{}-step {} moves away from {}-end {}", family, number(s.step), family, number(*f.end)));
    s.end = *f.end;
  } else if (s.step < 0) {
    if (s.max_duration == Duration::zero())
      return usage_error(fmt::format("a decreasing {} needs {}-end or {}-max-duration: the {} would fall to 0", kind_flag,
                                     family, family, noun));
    const double last = schedule_value(s, s.max_duration);
    if (too_low(last))
      return usage_error(fmt::format("{} {} reaches {} within {}-max-duration {}: {}", kind_flag, f.kind, number(last),
                                     family, format_duration(s.max_duration), floor_text),
                         fmt::format("give {}-end, or a shorter {}-max-duration", family, family));
  }
  return s;
}

double schedule_value(const Schedule& s, Duration t) {
  if (s.kind == ScheduleKind::constant) return s.start;
  if (t < Duration::zero()) t = Duration::zero();
  if (s.max_duration > Duration::zero() && t >= s.max_duration) {
    if (s.end) return *s.end;
    t = s.max_duration;
  }
  const auto n = static_cast<double>(t.count() / s.step_duration.count());
  return clamp_to_end(s, s.start + s.step * n);
}

std::optional<Duration> next_change(const Schedule& s, Duration t) {
  if (s.kind == ScheduleKind::constant) return std::nullopt;
  if (t < Duration::zero()) return Duration::zero();
  const auto stop = stop_time(s);
  if (stop && t >= *stop) return std::nullopt;
  const int64_t sd = s.step_duration.count();
  const int64_t n = t.count() / sd + 1;
  Duration next = n > k_max_duration.count() / sd ? k_max_duration : Duration(n * sd);
  if (stop && *stop < next) next = *stop;
  return next;
}

double schedule_peak(const Schedule& s) {
  if (s.kind == ScheduleKind::constant || s.step < 0) return s.start;
  if (s.end) return *s.end;
  if (s.max_duration > Duration::zero()) return schedule_value(s, s.max_duration);
  return k_inf;
}

std::string describe_schedule(const Schedule& s) {
  if (s.kind == ScheduleKind::constant) return fmt::format("const {}", number(s.start));
  std::string out = fmt::format("{} from {}", schedule_kind_name(s.kind), number(s.start));
  if (s.end) out += fmt::format(" to {}", number(*s.end));
  if (s.kind == ScheduleKind::step)
    out += fmt::format(" by {} every {}", number(s.step), format_duration(s.step_duration));
  else
    out += fmt::format(" by {} a second", number(s.step));
  if (s.max_duration > Duration::zero()) out += fmt::format(" for at most {}", format_duration(s.max_duration));
  return out;
}

RatePacer::RatePacer(const Schedule& rate, Duration warmup) : m_rate(rate) {
  m_warmup = warmup;
  m_seg_rate = schedule_value(rate, Duration::zero());
  m_lead_calls = seconds(warmup) * m_seg_rate;
  m_seg_end = next_change(rate, Duration::zero());
}

Duration RatePacer::due(uint64_t k) {
  const double calls = static_cast<double>(k);
  if (calls < m_lead_calls) return duration_from_ms(calls / m_seg_rate * 1e3) - m_warmup;
  const double kk = calls - m_lead_calls;
  // Walk to the step in which the integral of the rate reaches kk.
  while (m_seg_end && kk >= m_seg_start_calls + m_seg_rate * seconds(*m_seg_end - m_seg_start)) {
    m_seg_start_calls += m_seg_rate * seconds(*m_seg_end - m_seg_start);
    m_seg_start = *m_seg_end;
    m_seg_rate = schedule_value(m_rate, m_seg_start);
    m_seg_end = next_change(m_rate, m_seg_start);
  }
  return m_seg_start + duration_from_ms((kk - m_seg_start_calls) / m_seg_rate * 1e3);
}

}  // namespace grpcdx::load
