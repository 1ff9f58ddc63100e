// grpc.health.v1.Health from the generated code: Check and Watch over a table of statuses that
// the server owner changes at run time.
#pragma once

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

}  // namespace grpcdx::server
