// The stall monitor loop and its transport check.
#include "stream/stall_monitor.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>

namespace grpcdx::stream {

namespace {

// One transport check in flight. Shared with gRPC's completion callback, which may run after the
// monitor has stopped waiting for it.
struct Probe {
  grpc::ClientContext ctx;
  grpc::ByteBuffer request, response;
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
};

std::shared_ptr<Probe> start_probe(grpc::Channel& channel, const std::string& method,
                                   Duration deadline) {
  auto probe = std::make_shared<Probe>();
  probe->ctx.set_deadline(
      std::chrono::system_clock::now() +
      std::chrono::duration_cast<std::chrono::system_clock::duration>(deadline));
  grpc::Slice empty("");
  probe->request = grpc::ByteBuffer(&empty, 1);
  grpc::GenericStub stub(channel.shared_from_this());
  stub.UnaryCall(&probe->ctx, method, grpc::StubOptions(), &probe->request, &probe->response,
                 [probe](grpc::Status status) {
                   std::lock_guard lock(probe->mutex);
                   probe->status = std::move(status);
                   probe->done = true;
                   probe->cv.notify_all();
                 });
  return probe;
}

TransportCheck probe_result(const std::shared_ptr<Probe>& probe) {
  if (!probe) return TransportCheck::not_run;
  std::lock_guard lock(probe->mutex);
  if (!probe->done) return TransportCheck::pending;
  auto code = probe->status.error_code();
  bool dead = code == grpc::StatusCode::DEADLINE_EXCEEDED || code == grpc::StatusCode::UNAVAILABLE;
  return dead ? TransportCheck::unresponsive : TransportCheck::alive;
}

void finish_probe(const std::shared_ptr<Probe>& probe) {
  if (!probe) return;
  probe->ctx.TryCancel();
  std::unique_lock lock(probe->mutex);
  probe->cv.wait(lock, [&] { return probe->done; });
}

}  // namespace

std::string_view transport_check_name(TransportCheck check) {
  switch (check) {
    case TransportCheck::not_run:
      return "not_run";
    case TransportCheck::pending:
      return "pending";
    case TransportCheck::alive:
      return "alive";
    case TransportCheck::unresponsive:
      return "unresponsive";
  }
  return "not_run";
}

std::string channel_state_name(int state) {
  switch (state) {
    case GRPC_CHANNEL_IDLE:
      return "IDLE";
    case GRPC_CHANNEL_CONNECTING:
      return "CONNECTING";
    case GRPC_CHANNEL_READY:
      return "READY";
    case GRPC_CHANNEL_TRANSIENT_FAILURE:
      return "TRANSIENT_FAILURE";
    case GRPC_CHANNEL_SHUTDOWN:
      return "SHUTDOWN";
  }
  return "UNKNOWN";
}

void observe_progress(rpc::CallSink& sink, StallDetector& detector) {
  auto on_message = std::move(sink.on_message);
  sink.on_message = [&detector, on_message](const std::string& bytes) {
    detector.received();
    return on_message ? on_message(bytes) : true;
  };
  auto on_sent = std::move(sink.on_sent);
  sink.on_sent = [&detector, on_sent] {
    detector.send_finished(true);
    if (on_sent) on_sent();
  };
  auto on_send_started = std::move(sink.on_send_started);
  sink.on_send_started = [&detector, on_send_started](const std::string& bytes) {
    if (on_send_started) on_send_started(bytes);
    detector.send_started();
  };
  auto on_send_failed = std::move(sink.on_send_failed);
  sink.on_send_failed = [&detector, on_send_failed] {
    detector.send_finished(false);
    if (on_send_failed) on_send_failed();
  };
  auto on_input_wait = std::move(sink.on_input_wait);
  sink.on_input_wait = [&detector, on_input_wait](bool waiting) {
    if (waiting)
      detector.input_wait_begin();
    else
      detector.input_wait_end();
    if (on_input_wait) on_input_wait(waiting);
  };
}

StallMonitor::StallMonitor(StallDetector& detector, std::shared_ptr<grpc::Channel> channel,
                           StallMonitorOptions options,
                           std::function<void(const StallEvent&)> report)
    : m_detector(detector),
      m_channel(std::move(channel)),
      m_options(std::move(options)),
      m_report(std::move(report)) {}

void StallMonitor::run(const std::function<void()>& cancel, const std::atomic<bool>& ended) {
  std::shared_ptr<Probe> probe;
  const Duration tick = m_detector.tick();
  while (!ended) {
    std::this_thread::sleep_for(tick);
    if (ended) break;
    if (m_detector.transport_check_due()) {
      if (probe) finish_probe(probe);  // an older check of an earlier quiet spell
      // Answered or given up on well before the stall would be reported.
      probe = start_probe(
          *m_channel, m_options.check_method,
          std::max<Duration>(m_detector.timeout() * 2 / 5, std::chrono::milliseconds(1)));
    }
    auto stall = m_detector.check();
    if (!stall) continue;
    StallEvent event{*stall, channel_state_name(m_channel->GetState(false)), probe_result(probe), std::nullopt};
    // Asked before any cancel, so the server still holds the stalled stream as it was.
    if (m_options.server_view) event.server_view = m_options.server_view(*stall);
    {
      std::lock_guard lock(m_mutex);
      if (!m_first) m_first = event;
    }
    if (m_report) m_report(event);
    if (m_options.cancel_on_stall) {
      m_detector.ended();
      cancel();
      break;
    }
  }
  finish_probe(probe);
}

std::optional<StallEvent> StallMonitor::first_stall() const {
  std::lock_guard lock(m_mutex);
  return m_first;
}

}  // namespace grpcdx::stream
