// The per-second recorder: a shard's ring of open seconds and the closing of a second into a point.
#include "load/series.hpp"

namespace grpcdx::load {

void SecondRing::record(Duration at, uint64_t latency_ns, bool failed) {
  const int64_t second = second_of(at < Duration::zero() ? Duration::zero() : at);
  if (second < m_closed_before) {
    ++m_late;
    return;
  }
  Open& open = m_open[static_cast<size_t>(second % k_open)];
  if (open.second > second) {
    ++m_lost;  // its slot already holds a later second: this one was lost before
    return;
  }
  if (open.second != second) {
    if (open.second >= 0) {
      // The slot still holds a second nobody closed: the closer fell behind.
      m_lost += open.latency.count();
      open.latency.reset();
      open.errors = 0;
    }
    open.second = second;
  }
  open.latency.record(latency_ns);
  if (failed) ++open.errors;
}

void SecondRing::take(int64_t second, Histogram& latency, uint64_t& errors) {
  if (second >= m_closed_before) m_closed_before = second + 1;
  Open& open = m_open[static_cast<size_t>(second % k_open)];
  if (open.second != second) return;
  latency.merge(open.latency);
  errors += open.errors;
  open.latency.reset();
  open.errors = 0;
  open.second = -1;
}

SeriesPoint close_second(int64_t second, const Histogram& latency, uint64_t errors) {
  SeriesPoint point;
  point.second = second;
  point.calls = latency.count();
  point.errors = errors;
  point.p50_ns = latency.percentile(0.50);
  point.p99_ns = latency.percentile(0.99);
  return point;
}

}  // namespace grpcdx::load
