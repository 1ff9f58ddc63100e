// The L7 proxy: one ProxyCall per downstream call, pairing an async generic server call with an
// async generic upstream call on the same completion queue, driven by one loop thread. Each
// direction holds at most two messages (the one being written on the other side and the next
// one read), so HTTP/2 flow control holds end to end while reading and writing overlap.
//
// Coalescing: a call without a stream fault holds back what it would send (the upstream call's
// start, the response headers, a response) until its loop's queue has no more events ready, or
// until it can send it together with what follows: the request with the client's half-close
// and the upstream headers in one upstream batch, a response with the headers and the status in
// one downstream batch. What arrives together leaves together (a unary call costs 9 batches
// instead of 13); what arrives alone leaves as soon as the loop is idle, so nothing waits for a
// later event (docs/performance.md).
#include "chaos/proxy.hpp"

#include <algorithm>
#include <array>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <grpcpp/alarm.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include "chaos/plan.hpp"
#include "codec/status_details.hpp"
#include "server/server.hpp"

namespace grpcdx::chaos {

namespace {

// Loop threads (each a completion queue and the thread draining it). One thread handles every
// event of a call without hand-offs; measured in docs/performance.md.
constexpr int k_loops = 1;

// When its queue never runs dry under load, a loop sends what its calls hold back at the latest
// after this many events per open call (at least k_flush_min): a few passes over the queue, in
// which a call's own events that were already under way come back (its response and status
// come two completions apart). At 2, a third of the responses at -c 50 still left before their
// status, in a write of their own (docs/performance.md).
constexpr size_t k_flush_per_call = 4;
constexpr size_t k_flush_min = 16;

// How close to its deadline a client's cancellation counts as the deadline firing.
constexpr std::chrono::milliseconds k_deadline_slack{100};

// Keys never copied from one hop to the next: HTTP/2 pseudo-headers, hop-by-hop headers, and
// what gRPC itself writes (grpc-timeout, grpc-encoding, ..., user-agent, content-type).
bool is_hop_key(std::string_view key) {
  static const std::set<std::string_view> k_hop = {
      "connection", "keep-alive", "proxy-connection", "te", "transfer-encoding", "upgrade", "host",
      "content-type", "user-agent", "content-length"};
  return key.empty() || key.front() == ':' || key.starts_with("grpc-") || k_hop.contains(key);
}

std::string to_string(grpc::string_ref s) { return std::string(s.data(), s.size()); }

Result<std::string> read_pem(const std::string& path, const std::string& what) {
  TRY(auto text, net::read_file(path, what));
  if (text.empty()) return local_error(fmt::format("cannot read {} '{}': the file is empty", what, path));
  return text;
}

}  // namespace

class ProxyCall;

// One loop thread: its completion queue carries the server side and the upstream side of every
// call it accepted, so each call's events run one after another on one thread, with no locking
// and no hand-off between threads.
struct ProxyLoop {
  std::unique_ptr<grpc::ServerCompletionQueue> cq;
  std::thread thread;
  grpc::Alarm shutdown_alarm;      // stop(): ends the calls still open (see ProxyCall::shut_down)
  // The started calls of this loop, linked through the calls themselves (no allocation per call);
  // touched by its thread only.
  ProxyCall* calls = nullptr;
  size_t call_count = 0;
  std::vector<ProxyCall*> flush;   // calls holding something back until the queue is idle
  std::vector<ProxyCall*> flushing;  // the calls being flushed; kept, so neither list reallocates
};

// What every call shares: the injector, the upstream stub, the loops, the set of open calls.
class ProxyCore final {
 public:
  ProxyCore(const ProxyOptions& o, std::shared_ptr<grpc::Channel> channel)
      : injector(InjectorOptions{o.faults, o.rules, o.header_faults, o.max_active}, std::make_unique<SeededRandom>(o.seed)),
        upstream(o.upstream),
        header_faults(o.header_faults),
        channel(std::move(channel)),
        stub(this->channel) {}

