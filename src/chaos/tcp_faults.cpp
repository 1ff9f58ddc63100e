// Combination of a connection's --tcp faults, the latency clock and the token bucket.
#include "chaos/tcp_faults.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace grpcdx::chaos {

namespace {

bool covers_up(Direction d) { return d != Direction::down; }
bool covers_down(Direction d) { return d != Direction::up; }

void apply(FlowFaults& f, const FaultAction& a) {
  switch (a.kind) {
    case FaultKind::latency:
      f.latency += a.delay;
      f.jitter += a.jitter;
      // Several jittered latencies: one engine is enough; mix the seeds so each fault counts.
      f.jitter_seed = f.jitter_seed * 6364136223846793005ULL + a.jitter_seed;
      break;
    case FaultKind::bandwidth:
      if (f.rate == 0 || a.rate < f.rate) f.rate = a.rate;
      break;
    case FaultKind::slice:
      if (f.slice_bytes == 0 || a.slice_bytes < f.slice_bytes) {
        f.slice_bytes = a.slice_bytes;
        f.slice_delay = a.delay;
      }
      break;
    case FaultKind::blackhole: f.blackhole = true; break;
    case FaultKind::slow_close: f.slow_close = std::max(f.slow_close, a.delay); break;
    default: break;
  }
}

}  // namespace

bool ConnectionFaults::reset_at_accept() const {
  return std::any_of(resets.begin(), resets.end(), [](const ResetFault& r) { return r.after == 0 && !r.clean; });
}

bool ConnectionFaults::limit_is_clean(uint64_t forwarded_up, uint64_t forwarded_down) const {
  bool any = false;
  for (const auto& r : resets) {
    uint64_t counted = (r.counts_up ? forwarded_up : 0) + (r.counts_down ? forwarded_down : 0);
    if (counted < r.after) continue;
    if (!r.clean) return false;
    any = true;
  }
  return any;
}

uint64_t ConnectionFaults::bytes_before_reset(bool up_direction, uint64_t forwarded_up,
                                              uint64_t forwarded_down) const {
  uint64_t left = std::numeric_limits<uint64_t>::max();
  for (const auto& r : resets) {
    if (up_direction ? !r.counts_up : !r.counts_down) continue;
    uint64_t counted = (r.counts_up ? forwarded_up : 0) + (r.counts_down ? forwarded_down : 0);
    left = std::min(left, r.after > counted ? r.after - counted : 0);
  }
  return left;
}

ConnectionFaults combine_tcp_faults(const std::vector<FaultAction>& actions) {
  ConnectionFaults c;
  for (const auto& a : actions) {
    auto earliest = [](std::optional<Duration>& slot, Duration after) {
      if (!slot || after < *slot) slot = after;
    };
    if (a.kind == FaultKind::reset) {
      if (a.after_duration)
        earliest(c.reset_after, *a.after_duration);
      else
        c.resets.push_back(ResetFault{a.after_bytes, covers_up(a.dir), covers_down(a.dir), false});
      continue;
    }
    if (a.kind == FaultKind::close) {
      if (a.after_bytes > 0)
        c.resets.push_back(ResetFault{a.after_bytes, true, true, true});
      else
        earliest(c.close_after, a.after_duration.value_or(Duration(0)));
      continue;
    }
    if (a.kind == FaultKind::blackhole && a.after_duration) {
      earliest(c.blackhole_after, *a.after_duration);
      continue;
    }
    if (covers_up(a.dir)) apply(c.up, a);
    if (covers_down(a.dir)) apply(c.down, a);
  }
  return c;
}

LatencyClock::LatencyClock(Duration latency, Duration jitter, uint64_t seed)
    : m_latency(latency), m_jitter(jitter), m_engine(seed) {}

TcpTime LatencyClock::release_time(TcpTime arrival) {
  Duration d = m_latency;
  if (m_jitter.count() > 0) {
    double u = std::uniform_real_distribution<double>(-1.0, 1.0)(m_engine);
    d += Duration(static_cast<Duration::rep>(u * static_cast<double>(m_jitter.count())));
    if (d.count() < 0) d = Duration(0);
  }
  TcpTime t = std::max(arrival + std::chrono::duration_cast<TcpClock::duration>(d), m_last);
  m_last = t;
  return t;
}

TokenBucket::TokenBucket(uint64_t rate, TcpTime now)
    : m_rate(static_cast<double>(rate)),
      m_burst(std::clamp<uint64_t>(rate / 50, 1, 1024 * 1024)),
      m_tokens(static_cast<double>(m_burst)),
      m_last(now) {}

void TokenBucket::refill(TcpTime now) {
  if (now <= m_last) return;
  double seconds = std::chrono::duration<double>(now - m_last).count();
  m_tokens = std::min(static_cast<double>(m_burst), m_tokens + seconds * m_rate);
  m_last = now;
}

uint64_t TokenBucket::available(TcpTime now) {
  refill(now);
  return static_cast<uint64_t>(std::floor(m_tokens));
}

void TokenBucket::consume(uint64_t bytes) { m_tokens -= static_cast<double>(bytes); }

TcpTime TokenBucket::ready_at(uint64_t wanted, TcpTime now) const {
  double need = static_cast<double>(std::clamp<uint64_t>(wanted, 1, m_burst));
  // m_tokens is as of m_last (available() refilled it up to `now` when called with it).
  double missing = need - m_tokens;
  TcpTime base = std::max(now, m_last);
  if (missing <= 0) return base + std::chrono::microseconds(1);
  auto wait = std::chrono::duration_cast<TcpClock::duration>(std::chrono::duration<double>(missing / m_rate));
  return base + std::max<TcpClock::duration>(wait, std::chrono::microseconds(1));
}

}  // namespace grpcdx::chaos
