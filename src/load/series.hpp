// A run's figures second by second, with memory bounded per open second: each shard keeps a small
// ring of open seconds (a histogram each); the run's thread closes a second into one small point
// (calls, errors, p50, p99) once the clock is past it by a grace period, so the series grows by
// one point a second and nothing else grows.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "core/duration.hpp"
#include "load/histogram.hpp"

namespace grpcdx::load {

// One closed second: the calls that ended in [second, second + 1) s after the measured part began.
struct SeriesPoint {
  int64_t second = 0;
  uint64_t calls = 0;
  uint64_t errors = 0;   // calls that did not end OK
  uint64_t p50_ns = 0;   // latency percentiles of those calls (0 when there were none)
  uint64_t p99_ns = 0;
};

// The second a time falls in (t >= 0).
inline int64_t second_of(Duration t) { return t.count() / 1'000'000'000; }

// How long after a second ends it is closed: calls recorded later than this after they ended
// (a thread stalled between the call's end and its recording) count in the run's totals but not
// in the series.
inline constexpr Duration k_series_grace = std::chrono::seconds(1);

// A last second shorter than this (the tail of the calls in flight when issuing stopped) is
// folded into the second before it, so the series does not end in a sliver with a meaningless rate.
inline constexpr Duration k_series_sliver = std::chrono::milliseconds(250);

// The seconds that may be closed at `elapsed` after the measured part began: every second < the
// result.
inline int64_t closable_before(Duration elapsed) {
  return elapsed < k_series_grace ? 0 : second_of(elapsed - k_series_grace);
}

// One shard's open seconds. Not thread-safe: the shard's mutex guards it.
class SecondRing {
 public:
  static constexpr int k_open = 4;  // seconds open at once: the current, the grace, and slack

  // Records a call that ended `at` (>= 0) after the measured part began.
  void record(Duration at, uint64_t latency_ns, bool failed);

  // Adds second `second`'s calls to `latency` and `errors` and forgets them; from then on the
  // seconds up to it count as closed.
  void take(int64_t second, Histogram& latency, uint64_t& errors);

  // Calls recorded after their second was closed (left out of the series).
  uint64_t late() const { return m_late; }
  // Calls of a second whose slot another second needed before it was closed (the run's thread
  // fell more than k_open seconds behind; left out of the series).
  uint64_t lost() const { return m_lost; }

 private:
  struct Open {
    int64_t second = -1;  // -1: free
    Histogram latency;
    uint64_t errors = 0;
  };
  std::array<Open, k_open> m_open;
  int64_t m_closed_before = 0;
  uint64_t m_late = 0;
  uint64_t m_lost = 0;
};

// The point of second `second` from the figures taken out of every shard.
SeriesPoint close_second(int64_t second, const Histogram& latency, uint64_t errors);

}  // namespace grpcdx::load
