// The built-in test server behind `grpcdx serve` and `grpcdx demo`: grpc.testing.TestService,
// grpc.health.v1.Health, grpc.channelz.v1.Channelz and server reflection (v1 and v1alpha) on one
// listening address.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace grpc {
class Server;
}

namespace grpcdx::channelz {
class ChannelzService;
}

namespace grpcdx::server {

class TestService;
class HealthService;
class ReflectionCore;
class ReflectionV1Service;
class ReflectionV1AlphaService;

struct ServerOptions {
  std::string listen = "127.0.0.1:50051";  // host:port ("127.0.0.1:0" picks a free port),
                                           // [::1]:port, or unix:/path
  std::string tls_cert, tls_key;           // PEM files: serve TLS when both are given
  std::string client_ca;                   // PEM: demand and verify client certificates
  bool reflection_v1 = true, reflection_v1alpha = true;
  bool health = true;
  bool channelz = true;  // grpc.channelz.v1.Channelz over this process's channelz data
  // Connection management, as gRPC C++ channel arguments (unset: gRPC's defaults).
  std::optional<std::chrono::milliseconds> keepalive_min_time;  // GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS
  bool keepalive_permit_without_stream = false;                 // GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS
  std::optional<std::chrono::milliseconds> max_connection_idle;       // GRPC_ARG_MAX_CONNECTION_IDLE_MS
  std::optional<std::chrono::milliseconds> max_connection_age;        // GRPC_ARG_MAX_CONNECTION_AGE_MS
  std::optional<std::chrono::milliseconds> max_connection_age_grace;  // GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS
};

// A serving status as the health service reports it.
enum class ServingStatus { unknown, serving, not_serving };

// A started server. Destroying it stops it (without grace) and waits for it.
class RunningServer {
 public:
  ~RunningServer();
  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;

  // The address really listened on: "127.0.0.1:45123", "[::1]:45123" or "unix:/path".
  const std::string& address() const { return m_address; }
  // Whether the server speaks TLS.
  bool tls() const { return m_tls; }
  // The fully-qualified names of the services registered, sorted.
  const std::vector<std::string>& services() const { return m_services; }

  // Sets the health status of `service` ("" is the whole server) and tells its watchers.
  // A service not yet known is added. No effect when the health service is off.
  void set_health(const std::string& service, ServingStatus status);

  // Stops accepting calls, ends open health Watch streams, lets running calls finish for up to
  // `grace`, then cancels what is still open. Safe to call more than once and from any thread.
  void shutdown(std::chrono::milliseconds grace);

  // Blocks until the server has shut down (after shutdown() was called elsewhere).
  void wait();

 private:
  friend Result<std::unique_ptr<RunningServer>> start_server(const ServerOptions&);
  RunningServer();

  // Declared before m_server so they outlive it: the server must be gone before its services.
  std::unique_ptr<TestService> m_test;
  std::unique_ptr<HealthService> m_health;
  std::unique_ptr<channelz::ChannelzService> m_channelz;
  std::unique_ptr<ReflectionCore> m_reflection_core;
  std::unique_ptr<ReflectionV1Service> m_reflection_v1;
  std::unique_ptr<ReflectionV1AlphaService> m_reflection_v1alpha;
  std::unique_ptr<grpc::Server> m_server;
  std::string m_address;
  bool m_tls = false;
  std::vector<std::string> m_services;
  std::atomic<bool> m_shut_down{false};
};

// Starts a server as `options` say. Fails (local) when a TLS file cannot be read, when only one
// of tls_cert/tls_key is given or client_ca is given without them, when the listen address is
// malformed, and when it cannot be bound; the message names the address and why
// ("cannot listen on 127.0.0.1:1: Permission denied").
Result<std::unique_ptr<RunningServer>> start_server(const ServerOptions& options);

// Checks the form of a listen address (host:port, [v6addr]:port, unix:/path) without binding.
// Fails (local) with "cannot listen on ADDR: ..." saying what form was expected.
Result<void> check_listen_address(const std::string& listen);

}  // namespace grpcdx::server
