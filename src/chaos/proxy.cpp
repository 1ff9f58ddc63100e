// The L7 proxy: one ProxyCall per downstream call, pairing a server reactor with an upstream
// client reactor. Each direction has one buffer and reads the next message only after the
// previous one was written on the other side, so HTTP/2 flow control holds end to end.
#include "chaos/proxy.hpp"

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <grpcpp/alarm.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include "chaos/plan.hpp"
#include "server/server.hpp"

namespace grpcdx::chaos {

namespace {

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

// What every call shares: the injector, the upstream stub, the set of open calls.
class ProxyCore final : public grpc::CallbackGenericService {
 public:
  ProxyCore(const ProxyOptions& o, std::shared_ptr<grpc::Channel> channel)
      : injector(InjectorOptions{o.faults, o.header_faults, o.max_active}, std::make_unique<SeededRandom>(o.seed)),
        upstream(o.upstream),
        header_faults(o.header_faults),
        channel(std::move(channel)),
        stub(this->channel) {}

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;

  // Called by a call when it is completely done; wakes stop().
  void forget(ProxyCall* call) {
    std::lock_guard lock(mutex);
    active.erase(call);
    idle.notify_all();
  }

  Injector injector;
  net::ConnectionOptions upstream;
  bool header_faults;
  std::shared_ptr<grpc::Channel> channel;
  grpc::GenericStub stub;
  std::unique_ptr<grpc::Server> server;

  std::mutex mutex;
  std::condition_variable idle;
  std::set<ProxyCall*> active;  // guarded by mutex
  bool stopping = false;        // guarded by mutex
};

class ProxyCall final : public grpc::ServerGenericBidiReactor {
 public:
  ProxyCall(ProxyCore& core, grpc::GenericCallbackServerContext* ctx) : m_core(core), m_ctx(ctx), m_up(*this) {}

