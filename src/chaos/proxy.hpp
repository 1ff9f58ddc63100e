// The gRPC-aware (L7) chaos proxy: an AsyncGenericService that forwards every call as raw
// ByteBuffers through a GenericStub, with flow control, metadata, deadlines and cancellation
// carried across, and the faults of an Injector applied per call.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chaos/counters.hpp"
#include "chaos/fault_spec.hpp"
#include "core/error.hpp"
#include "net/channel.hpp"

namespace grpcdx::chaos {

struct ProxyOptions {
  std::string listen;                    // host:port (port 0 picks one), [v6]:port or unix:/path
  std::string listen_cert, listen_key;   // PEM: serve TLS downstream when both are given
  net::ConnectionOptions upstream;       // where calls go; rpc_timeout caps each call's deadline
  std::vector<FaultSpec> faults;         // --fault
  std::vector<FaultSpec> rules;          // --rules (replace_faults(FaultOrigin::rules) re-reads them)
  bool header_faults = false;
  std::optional<uint64_t> max_active;
  uint64_t seed = 0;
};

class ProxyCore;
class Injector;

// A running proxy. Destroying it stops it as stop() does, with no grace.
class Proxy {
 public:
  ~Proxy();
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  // The address really listened on ("127.0.0.1:41234", "[::1]:41234" or "unix:/path").
  const std::string& address() const { return m_address; }

  // Stops gracefully: new calls get UNAVAILABLE, running calls have `grace` to finish, calls
  // still open then end with UNAVAILABLE ("grpcdx chaos is shutting down"), and the server stops.
  // Safe to call more than once.
  void stop(std::chrono::milliseconds grace);

  // The counters so far.
  CountersSnapshot counters() const;

  // The injector whose faults the proxy applies: the admin service changes them through it.
  Injector& injector();

  // Starts a proxy. Fails (local) when a TLS file cannot be read, the upstream channel cannot
  // be made, or the address cannot be bound ("cannot listen on 127.0.0.1:1: ...").
  static Result<std::unique_ptr<Proxy>> start(const ProxyOptions& options);

 private:
  Proxy();
  std::unique_ptr<ProxyCore> m_core;
  std::string m_address;
  bool m_stopped = false;
};

}  // namespace grpcdx::chaos
