// The stall monitor: a small thread that ticks a StallDetector while a call runs, checks the
// transport when the stream goes quiet, and reports (and optionally cancels) a stalled call.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <grpcpp/channel.h>

#include "rpc/invoker.hpp"
#include "stream/stall_detector.hpp"

namespace grpcdx::stream {

// What a quiet transport said when asked (a tiny RPC on the same channel, sent when the stream
// has been quiet for half the stall timeout).
enum class TransportCheck {
  not_run,       // the stall came before a check could start (e.g. a timeout under 2 ticks)
  pending,       // asked, no answer yet
  alive,         // the peer answered: the connection works, only this stream is quiet
  unresponsive,  // no answer in time, or the transport failed: the connection itself is gone
};

// "not_run", "pending", "alive" or "unresponsive".
std::string_view transport_check_name(TransportCheck check);

// A stall with what the channel looked like at that moment.
struct StallEvent {
  Stall stall;
  std::string channel_state;  // IDLE, CONNECTING, READY, TRANSIENT_FAILURE or SHUTDOWN
  TransportCheck transport = TransportCheck::not_run;
};

// The name of a channel connectivity state, as in StallEvent::channel_state.
std::string channel_state_name(int state);

struct StallMonitorOptions {
  bool cancel_on_stall = true;  // --on-stall fail: cancel the call at the first stall
  // The method the transport check calls; any answer, even UNIMPLEMENTED, proves the peer alive.
  std::string check_method = "/grpc.health.v1.Health/Check";
};

// Wraps the sink's callbacks so that `detector` sees every send, completed send, received message
// and wait for input, then calls what the sink already did. `detector` must outlive the call.
void observe_progress(rpc::CallSink& sink, StallDetector& detector);

// Runs as the rpc::CallMonitor of one call. `report` is called (from the monitor thread) once
// per stall. The detector and channel must outlive the call.
class StallMonitor {
 public:
  StallMonitor(StallDetector& detector, std::shared_ptr<grpc::Channel> channel,
               StallMonitorOptions options, std::function<void(const StallEvent&)> report);

  // The monitor loop; returns soon after `ended` becomes true (or at once after cancelling).
  void run(const std::function<void()>& cancel, const std::atomic<bool>& ended);

  // The first stall seen, if any.
  std::optional<StallEvent> first_stall() const;

 private:
  StallDetector& m_detector;
  std::shared_ptr<grpc::Channel> m_channel;
  StallMonitorOptions m_options;
  std::function<void(const StallEvent&)> m_report;
  mutable std::mutex m_mutex;
  std::optional<StallEvent> m_first;
};

}  // namespace grpcdx::stream