  // Waits for a new call on `loop` (one such request is always pending per loop while running).
  void request_call(ProxyLoop& loop);
  // Runs a loop until its queue is shut down and drained.
  void run(ProxyLoop& loop);

  // Called by a started call when it is completely done; wakes stop().
  void forget() {
    std::lock_guard lock(mutex);
    if (--active == 0) idle.notify_all();
  }

  Injector injector;
  net::ConnectionOptions upstream;
  bool header_faults;
  std::shared_ptr<grpc::Channel> channel;
  grpc::GenericStub stub;
  grpc::AsyncGenericService service;
  std::unique_ptr<grpc::Server> server;
  std::vector<std::unique_ptr<ProxyLoop>> loops;

  std::mutex mutex;
  std::condition_variable idle;
  size_t active = 0;            // calls started and not yet done; guarded by mutex
  bool stopping = false;        // guarded by mutex
};

// The events of a call; each tag is one of these, and each kind has at most one operation
// outstanding at a time.
enum class Event {
  requested, done, delay, cancel_timer,              // the call arrived; it ended; timers
  down_read, down_write, down_finish,                // downstream: the client's side
  up_start, up_headers, up_read, up_write, up_writes_done, up_finish,  // upstream
  flush,                                             // the loop is idle: send what was held back
  loop_shutdown                                      // ProxyLoop::shutdown_alarm (no call)
};

struct Tag {
  ProxyCall* call;
  Event event;
};

class ProxyCall final {
 public:
  ProxyCall(ProxyCore& core, ProxyLoop& loop) : m_core(core), m_loop(loop), m_down(&m_ctx) {}

  void request() {
    ++m_pending;
    m_ctx.AsyncNotifyWhenDone(tag(Event::done));
    m_core.service.RequestCall(&m_ctx, &m_down, m_loop.cq.get(), m_loop.cq.get(), tag(Event::requested));
  }

  // Runs one event of this call; the call frees itself after its last one.
  void on_event(Event event, bool ok) {
    switch (event) {
      case Event::requested: on_requested(ok); break;
      case Event::done: on_done(); break;
      case Event::delay:
        if (ok && !m_finished && !m_cancelled) after_delay();
        break;
      case Event::cancel_timer:
        if (ok && !m_finished) inject_cancel();
        break;
      case Event::down_read: on_down_read(ok); break;
      case Event::down_write: on_down_write(ok); break;
      case Event::down_finish: break;
      case Event::up_start:  // the start used the write slot (the headers go in a write batch)
        m_up_write_pending = false;
        if (ok && can_forward()) forward_request();
        break;
      case Event::up_headers: on_up_headers(ok); break;
      case Event::up_read: on_up_read(ok); break;
      case Event::up_write: on_up_write(ok); break;
      case Event::up_writes_done: break;
      case Event::up_finish: on_up_finish(); break;
      case Event::flush: on_flush(); break;
      case Event::loop_shutdown: break;
    }
    if (--m_pending == 0) destroy();
  }

  ProxyCall* next() const { return m_next; }

