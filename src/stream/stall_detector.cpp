// The stall detector: progress bookkeeping and the stall decision.
#include "stream/stall_detector.hpp"

#include <algorithm>

namespace grpcdx::stream {

std::string_view stall_kind_name(StallKind kind) {
  return kind == StallKind::send_blocked ? "send_blocked" : "recv_idle";
}

StallDetector::StallDetector(Duration timeout, NowFn now)
    : m_timeout(timeout), m_now(now ? std::move(now) : NowFn([] { return Clock::now(); })) {
  m_last_progress = m_now();
}

void StallDetector::progress_locked() {
  m_last_progress = m_now();
  m_reported = false;
  m_check_started = false;
}

void StallDetector::send_started() {
  std::lock_guard lock(m_mutex);
  m_send_pending = true;
}

void StallDetector::send_finished(bool ok) {
  std::lock_guard lock(m_mutex);
  m_send_pending = false;
  if (ok) {
    ++m_sent;
    progress_locked();
  }
}

void StallDetector::received() {
  std::lock_guard lock(m_mutex);
  ++m_received;
  progress_locked();
}

void StallDetector::input_wait_begin() {
  std::lock_guard lock(m_mutex);
  m_waiting_input = true;
}

void StallDetector::input_wait_end() {
  std::lock_guard lock(m_mutex);
  m_waiting_input = false;
  // The quiet time while we waited on ourselves is not the peer's: start counting again.
  progress_locked();
}

void StallDetector::ended() {
  std::lock_guard lock(m_mutex);
  m_ended = true;
}

Duration StallDetector::idle_locked(Clock::time_point now) const {
  return std::max(Duration::zero(), std::chrono::duration_cast<Duration>(now - m_last_progress));
}

std::optional<Stall> StallDetector::check() {
  std::lock_guard lock(m_mutex);
  if (m_ended || m_reported || m_waiting_input) return std::nullopt;
  Duration idle = idle_locked(m_now());
  if (idle < m_timeout) return std::nullopt;
  m_reported = true;
  // A pending send started at the last progress (sends follow each other), so it has waited
  // about as long as the whole quiet spell.
  return Stall{m_send_pending ? StallKind::send_blocked : StallKind::recv_idle, idle, m_sent,
               m_received};
}

bool StallDetector::transport_check_due() {
  std::lock_guard lock(m_mutex);
  if (m_ended || m_check_started || m_waiting_input) return false;
  if (idle_locked(m_now()) * 2 < m_timeout) return false;
  m_check_started = true;
  return true;
}

Duration StallDetector::tick() const {
  Duration t = std::min<Duration>(m_timeout / 20, std::chrono::milliseconds(50));
  return std::max<Duration>(t, std::chrono::milliseconds(1));
}

int StallDetector::sent() const {
  std::lock_guard lock(m_mutex);
  return m_sent;
}

int StallDetector::received_count() const {
  std::lock_guard lock(m_mutex);
  return m_received;
}

}  // namespace grpcdx::stream
