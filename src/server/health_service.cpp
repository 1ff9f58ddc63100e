// grpc.health.v1.Health: the status table, Check, and Watch as a reactor or a blocking loop.
#include "server/health_service.hpp"

#include <atomic>
#include <chrono>
#include <optional>
#include <vector>

namespace grpcdx::server {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

namespace {

grpc::Status unknown_service(const std::string& service) {
  return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service '" + service + "'");
}

grpc::Status shutting_down() { return grpc::Status(grpc::StatusCode::UNAVAILABLE, "server is shutting down"); }

grpc::Status watch_cancelled() { return grpc::Status(grpc::StatusCode::CANCELLED, "watch cancelled"); }

// How often a blocking Watch looks whether its client cancelled: a synchronous server is told
// of a cancellation only when it asks.
constexpr std::chrono::milliseconds k_watch_cancel_check{200};

}  // namespace

// One open Watch stream. Writes one status at a time; a status that arrives while a write is in
// flight replaces any older queued one, so a slow client sees the latest state, never a backlog.
// Lifetime: grpc's OnDone holds one reference and every notifier holds one while it calls in;
// the last to let go deletes the watcher. Reactor operations are never started under m_mu,
// because grpc may run the resulting reaction (which takes m_mu) on the calling thread.
class HealthWatcher final : public grpc::ServerWriteReactor<HealthCheckResponse> {
 public:
  HealthWatcher(HealthService& service, std::string name) : m_service(service), m_name(std::move(name)) {
    m_service.add_watcher(this, m_name);
  }

  const std::string& name() const { return m_name; }

  void ref() { m_refs.fetch_add(1); }
  void unref() {
    if (m_refs.fetch_sub(1) == 1) delete this;
  }

  // Queues `status` for sending unless it is what the client was last told.
  void push(HealthService::Status status) {
    {
      std::lock_guard lock(m_mu);
      if (m_end_requested || status == m_last_queued) return;
      m_last_queued = status;
      if (m_writing) {
        m_pending = status;
        return;
      }
      m_writing = true;
      m_response.set_status(status);
    }
    StartWrite(&m_response);
  }

  // Ends the stream with `status` once the write in flight, if any, is done.
  void end(const grpc::Status& status) {
    {
      std::lock_guard lock(m_mu);
      if (m_end_requested) return;
      m_end_requested = true;
      m_end_status = status;
      if (m_writing) return;
    }
    finish_once();
  }

  void OnWriteDone(bool ok) override {
    bool write = false;
    {
      std::lock_guard lock(m_mu);
      m_writing = false;
      if (!ok) {
        m_end_requested = true;  // the client is gone
        m_pending.reset();
      } else if (m_pending) {
        // Also when shutting down: the last queued status (NOT_SERVING) goes out before the end.
        m_response.set_status(*m_pending);
        m_pending.reset();
        m_writing = write = true;
      }
      if (!write && !m_end_requested) return;
    }
    if (write)
      StartWrite(&m_response);
    else
      finish_once();
  }

  void OnCancel() override { end(watch_cancelled()); }

  void OnDone() override {
    m_service.remove_watcher(this);
    unref();
  }

 private:
  void finish_once() {
    grpc::Status status;
    {
      std::lock_guard lock(m_mu);
      if (m_finished) return;
      m_finished = true;
      status = m_end_status;
    }
    Finish(status);
  }