  // Ends the call with UNAVAILABLE because the proxy stops (on the loop's thread).
  void shut_down() {
    if (m_delay_alarm) m_delay_alarm->Cancel();
    if (m_cancel_alarm) m_cancel_alarm->Cancel();
    finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, std::string(k_shutting_down)));
  }

 private:
  static constexpr std::string_view k_shutting_down = "grpcdx chaos is shutting down";

  void* tag(Event event) {
    auto& t = m_tags[static_cast<size_t>(event)];
    t = Tag{this, event};
    return &t;
  }

  void on_requested(bool ok) {
    if (!ok) return;  // the server is shutting down; no done event follows a call never started
    ++m_pending;      // the done event
    m_started = true;
    bool stopping;
    {
      std::lock_guard lock(m_core.mutex);
      stopping = m_core.stopping;
      ++m_core.active;
    }
    link();
    // The next call of this loop; while stopping too, so late calls get UNAVAILABLE at once (a
    // request made after the server shut down fails at once, and is freed then).
    (new ProxyCall(m_core, m_loop))->request();
    begin(stopping);
  }

  void begin(bool stopping) {
    const std::string& method = m_ctx.method();
    m_info.method = method.starts_with('/') ? method.substr(1) : method;
    for (const auto& [k, v] : m_ctx.client_metadata()) m_info.metadata.emplace_back(to_string(k), to_string(v));
    if (stopping) {
      m_core.injector.counters().add_call();
      finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, std::string(k_shutting_down)));
      return;
    }
    m_plan = m_core.injector.plan(m_info);
    if (m_plan.bad_request) {
      finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "grpcdx chaos: " + m_plan.bad_request->message));
      return;
    }
    if (m_plan.delay.count() > 0) {
      m_delay_alarm = std::make_unique<grpc::Alarm>();
      ++m_pending;
      m_delay_alarm->Set(m_loop.cq.get(), after(m_plan.delay), tag(Event::delay));
      return;
    }
    after_delay();
  }

  static std::chrono::system_clock::time_point after(Duration d) {
    return std::chrono::system_clock::now() + std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
  }

  void after_delay() {
    if (m_plan.terminal) {
      if (m_plan.terminal->kind == FaultKind::abort) {
        const FaultAction& abort = *m_plan.terminal;
        auto code = static_cast<grpc::StatusCode>(abort.code);
        if (abort.retry_after)  // the details travel in grpc-status-details-bin
          finish(grpc::Status(code, abort.message,
                              codec::encode_retry_info_status(abort.code, abort.message, *abort.retry_after)));
        else
          finish(grpc::Status(code, abort.message));
      }
      return;  // drop: never answer; the client's deadline or cancel ends it (on_done)
    }
    start_upstream();
  }

  void start_upstream() {
    for (const auto& [k, v] : m_info.metadata) {
      if (is_hop_key(k)) continue;
      if (m_core.header_faults && (k == k_header_delay || k == k_header_abort)) continue;
      m_up_ctx.AddMetadata(k, v);
    }
    // -H and --rpc-header, without building a list per call.
    for (const auto* list : {&m_core.upstream.metadata, &m_core.upstream.rpc_metadata})
      for (const auto& m : *list) m_up_ctx.AddMetadata(m.key, m.value);
    auto deadline = m_ctx.deadline();
    if (m_core.upstream.rpc_timeout) deadline = std::min(deadline, after(*m_core.upstream.rpc_timeout));
    if (deadline != std::chrono::system_clock::time_point::max()) m_up_ctx.set_deadline(deadline);
    m_up = m_core.stub.PrepareCall(&m_up_ctx, m_ctx.method(), m_loop.cq.get());
    // A stream fault counts and times what is written one message at a time: no coalescing.
    m_coalesce = !m_plan.stream;
    if (m_coalesce)
      queue_flush();  // the upstream call starts with the first request, or when the loop is idle
    else
      start_up(false, false);
    if (m_plan.stream && m_plan.stream->kind == FaultKind::cancel && m_plan.stream->after_duration) {
      m_cancel_alarm = std::make_unique<grpc::Alarm>();
      ++m_pending;
      m_cancel_alarm->Set(m_loop.cq.get(), after(*m_plan.stream->after_duration), tag(Event::cancel_timer));
    }
    if (apply_stream_fault()) return;
    down_read();
  }

  // Starts the upstream call: with the staged request (in m_request_out) in the same batch as
  // the headers, and the half-close too when `last`; or the headers alone.
  void start_up(bool with_request, bool last) {
    m_up_started = true;
    m_up_write_pending = true;
    ++m_pending;
    if (with_request) {
      m_up_ctx.set_initial_metadata_corked(true);  // the headers wait for the first write
      m_up->StartCall(nullptr);                     // corked: no batch of its own, no event
      grpc::WriteOptions options;
      if (last) {
        options.set_last_message();
        m_sent_writes_done = true;
      }
      m_up->Write(m_request_out, options, tag(Event::up_write));
    } else {
      m_up->StartCall(tag(Event::up_start));  // the start is a write batch of its own
    }
    // Responses are read once the upstream's headers arrived (on_up_headers), so they reach
    // the client after those headers.
    m_up_headers_pending = true;
    ++m_pending;
    m_up->ReadInitialMetadata(tag(Event::up_headers));
  }

  void queue_flush() {
    if (m_flush_queued) return;
    m_flush_queued = true;
    ++m_pending;
    m_loop.flush.push_back(this);
  }

  // The loop ran out of events: start the upstream call and send the client what was held back.
  void on_flush() {
    m_flush_queued = false;
    if (!m_up_started && m_up && can_forward()) {
      start_up(m_request_staged, false);
      m_request_staged = false;
    }
    flush_down();
  }

  // Sends the held-back response (with the headers when they have not gone) or the headers.
  void flush_down() {
    if (m_finished || m_down_write_pending || m_finish_pending) return;
    if (m_response_staged) {
      m_response_staged = false;
      m_headers_ready = false;
      m_down_write_pending = true;
      ++m_pending;
      m_down.Write(m_response_out, tag(Event::down_write));
    } else if (m_headers_ready) {
      m_headers_ready = false;
      m_down_write_pending = true;
      m_headers_sent_alone = true;
      ++m_pending;
      m_down.SendInitialMetadata(tag(Event::down_write));
    }
  }

  // Before the upstream call started: the first request waits in m_request_out while the next
  // read tells whether the client half-closed after it.
  void on_first_requests(bool ok) {
    if (ok && !m_request_staged) {
      m_request_out.Clear();
      m_request_out.Swap(&m_request);
      m_request_staged = true;
      down_read();
      return;
    }
    if (ok) {  // a second request: the first goes now, this one after it
      m_request_ready = true;
      start_up(true, false);
    } else {
      m_down_half_closed = true;
      start_up(m_request_staged, m_request_staged);  // without a request, WritesDone follows the start
    }
    m_request_staged = false;
  }

  // --- downstream: the client's side ---
  void on_down_read(bool ok) {
    m_down_read_pending = false;
    if (!can_forward()) return;
    if (!m_up_started) {
      on_first_requests(ok);
      return;
    }
    if (ok)
      m_request_ready = true;
    else
      m_down_half_closed = true;  // the client half-closed (a cancel shows in on_done)
    forward_request();
    down_read();
  }

  void on_down_write(bool ok) {
    m_down_write_pending = false;
    if (!ok) {  // the client is gone
      abandon_upstream();
      finish(grpc::Status(grpc::StatusCode::CANCELLED, "grpcdx chaos: the client went away"));
      return;
    }
    if (m_headers_sent_alone)
      m_headers_sent_alone = false;  // that was the headers, not a message
    else
      ++m_delivered;
    if (m_finish_pending) {
      finish(*m_finish_pending);
      return;
    }
    if (apply_stream_fault()) return;
    if (!can_forward()) return;
    forward_response();
    up_read();
  }

  void on_done() {
    m_cancelled = m_ctx.IsCancelled();
    int client_code = m_finish_code;
    if (m_cancelled) {
      if (m_delay_alarm) m_delay_alarm->Cancel();
      if (m_cancel_alarm) m_cancel_alarm->Cancel();
      abandon_upstream();
      // The client's deadline fires a little before the proxy's copy of it (which started when
      // the headers arrived), so a cancel close to the deadline is the deadline.
      if (!m_shutdown_status)
        client_code = std::chrono::system_clock::now() + k_deadline_slack >= m_ctx.deadline()
                          ? grpc::StatusCode::DEADLINE_EXCEEDED
                          : grpc::StatusCode::CANCELLED;
      finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client"));
    }
    m_core.injector.counters().add_client_status(client_code);
  }

  // --- upstream ---
  void on_up_headers(bool ok) {
    m_up_headers_pending = false;
    if (!ok) {  // trailers-only answer or a failed call: only the status will come
      m_up_ended = true;
      finish_upstream();
      return;
    }
    if (m_finished || m_finish_pending || m_up_abandoned) {
      finish_upstream();
      return;
    }
    for (const auto& [k, v] : m_up_ctx.GetServerInitialMetadata()) {
      std::string key = to_string(k);
      if (!is_hop_key(key)) m_ctx.AddInitialMetadata(key, to_string(v));
    }
    if (m_coalesce) {  // they go with the first response or the status, or when the loop is idle
      m_headers_ready = true;
      queue_flush();
      up_read();
      return;
    }
    // The headers go now, on their own: a server may send them long before its first message.
    m_down_write_pending = true;
    m_headers_sent_alone = true;
    ++m_pending;
    m_down.SendInitialMetadata(tag(Event::down_write));
    if (!m_stalled) up_read();
  }

  void on_up_read(bool ok) {
    m_up_read_pending = false;
    if (!ok) {  // the upstream stream ended; its status follows
      m_up_ended = true;
      finish_upstream();
      return;
    }
    if (m_finished || m_finish_pending || m_stalled || m_up_abandoned) {
      finish_upstream();
      return;
    }
    m_response_ready = true;
    forward_response();
    up_read();
  }

  void on_up_write(bool ok) {
    m_up_write_pending = false;
    if (!ok || !can_forward()) return;  // a failed write: the upstream call ended
    forward_request();
    down_read();
  }

  void on_up_finish() {
    m_up_done = true;
    m_core.injector.counters().add_upstream_status(m_up_status.error_code());
    if (m_finished || m_finish_pending || m_stalled || m_up_abandoned) return;
    for (const auto& [k, v] : m_up_ctx.GetServerTrailingMetadata()) {
      std::string key = to_string(k);
      if (!is_hop_key(key)) m_ctx.AddTrailingMetadata(key, to_string(v));
    }
    finish(m_up_status);
  }

  bool can_forward() const { return !m_finished && !m_finish_pending && !m_stalled && !m_up_abandoned && !m_up_ended; }

  // Reads the next response unless one is being read or waits for the write slot.
  void up_read() {
    if (!m_up_started || m_up_read_pending || m_up_headers_pending || m_response_ready || m_up_ended || m_up_abandoned) return;
    m_up_read_pending = true;
    ++m_pending;
    m_up->Read(&m_response, tag(Event::up_read));
  }

  // Reads the next request unless one is being read, waits for the write slot, or the client
  // half-closed.
  void down_read() {
    if (m_down_read_pending || m_request_ready || m_down_half_closed || m_finished) return;
    m_down_read_pending = true;
    ++m_pending;
    m_down.Read(&m_request, tag(Event::down_read));
  }

  // Writes the response that was read to the client once the previous write (or the headers)
  // went; the next read fills m_response meanwhile.
  void forward_response() {
    if (!m_response_ready || m_down_write_pending || m_response_staged) return;
    m_response_out.Clear();
    m_response_out.Swap(&m_response);
    m_response_ready = false;
    if (m_coalesce) {  // it goes with the status, or when the loop is idle
      m_response_staged = true;
      queue_flush();
      return;
    }
    m_down_write_pending = true;
    ++m_pending;
    m_down.Write(m_response_out, tag(Event::down_write));
  }

  // Writes the request that was read upstream once the previous write is done; after the last
  // one, passes the client's half-close on.
  void forward_request() {
    if (!m_up_started || m_up_write_pending) return;
    if (m_request_ready) {
      m_request_out.Clear();
      m_request_out.Swap(&m_request);
      m_request_ready = false;
      m_up_write_pending = true;
      ++m_pending;
      m_up->Write(m_request_out, tag(Event::up_write));
      return;
    }
    if (m_down_half_closed && !m_sent_writes_done) {
      m_sent_writes_done = true;
      ++m_pending;
      m_up->WritesDone(tag(Event::up_writes_done));
    }
  }

  // Applies a count-based stream fault once m_delivered responses reached its count. True when
  // the fault took over the call.
  bool apply_stream_fault() {
    if (!m_plan.stream || m_stream_fault_done) return false;
    const FaultAction& a = *m_plan.stream;
    if (a.after_duration || m_delivered < a.after_messages) return false;
    m_stream_fault_done = true;
    switch (a.kind) {
      case FaultKind::cancel: inject_cancel(); return true;
      case FaultKind::reset:
        abandon_upstream();
        m_ctx.TryCancel();  // RST_STREAM to the client
        m_finish_code = grpc::StatusCode::CANCELLED;
        finish(grpc::Status(grpc::StatusCode::CANCELLED, "grpcdx chaos: stream reset"));
        return true;
      case FaultKind::stall: m_stalled = true; return true;
      default: return false;
    }
  }

  void inject_cancel() {
    m_stream_fault_done = true;
    abandon_upstream();
    finish(grpc::Status(grpc::StatusCode::CANCELLED,
                        fmt::format("grpcdx chaos: upstream call cancelled after {} message{} by fault '{}'",
                                    m_delivered, m_delivered == 1 ? "" : "s", m_plan.stream->source)));
  }

  // Cancels the upstream call (if running) and collects its status.
  void abandon_upstream() {
    if (!m_up || m_up_abandoned) return;
    m_up_abandoned = true;
    if (!m_up_done) m_up_ctx.TryCancel();
    finish_upstream();
  }

  // Asks for the upstream status once nothing else of it is outstanding and it ended (or was
  // abandoned): Finish may not overlap the headers' read, and comes after the last message.
  void finish_upstream() {
    if (!m_up_started || m_up_finish_requested || m_up_headers_pending || m_up_read_pending) return;
    if (!m_up_ended && !m_up_abandoned) return;
    m_up_finish_requested = true;
    ++m_pending;
    m_up->Finish(&m_up_status, tag(Event::up_finish));
  }

  // Finishes the downstream call with `status`, once: after a pending write, never twice.
  void finish(const grpc::Status& status) {
    if (m_finished) return;
    if (m_down_write_pending) {
      if (!m_finish_pending) m_finish_pending = status;
      return;
    }
    m_finished = true;
    m_finish_pending.reset();
    abandon_upstream();
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE && status.error_message() == k_shutting_down)
      m_shutdown_status = true;
    if (m_finish_code < 0) m_finish_code = status.error_code();
    ++m_pending;
    if (m_response_staged) {  // one batch: the held-back response (and headers) and the status
      m_response_staged = false;
      ++m_delivered;
      m_down.WriteAndFinish(m_response_out, grpc::WriteOptions(), status, tag(Event::down_finish));
      return;
    }
    m_down.Finish(status, tag(Event::down_finish));
  }

  void link() {
    m_next = m_loop.calls;
    if (m_next) m_next->m_prev = this;
    m_loop.calls = this;
    ++m_loop.call_count;
  }

  void unlink() {
    if (m_prev)
      m_prev->m_next = m_next;
    else
      m_loop.calls = m_next;
    if (m_next) m_next->m_prev = m_prev;
    --m_loop.call_count;
  }

  void destroy() {
    if (m_started) {
      m_core.injector.release(m_plan);
      unlink();
      m_core.forget();
    }
    delete this;
  }

  ProxyCore& m_core;
  ProxyLoop& m_loop;
  ProxyCall* m_prev = nullptr;  // in m_loop.calls once started
  ProxyCall* m_next = nullptr;
  std::array<Tag, static_cast<size_t>(Event::loop_shutdown)> m_tags{};
  int m_pending = 0;  // operations and timers outstanding; the call frees itself at zero
  grpc::GenericServerContext m_ctx;
  grpc::GenericServerAsyncReaderWriter m_down;
  CallInfo m_info;
  CallPlan m_plan;
  grpc::ClientContext m_up_ctx;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> m_up;
  grpc::Status m_up_status;
  // Each direction: the message being read and the one being written on the other side.
  grpc::ByteBuffer m_request, m_request_out, m_response, m_response_out;
  std::unique_ptr<grpc::Alarm> m_delay_alarm, m_cancel_alarm;
  bool m_started = false;
  bool m_coalesce = false;        // hold back what can go later in one batch (no stream fault)
  bool m_flush_queued = false;    // in m_loop.flush
  bool m_up_started = false;      // the upstream call's StartCall was made
  bool m_request_staged = false;  // m_request_out holds the first request, not yet written
  bool m_headers_ready = false;   // the upstream headers are in m_ctx, not yet sent
  bool m_response_staged = false; // m_response_out holds a response, not yet written
  bool m_up_headers_pending = false, m_up_read_pending = false, m_up_write_pending = false;
  bool m_up_ended = false, m_up_abandoned = false, m_up_finish_requested = false, m_up_done = false;
  bool m_down_read_pending = false, m_down_write_pending = false, m_headers_sent_alone = false;
  bool m_request_ready = false, m_response_ready = false;  // a message read, waiting to be written
  bool m_down_half_closed = false, m_sent_writes_done = false;
  bool m_finished = false, m_cancelled = false, m_stalled = false, m_stream_fault_done = false;
  bool m_shutdown_status = false;
  int m_finish_code = -1;
  std::optional<grpc::Status> m_finish_pending;
  uint64_t m_delivered = 0;  // response messages written to the client
};