  // Runs the start of the call; separate from the constructor so the object is complete.
  void begin(bool stopping) {
    std::lock_guard lock(m_mutex);
    m_info.method = m_ctx->method().starts_with('/') ? m_ctx->method().substr(1) : m_ctx->method();
    for (const auto& [k, v] : m_ctx->client_metadata()) m_info.metadata.emplace_back(to_string(k), to_string(v));
    if (stopping) {
      m_core.injector.counters().add_call();
      finish_locked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "grpcdx chaos is shutting down"));
      return;
    }
    m_plan = m_core.injector.plan(m_info);
    if (m_plan.bad_request) {
      finish_locked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "grpcdx chaos: " + m_plan.bad_request->message));
      return;
    }
    if (m_plan.delay.count() > 0) {
      ++m_refs;
      m_delay_alarm = std::make_unique<grpc::Alarm>();
      m_delay_alarm->Set(std::chrono::system_clock::now() +
                             std::chrono::duration_cast<std::chrono::system_clock::duration>(m_plan.delay),
                         [this](bool ok) {
                           {
                             std::lock_guard lock(m_mutex);
                             if (ok && !m_finished && !m_finish_pending) after_delay_locked();
                           }
                           release();
                         });
      return;
    }
    after_delay_locked();
  }

  // Ends the call with UNAVAILABLE because the proxy stops (from stop(), core mutex held).
  void shut_down() {
    std::lock_guard lock(m_mutex);
    if (m_refs == 0) return;
    if (m_delay_alarm) m_delay_alarm->Cancel();
    if (m_cancel_alarm) m_cancel_alarm->Cancel();
    finish_locked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "grpcdx chaos is shutting down"));
  }

  // --- downstream (server) reactions ---
  void OnReadDone(bool ok) override {
    std::lock_guard lock(m_mutex);
    m_down_read_pending = false;
    // Without the hold the upstream call may already be complete (its OnDone pending on
    // another thread): starting an operation on it then would use a finished call.
    if (!can_forward_locked() || !m_up_hold) return;
    if (ok) {
      m_up_write_pending = true;
      m_up.StartWrite(&m_request);
    } else {
      m_up.StartWritesDone();  // the client half-closed
    }
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(m_mutex);
    m_down_write_pending = false;
    if (!ok) {  // the client is gone
      abandon_upstream_locked();
      finish_locked(grpc::Status(grpc::StatusCode::CANCELLED, "grpcdx chaos: the client went away"));
      return;
    }
    ++m_delivered;
    if (m_finish_pending) {
      finish_locked(*m_finish_pending);
      return;
    }
    if (apply_stream_fault_locked()) return;
    if (can_forward_locked()) up_read_locked();
  }

  void OnCancel() override {
    std::lock_guard lock(m_mutex);
    m_cancelled = true;
    if (m_delay_alarm) m_delay_alarm->Cancel();
    if (m_cancel_alarm) m_cancel_alarm->Cancel();
    abandon_upstream_locked();
    finish_locked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client"));
  }

  void OnDone() override {
    int client_code;
    {
      std::lock_guard lock(m_mutex);
      client_code = m_finish_code;
      // The client's deadline fires a little before the proxy's copy of it (which started when
      // the headers arrived), so a cancel close to the deadline is the deadline.
      if (m_ctx->IsCancelled() && !m_shutdown_status)
        client_code = std::chrono::system_clock::now() + k_deadline_slack >= m_ctx->deadline()
                          ? grpc::StatusCode::DEADLINE_EXCEEDED
                          : grpc::StatusCode::CANCELLED;
    }
    m_core.injector.counters().add_client_status(client_code);
    release();
  }

  // --- upstream (client) reactions, forwarded by Upstream ---
  void up_initial_metadata_done(bool ok) {
    std::lock_guard lock(m_mutex);
    if (!ok) {  // trailers-only answer or a failed call: only the status will come
      release_up_hold_locked();
      return;
    }
    if (m_finished || m_finish_pending) return;
    for (const auto& [k, v] : m_up_ctx.GetServerInitialMetadata()) {
      std::string key = to_string(k);
      if (!is_hop_key(key)) m_ctx->AddInitialMetadata(key, to_string(v));
    }
    StartSendInitialMetadata();
    m_sent_initial_metadata = true;
    if (m_stalled) return;
    up_read_locked();
  }

  void up_read_done(bool ok) {
    std::lock_guard lock(m_mutex);
    m_up_read_pending = false;
    if (!ok) {  // the upstream stream ended; its status follows in up_done
      release_up_hold_locked();
      return;
    }
    if (m_finished || m_finish_pending || m_stalled) return;
    m_down_write_pending = true;
    StartWrite(&m_response);
  }

  void up_write_done(bool ok) {
    std::lock_guard lock(m_mutex);
    m_up_write_pending = false;
    if (ok && can_forward_locked()) down_read_locked();
  }

  void up_done(const grpc::Status& status) {
    {
      std::lock_guard lock(m_mutex);
      m_up_done = true;
      m_core.injector.counters().add_upstream_status(status.error_code());
      if (!m_finished && !m_finish_pending && !m_stalled) {
        for (const auto& [k, v] : m_up_ctx.GetServerTrailingMetadata()) {
          std::string key = to_string(k);
          if (!is_hop_key(key)) m_ctx->AddTrailingMetadata(key, to_string(v));
        }
        finish_locked(status);
      }
    }
    release();
  }

 private:
  class Upstream final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
   public:
    explicit Upstream(ProxyCall& call) : m_call(call) {}
    void OnReadInitialMetadataDone(bool ok) override { m_call.up_initial_metadata_done(ok); }
    void OnReadDone(bool ok) override { m_call.up_read_done(ok); }
    void OnWriteDone(bool ok) override { m_call.up_write_done(ok); }
    void OnDone(const grpc::Status& s) override { m_call.up_done(s); }

   private:
    ProxyCall& m_call;
  };

  bool can_forward_locked() const { return !m_finished && !m_finish_pending && !m_stalled && !m_up_done; }

  void after_delay_locked() {
    if (m_cancelled) return;
    if (m_plan.terminal) {
      if (m_plan.terminal->kind == FaultKind::abort)
        finish_locked(grpc::Status(static_cast<grpc::StatusCode>(m_plan.terminal->code), m_plan.terminal->message));
      return;  // drop: never answer; the client's deadline or cancel ends it (OnCancel)
    }
    start_upstream_locked();
  }

  void start_upstream_locked() {
    for (const auto& [k, v] : m_info.metadata) {
      if (is_hop_key(k)) continue;
      if (m_core.header_faults && (k == k_header_delay || k == k_header_abort)) continue;
      m_up_ctx.AddMetadata(k, v);
    }
    for (const auto& m : m_core.upstream.metadata) m_up_ctx.AddMetadata(m.key, m.value);
    auto deadline = m_ctx->deadline();
    if (m_core.upstream.rpc_timeout)
      deadline = std::min(deadline, std::chrono::system_clock::now() +
                                        std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                            *m_core.upstream.rpc_timeout));
    if (deadline != std::chrono::system_clock::time_point::max()) m_up_ctx.set_deadline(deadline);
    m_core.stub.PrepareBidiStreamingCall(&m_up_ctx, m_ctx->method(), grpc::StubOptions(), &m_up);
    ++m_refs;
    m_up_started = true;
    // The hold keeps the upstream status from ending the call while responses are unread.
    m_up.AddHold();
    m_up_hold = true;
    // Responses are read once the upstream's headers arrived (up_initial_metadata_done), so
    // they reach the client after those headers.
    m_up.StartCall();
    if (m_plan.stream && m_plan.stream->kind == FaultKind::cancel && m_plan.stream->after_duration) {
      ++m_refs;
      m_cancel_alarm = std::make_unique<grpc::Alarm>();
      m_cancel_alarm->Set(std::chrono::system_clock::now() + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                                                 *m_plan.stream->after_duration),
                          [this](bool ok) {
                            {
                              std::lock_guard lock(m_mutex);
                              if (ok && !m_finished && !m_finish_pending) inject_cancel_locked();
                            }
                            release();
                          });
    }
    if (apply_stream_fault_locked()) return;
    down_read_locked();
  }

  void up_read_locked() {
    if (m_up_read_pending || m_up_done || !m_up_hold) return;
    m_up_read_pending = true;
    m_up.StartRead(&m_response);
  }

  void down_read_locked() {
    if (m_down_read_pending || m_finished) return;
    m_down_read_pending = true;
    StartRead(&m_request);
  }

  // Applies a count-based stream fault once m_delivered responses reached its count. True when
  // the fault took over the call.
  bool apply_stream_fault_locked() {
    if (!m_plan.stream || m_stream_fault_done) return false;
    const FaultAction& a = *m_plan.stream;
    if (a.after_duration || m_delivered < a.after_messages) return false;
    m_stream_fault_done = true;
    switch (a.kind) {
      case FaultKind::cancel: inject_cancel_locked(); return true;
      case FaultKind::reset:
        abandon_upstream_locked();
        m_ctx->TryCancel();  // RST_STREAM to the client
        m_finish_code = grpc::StatusCode::CANCELLED;
        finish_locked(grpc::Status(grpc::StatusCode::CANCELLED, "grpcdx chaos: stream reset"));
        return true;
      case FaultKind::stall: m_stalled = true; return true;
      default: return false;
    }
  }

  void inject_cancel_locked() {
    m_stream_fault_done = true;
    abandon_upstream_locked();
    finish_locked(grpc::Status(grpc::StatusCode::CANCELLED,
                               fmt::format("grpcdx chaos: upstream call cancelled after {} message{} by fault '{}'",
                                           m_delivered, m_delivered == 1 ? "" : "s", m_plan.stream->source)));
  }

  // Cancels the upstream call (if running) and lets it end.
  void abandon_upstream_locked() {
    if (m_up_started && !m_up_done) m_up_ctx.TryCancel();
    release_up_hold_locked();
  }

  void release_up_hold_locked() {
    if (!m_up_hold) return;
    m_up_hold = false;
    m_up.RemoveHold();
  }

  // Finishes the downstream call with `status`, once: after a pending write, never twice.
  void finish_locked(const grpc::Status& status) {
    if (m_finished) return;
    if (m_down_write_pending) {
      if (!m_finish_pending) m_finish_pending = status;
      return;
    }
    m_finished = true;
    m_finish_pending.reset();
    abandon_upstream_locked();
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE && status.error_message() == "grpcdx chaos is shutting down")
      m_shutdown_status = true;
    if (m_finish_code < 0) m_finish_code = status.error_code();
    Finish(status);
  }

  // Drops one reference; the last one frees the call.
  void release() {
    bool last;
    {
      std::lock_guard lock(m_mutex);
      last = --m_refs == 0;
    }
    if (!last) return;
    m_core.injector.release(m_plan);
    m_core.forget(this);
    delete this;
  }

  ProxyCore& m_core;
  grpc::GenericCallbackServerContext* m_ctx;
  std::recursive_mutex m_mutex;  // recursive: a gRPC operation may run a reaction inline
  CallInfo m_info;
  CallPlan m_plan;
  grpc::ClientContext m_up_ctx;
  Upstream m_up;
  grpc::ByteBuffer m_request, m_response;
  std::unique_ptr<grpc::Alarm> m_delay_alarm, m_cancel_alarm;
  int m_refs = 1;  // the server reactor; +1 for the upstream reactor and each alarm
  bool m_up_started = false, m_up_done = false, m_up_hold = false;
  bool m_up_read_pending = false, m_up_write_pending = false;
  bool m_down_read_pending = false, m_down_write_pending = false;
  bool m_sent_initial_metadata = false;
  bool m_finished = false, m_cancelled = false, m_stalled = false, m_stream_fault_done = false;
  bool m_shutdown_status = false;
  int m_finish_code = -1;
  std::optional<grpc::Status> m_finish_pending;
  uint64_t m_delivered = 0;  // response messages written to the client
};

