// A client of grpc.health.v1.Health: Check once, or Watch the serving status as it changes.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include "core/error.hpp"
#include "net/channel.hpp"

namespace grpcdx::health {

struct HealthReply {
  std::string service;
  int status = 0;           // grpc.health.v1.HealthCheckResponse.ServingStatus
  std::string status_name;  // "SERVING", "NOT_SERVING", "UNKNOWN", "SERVICE_UNKNOWN"
  bool serving() const { return status == 1; }
};

// The name of a serving status number ("SERVING" for 1), "STATUS_N" for unknown numbers.
std::string serving_status_name(int status);

// Calls Health/Check for `service` ("" is the whole server) with the metadata and deadline of
// `conn`. Fails (rpc_status) with the call's status, e.g. NOT_FOUND for an unknown service.
Result<HealthReply> check(const std::shared_ptr<grpc::Channel>& channel, const net::ConnectionOptions& conn,
                          const std::string& service);

// Calls Health/Watch and hands every status the server sends to `on_update` until it returns
// false, the server ends the stream, or `ctx` is cancelled (TryCancel from another thread).
// Returns ok when stopped by `on_update`; fails (rpc_status) otherwise, with CANCELLED when
// `ctx` was cancelled and UNAVAILABLE when the server ended the stream. `plaintext` picks the
// hint of a failure (a TLS/plaintext mismatch).
Result<void> watch(const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext& ctx,
                   const std::string& service, bool plaintext,
                   const std::function<bool(const HealthReply&)>& on_update);

}  // namespace grpcdx::health