void ProxyCore::request_call(ProxyLoop& loop) { (new ProxyCall(*this, loop))->request(); }

// The tag of every loop's shutdown alarm.
Tag k_loop_shutdown_tag{nullptr, Event::loop_shutdown};

void ProxyCore::run(ProxyLoop& loop) {
  void* raw = nullptr;
  bool ok = false;
  size_t since_flush = 0;
  auto flush = [&] {
    since_flush = 0;
    loop.flushing.swap(loop.flush);  // a call flushed now may queue itself again
    for (ProxyCall* call : loop.flushing) call->on_event(Event::flush, true);
    loop.flushing.clear();
  };
  while (true) {
    // Block only when no call holds anything back; otherwise poll, and flush once idle.
    const auto deadline = loop.flush.empty() ? gpr_inf_future(GPR_CLOCK_REALTIME) : gpr_time_0(GPR_CLOCK_REALTIME);
    const auto got = loop.cq->AsyncNext(&raw, &ok, deadline);
    if (got == grpc::CompletionQueue::SHUTDOWN) break;
    if (got == grpc::CompletionQueue::TIMEOUT) {
      flush();
      continue;
    }
    if (!loop.flush.empty() && ++since_flush >= std::max(k_flush_min, k_flush_per_call * loop.call_count)) flush();
    auto* tag = static_cast<Tag*>(raw);
    if (tag->event == Event::loop_shutdown) {
      // Copy first: a call shut down here may free itself on a later event, not now.
      std::vector<ProxyCall*> open;
      for (ProxyCall* call = loop.calls; call; call = call->next()) open.push_back(call);
      for (ProxyCall* call : open) call->shut_down();
      continue;
    }
    tag->call->on_event(tag->event, ok);
  }
}

