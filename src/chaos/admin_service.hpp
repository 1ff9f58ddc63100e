// The runtime control of a chaos proxy (`grpcdx chaos --admin ADDR`): grpcdx.chaos.v1.ChaosAdmin
// on its own plaintext port, with server reflection and health, changing the faults of the
// proxy's Injector while it runs; guarded by a bearer token.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace grpcdx::chaos {

class Injector;
class AdminCore;

struct AdminOptions {
  std::string listen;  // host:port (port 0 picks one), [v6addr]:port or unix:/path
  std::string token;   // when set, every ChaosAdmin call must send `authorization: Bearer TOKEN`
  // True when a thread of this process always waits on a gRPC completion queue (the L7 proxy's
  // loop). The admin server's own threads then poll no sockets: C-core's epoll1 engine has one
  // epoll set per process, so any polling thread would take the proxy's connections' events and
  // hand each completion back to the loop (a third of the proxy's calls/s; docs/performance.md).
  // The loop does the admin port's little I/O instead. False for --tcp, where no thread of gRPC
  // polls, and under another polling engine (GRPC_POLL_STRATEGY), where it does not work.
  bool proxy_polls = false;
};

// True for a listen address only this machine can reach: a unix socket, localhost, 127.0.0.0/8
// or [::1]. Anything else needs a token.
bool is_local_admin_address(std::string_view listen);

// Whether the `authorization` metadata values a call sent grant access under `token` (empty:
// every call is granted). The comparison takes the same time whatever the mismatch.
bool admin_authorized(std::string_view token, const std::vector<std::string_view>& authorization);

// Whether C-core polls with one epoll set for the whole process (epoll1, its default on Linux),
// as AdminOptions::proxy_polls needs; reads GRPC_POLL_STRATEGY the way C-core does.
bool process_wide_polling(const char* poll_strategy_env);

// A running admin server. Destroying it stops it.
class AdminServer {
 public:
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // The address really listened on ("127.0.0.1:41234" or "unix:/path").
  const std::string& address() const { return m_address; }

  // Stops answering; calls in progress get a second to finish. Safe to call more than once.
  void stop();

  // Starts serving ChaosAdmin over `injector`, which must outlive the server. Fails (local)
  // when the address cannot be bound ("cannot listen on 127.0.0.1:1: ...").
  static Result<std::unique_ptr<AdminServer>> start(const AdminOptions& options, Injector& injector);

 private:
  AdminServer();
  std::unique_ptr<AdminCore> m_core;
  std::string m_address;
};

}  // namespace grpcdx::chaos
