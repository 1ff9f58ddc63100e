// The byte-level chaos proxy of `grpcdx chaos --tcp`: one epoll event loop (no thread per
// connection) forwarding every byte between clients and one upstream, with backpressure and
// half-close in both directions, and the --tcp faults (latency, bandwidth, reset, blackhole,
// slice, close, slow_close) decided per connection by the shared Injector; loss is the kernel's,
// through nftables rules on the listening port (loss_table.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chaos/counters.hpp"
#include "chaos/fault_spec.hpp"
#include "core/duration.hpp"
#include "core/error.hpp"

namespace grpcdx::chaos {

struct TcpProxyOptions {
  std::string listen;  // host:port (port 0 picks one), [v6addr]:port or unix:/path
  std::string target;  // host:port, [v6addr]:port or unix:/path; resolved once, at start
  Duration connect_timeout = std::chrono::seconds(10);  // per upstream connection
  std::vector<FaultSpec> faults;                         // --fault, parsed with ProxyMode::tcp
  std::vector<FaultSpec> rules;                          // --rules, likewise
  std::optional<uint64_t> max_active;                    // connections under a fault at once
  uint64_t seed = 0;
};

class TcpLoop;
class Injector;
class LossTable;

// A running TCP proxy. Destroying it stops it as stop() does.
class TcpProxy {
 public:
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  // The address really listened on ("127.0.0.1:41234", "[::1]:41234" or "unix:/path").
  const std::string& address() const { return m_address; }

  // Stops accepting, closes every connection (FIN to both sides; bytes still held by a fault are
  // dropped) and removes the loss rules. Safe to call more than once.
  void stop();

  // The counters so far (safe while running).
  CountersSnapshot counters() const;

  // The injector whose faults the proxy applies to new connections (thread-safe).
  Injector& injector();

  // Starts a proxy. Fails (usage) when the target is not host:port or unix:/path; (local) when
  // the target's name does not resolve ("cannot resolve nowhere.invalid: ..."), the address
  // cannot be bound ("cannot listen on 127.0.0.1:1: Permission denied") or a loss fault's rules
  // cannot be made (LossTable::apply: no CAP_NET_ADMIN, no libnftables, a unix socket).
  static Result<std::unique_ptr<TcpProxy>> start(const TcpProxyOptions& options);

 private:
  TcpProxy();
  std::unique_ptr<TcpLoop> m_loop;
  std::shared_ptr<LossTable> m_loss;  // shared with the injector's hook
  std::string m_address;
};

}  // namespace grpcdx::chaos