Proxy::Proxy() = default;

Proxy::~Proxy() { stop(std::chrono::milliseconds(0)); }

void Proxy::stop(std::chrono::milliseconds grace) {
  if (m_stopped || !m_core) return;
  m_stopped = true;
  auto& core = *m_core;
  std::unique_lock lock(core.mutex);
  core.stopping = true;
  core.idle.wait_for(lock, grace, [&] { return core.active == 0; });
  lock.unlock();
  // Each loop ends its open calls with UNAVAILABLE on its own thread.
  for (auto& loop : core.loops) loop->shutdown_alarm.Set(loop->cq.get(), gpr_time_0(GPR_CLOCK_REALTIME), &k_loop_shutdown_tag);
  core.server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  // The upstream halves may finish just after the server: wait for them (bounded) before the
  // queues stop. If some never finish, keep everything alive rather than free memory in use.
  lock.lock();
  bool drained = core.idle.wait_for(lock, std::chrono::seconds(5), [&] { return core.active == 0; });
  lock.unlock();
  if (!drained) {
    for (auto& loop : core.loops) loop->thread.detach();
    (void)m_core.release();
    return;
  }
  for (auto& loop : core.loops) loop->cq->Shutdown();
  for (auto& loop : core.loops) loop->thread.join();
}

CountersSnapshot Proxy::counters() const { return m_core->injector.counters().snapshot(); }