  HealthService& m_service;
  const std::string m_name;
  std::atomic<int> m_refs{1};
  std::mutex m_mu;  // guards everything below
  HealthCheckResponse m_response;
  bool m_writing = false;
  std::optional<HealthService::Status> m_pending;
  std::optional<HealthService::Status> m_last_queued;
  bool m_end_requested = false;
  bool m_finished = false;
  grpc::Status m_end_status;
};

grpc::ServerUnaryReactor* HealthService::Check(grpc::CallbackServerContext* ctx, const HealthCheckRequest* req,
                                               HealthCheckResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  std::optional<Status> status;
  {
    std::lock_guard lock(m_mu);
    if (auto it = m_statuses.find(req->service()); it != m_statuses.end()) status = it->second;
  }
  if (!status) {
    reactor->Finish(unknown_service(req->service()));
    return reactor;
  }
  resp->set_status(*status);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerWriteReactor<HealthCheckResponse>* HealthService::Watch(grpc::CallbackServerContext*,
                                                                    const HealthCheckRequest* req) {
  return new HealthWatcher(*this, req->service());
}

void HealthService::set_status(const std::string& service, Status status) {
  // m_notify_mu keeps notifications in the order the statuses were set.
  std::lock_guard notify_lock(m_notify_mu);
  std::vector<HealthWatcher*> targets;
  {
    std::lock_guard lock(m_mu);
    m_statuses[service] = status;
    for (HealthWatcher* w : m_watchers) {
      if (w->name() != service) continue;
      w->ref();
      targets.push_back(w);
    }
  }
  for (HealthWatcher* w : targets) {
    w->push(status);
    w->unref();
  }
}

void HealthService::shutdown() {
  std::lock_guard notify_lock(m_notify_mu);
  std::vector<HealthWatcher*> targets;
  {
    std::lock_guard lock(m_mu);
    m_shut_down = true;
    for (auto& [name, status] : m_statuses) status = HealthCheckResponse::NOT_SERVING;
    for (HealthWatcher* w : m_watchers) {
      w->ref();
      targets.push_back(w);
    }
  }
  for (HealthWatcher* w : targets) {
    w->push(HealthCheckResponse::NOT_SERVING);
    w->end(shutting_down());
    w->unref();
  }
}

void HealthService::add_watcher(HealthWatcher* watcher, const std::string& service) {
  std::lock_guard notify_lock(m_notify_mu);
  Status status = HealthCheckResponse::SERVICE_UNKNOWN;
  bool shut_down = false;
  {
    std::lock_guard lock(m_mu);
    m_watchers.insert(watcher);
    if (auto it = m_statuses.find(service); it != m_statuses.end()) status = it->second;
    shut_down = m_shut_down;
  }
  // Called from the watcher's constructor: the reactor is not bound yet, so these operations are
  // queued by grpc and no reaction can run here.
  watcher->push(status);
  if (shut_down) watcher->end(shutting_down());
}

void HealthService::remove_watcher(HealthWatcher* watcher) {
  std::lock_guard lock(m_mu);
  m_watchers.erase(watcher);
}

grpc::Status SyncHealthService::Check(grpc::ServerContext*, const HealthCheckRequest* req, HealthCheckResponse* resp) {
  std::lock_guard lock(m_mu);
  auto it = m_statuses.find(req->service());
  if (it == m_statuses.end()) return unknown_service(req->service());
  resp->set_status(it->second);
  return grpc::Status::OK;
}

grpc::Status SyncHealthService::Watch(grpc::ServerContext* ctx, const HealthCheckRequest* req,
                                      grpc::ServerWriter<HealthCheckResponse>* writer) {
  std::optional<Status> sent;
  std::unique_lock lock(m_mu);
  while (true) {
    auto it = m_statuses.find(req->service());
    const Status now = it == m_statuses.end() ? HealthCheckResponse::SERVICE_UNKNOWN : it->second;
    if (now != sent) {
      sent = now;
      HealthCheckResponse response;
      response.set_status(now);
      lock.unlock();
      if (!writer->Write(response)) return watch_cancelled();
      lock.lock();
      continue;  // the status may have changed again while the write was out
    }
    if (m_shut_down) return shutting_down();
    if (ctx->IsCancelled()) return watch_cancelled();
    m_changed.wait_for(lock, k_watch_cancel_check);
  }
}

void SyncHealthService::set_status(const std::string& service, Status status) {
  std::lock_guard lock(m_mu);
  m_statuses[service] = status;
  m_changed.notify_all();
}

void SyncHealthService::shutdown() {
  std::lock_guard lock(m_mu);
  m_shut_down = true;
  for (auto& [name, status] : m_statuses) status = HealthCheckResponse::NOT_SERVING;
  m_changed.notify_all();
}

}  // namespace grpcdx::server