grpc::ServerGenericBidiReactor* ProxyCore::CreateReactor(grpc::GenericCallbackServerContext* ctx) {
  auto* call = new ProxyCall(*this, ctx);
  bool is_stopping;
  {
    std::lock_guard lock(mutex);
    is_stopping = stopping;
    active.insert(call);
  }
  call->begin(is_stopping);
  return call;
}

Proxy::Proxy() = default;

Proxy::~Proxy() { stop(std::chrono::milliseconds(0)); }

void Proxy::stop(std::chrono::milliseconds grace) {
  if (m_stopped || !m_core) return;
  m_stopped = true;
  auto& core = *m_core;
  std::unique_lock lock(core.mutex);
  core.stopping = true;
  core.idle.wait_for(lock, grace, [&] { return core.active.empty(); });
  for (ProxyCall* call : core.active) call->shut_down();
  lock.unlock();
  core.server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  core.server->Wait();
  // Upstream reactors may finish just after the server: wait for them (bounded) before the
  // channel and stub they use go away; if some never finish, keep the core alive rather than
  // free memory still in use.
  lock.lock();
  bool drained = core.idle.wait_for(lock, std::chrono::seconds(5), [&] { return core.active.empty(); });
  lock.unlock();
  if (!drained) (void)m_core.release();
}

CountersSnapshot Proxy::counters() const { return m_core->injector.counters().snapshot(); }

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
  builder.RegisterCallbackGenericService(proxy->m_core.get());
  proxy->m_core->server = builder.BuildAndStart();
  if (!proxy->m_core->server || port == 0) {
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
  const std::string& l = options.listen;
  if (l.starts_with("unix:") || l.starts_with("unix-abstract:"))
    proxy->m_address = l;
  else
    proxy->m_address = l.substr(0, l.rfind(':')) + ":" + std::to_string(port);
  return proxy;
}

}  // namespace grpcdx::chaos