Injector& Proxy::injector() { return m_core->injector; }

Result<std::unique_ptr<Proxy>> Proxy::start(const ProxyOptions& options) {
  TRY_VOID(server::check_listen_address(options.listen));
  if (options.listen_cert.empty() != options.listen_key.empty())
    return local_error("--listen-cert and --listen-key go together: give both");
  std::shared_ptr<grpc::ServerCredentials> creds = grpc::InsecureServerCredentials();
  if (!options.listen_cert.empty()) {
    grpc::SslServerCredentialsOptions ssl(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    TRY(std::string cert, read_pem(options.listen_cert, "listen certificate"));
    TRY(std::string key, read_pem(options.listen_key, "listen key"));
    ssl.pem_key_cert_pairs.push_back({key, cert});
    creds = grpc::SslServerCredentials(ssl);
  }
  TRY(auto channel, net::make_channel(options.upstream));

  std::unique_ptr<Proxy> proxy(new Proxy());
  proxy->m_core = std::make_unique<ProxyCore>(options, channel);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen, creds, &port);
  builder.SetMaxReceiveMessageSize(-1);
  builder.SetMaxSendMessageSize(-1);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  auto& core = *proxy->m_core;
  builder.RegisterAsyncGenericService(&core.service);
  for (int i = 0; i < k_loops; ++i) {
    core.loops.push_back(std::make_unique<ProxyLoop>());
    core.loops.back()->cq = builder.AddCompletionQueue();
  }
  core.server = builder.BuildAndStart();
  if (!core.server || port == 0) {
    for (auto& loop : core.loops) {  // never used: shut down and drained before they go
      loop->cq->Shutdown();
      void* tag;
      bool ok;
      while (loop->cq->Next(&tag, &ok)) {
      }
    }
    proxy->m_core.reset();
    // The built-in server's checks say why an address cannot be bound.
    server::ServerOptions probe;
    probe.listen = options.listen;
    probe.health = false;
    probe.reflection_v1 = probe.reflection_v1alpha = false;
    auto again = server::start_server(probe);
    if (!again) return std::unexpected(again.error());
    return local_error("cannot listen on " + options.listen);
  }
  for (auto& loop : core.loops) {
    core.request_call(*loop);
    loop->thread = std::thread([&core, &each = *loop] { core.run(each); });
  }
  const std::string& l = options.listen;
  if (l.starts_with("unix:") || l.starts_with("unix-abstract:"))
    proxy->m_address = l;
  else
    proxy->m_address = l.substr(0, l.rfind(':')) + ":" + std::to_string(port);
  return proxy;
}

}  // namespace grpcdx::chaos
