// grpc.health.v1.Health from the generated code: Check and Watch over a table of statuses that
// the server owner changes at run time.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "grpc/health/v1/health.grpc.pb.h"

namespace grpcdx::server {

class HealthWatcher;

// Check answers NOT_FOUND for a service not in the table. Watch sends the current status
// (SERVICE_UNKNOWN for a service not in the table) and then every change, until the client
// cancels or shutdown() ends the stream. All members are thread-safe.
class HealthService final : public grpc::health::v1::Health::CallbackService {
 public:
  using Status = grpc::health::v1::HealthCheckResponse::ServingStatus;

  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* ctx, const grpc::health::v1::HealthCheckRequest* req,
                                  grpc::health::v1::HealthCheckResponse* resp) override;
  grpc::ServerWriteReactor<grpc::health::v1::HealthCheckResponse>* Watch(
      grpc::CallbackServerContext* ctx, const grpc::health::v1::HealthCheckRequest* req) override;

  // Sets the status of `service` ("" is the whole server), adding it when new, and tells its
  // watchers when the status changed.
  void set_status(const std::string& service, Status status);

  // Marks every service NOT_SERVING, sends that to the watchers and then ends their streams
  // (UNAVAILABLE "server is shutting down"). Later Watch calls end at once the same way.
  void shutdown();

 private:
  friend class HealthWatcher;

  // Registers a watcher and queues the status it starts with.
  void add_watcher(HealthWatcher* watcher, const std::string& service);
  void remove_watcher(HealthWatcher* watcher);

  std::mutex m_notify_mu;  // serialises set_status/shutdown/add_watcher; never taken by reactions
  std::mutex m_mu;         // guards everything below
  std::map<std::string, Status> m_statuses;
  std::set<HealthWatcher*> m_watchers;
  bool m_shut_down = false;
};

// The same service for a synchronous server (Handlers::sync in reflection_service.hpp: the chaos
// admin port, whose threads must not poll): the same answers, and Watch holds one of the
// server's threads while it waits, woken by a change or shutdown(), and noticing the client's
// cancellation within k_watch_cancel_check. All members are thread-safe.
class SyncHealthService final : public grpc::health::v1::Health::Service {
 public:
  using Status = grpc::health::v1::HealthCheckResponse::ServingStatus;

  grpc::Status Check(grpc::ServerContext* ctx, const grpc::health::v1::HealthCheckRequest* req,
                     grpc::health::v1::HealthCheckResponse* resp) override;
  grpc::Status Watch(grpc::ServerContext* ctx, const grpc::health::v1::HealthCheckRequest* req,
                     grpc::ServerWriter<grpc::health::v1::HealthCheckResponse>* writer) override;

  // As HealthService's.
  void set_status(const std::string& service, Status status);
  void shutdown();

 private:
  std::mutex m_mu;  // guards everything below
  std::condition_variable m_changed;
  std::map<std::string, Status> m_statuses;
  bool m_shut_down = false;
};

}  // namespace grpcdx::server
