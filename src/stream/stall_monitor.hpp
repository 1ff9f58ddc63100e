// The stall monitor: a small thread that ticks a StallDetector while a call runs, checks the
// transport when the stream goes quiet, and reports (and optionally cancels) a stalled call.
#pragma once

#include <atomic>
#include <cstdint>
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

// The server's own view of the stalled call's connection: its channelz socket at the moment of
// the stall. "Local" is the server's side: local_flow_control_window is what the client lets the
// server send, remote_flow_control_window what the server lets the client send. Counts are the
// whole connection's (every stream on it).
struct ServerSocketView {
  int64_t socket_id = 0;
  std::optional<int64_t> local_flow_control_window;   // unset: the server does not report it
  std::optional<int64_t> remote_flow_control_window;
  int64_t messages_sent = 0;
  int64_t messages_received = 0;
  std::optional<double> last_message_sent_ms_ago;      // unset: never (or not reported)
  std::optional<double> last_message_received_ms_ago;
  // The messages this process received on the same connection (its own channelz socket), to
  // compare with messages_sent; unset when unknown.
  std::optional<int64_t> client_messages_received;
};

// A stall with what the channel looked like at that moment.
struct StallEvent {
  Stall stall;
  std::string channel_state;  // IDLE, CONNECTING, READY, TRANSIENT_FAILURE or SHUTDOWN
  TransportCheck transport = TransportCheck::not_run;
  std::optional<ServerSocketView> server_view;  // when the server offers channelz
};

// Asks the server for its view of the stalled connection; nullopt when it cannot say (no
// channelz, the socket not found, too slow). Called on the monitor thread, before a cancel.
using ServerViewFn = std::function<std::optional<ServerSocketView>(const Stall&)>;

// The name of a channel connectivity state, as in StallEvent::channel_state.
std::string channel_state_name(int state);

struct StallMonitorOptions {
  bool cancel_on_stall = true;  // --on-stall fail: cancel the call at the first stall
  // The method the transport check calls; any answer, even UNIMPLEMENTED, proves the peer alive.
  std::string check_method = "/grpc.health.v1.Health/Check";
  ServerViewFn server_view;  // empty: stall reports carry no server view
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
