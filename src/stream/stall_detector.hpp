// The stall detector shared by `call` and `replay`: decides, from progress events and an
// injectable clock, when a stream has stalled and whether the stall is a blocked send or a
// silent peer. Pure logic: it never sleeps, never touches gRPC and is safe to use from several
// threads.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>

#include "core/duration.hpp"

namespace grpcdx::stream {

using Clock = std::chrono::steady_clock;
// Where the detector reads the time; tests pass a fake one.
using NowFn = std::function<Clock::time_point()>;

enum class StallKind {
  recv_idle,     // nothing arrived for the timeout while the call is open
  send_blocked,  // a send has been pending for the timeout (the peer is not reading)
};

// "recv_idle" or "send_blocked", as in the JSON events.
std::string_view stall_kind_name(StallKind kind);

// A stall as the detector saw it, with the counts at that moment.
struct Stall {
  StallKind kind = StallKind::recv_idle;
  Duration idle{};   // time since the last progress
  int sent = 0;      // request messages whose send completed
  int received = 0;  // response messages received
};

// Progress is a message received or a pending send completing; no progress for `timeout` is a
// stall. Each stall is reported once; progress starts a new watch. Time spent waiting for our own
// input (pacing, standard input) is not counted against the peer.
class StallDetector {
 public:
  // `timeout` must be positive. `now` defaults to the steady clock.
  explicit StallDetector(Duration timeout, NowFn now = {});

  void send_started();          // StartWrite was called
  void send_finished(bool ok);  // OnWriteDone; ok=false means the call is ending
  void received();              // a response message arrived
  void input_wait_begin();      // the writer waits for its next request (pacing, stdin)
  void input_wait_end();        // ... and has it (or the input ended)
  void ended();                 // the call is over: no stall is reported after this

  // A stall the first time no progress has been seen for the timeout since the last progress;
  // nullopt otherwise (and again for the same stall).
  std::optional<Stall> check();

  // True once per quiet spell, when half the timeout has passed without progress: the moment to
  // start a transport check so its answer is known by the time a stall would be reported.
  bool transport_check_due();

  // How often a monitor should call check(): min(timeout / 20, 50ms), at least 1ms, so a stall is
  // reported well within the timeout + 10%.
  Duration tick() const;

  Duration timeout() const { return m_timeout; }
  int sent() const;
  int received_count() const;

 private:
  void progress_locked();
  Duration idle_locked(Clock::time_point now) const;

  Duration m_timeout;
  NowFn m_now;
  mutable std::mutex m_mutex;
  Clock::time_point m_last_progress;
  bool m_send_pending = false;
  bool m_waiting_input = false;
  bool m_ended = false;
  bool m_reported = false;       // this quiet spell's stall was reported
  bool m_check_started = false;  // this quiet spell's transport check was asked for
  int m_sent = 0;
  int m_received = 0;
};

}  // namespace grpcdx::stream
