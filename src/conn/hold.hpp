// `conn`'s hold: connect as the probe does (dns, tcp, tls, then HTTP/2 through nghttp2), then keep
// that one connection for the planned time with PINGs, a long-lived Watch and periodic Checks,
// reporting each thing that happens and, at the end, the verdict of conn/verdict.hpp.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "conn/verdict.hpp"
#include "core/error.hpp"
#include "probe/probe.hpp"

namespace grpcdx::conn {

struct HoldOptions {
  probe::ProbeOptions probe;  // target, TLS flags, metadata; stage_timeout bounds each step of connecting
  Plan plan;
};

// One thing worth a line of output, as it happens; `t` counts from the moment the connection
// was ready (connected is at 0).
struct Happening {
  enum class Kind {
    connected,    // `address`, `alpn`
    settings,     // `settings` (name, value) in the order the server sent them
    ping,         // our PING answered: `rtt`
    server_ping,  // the server PINGed us (answered)
    rpc,          // a call ended: `method`, `code` (its grpc-status, or gRPC's status for a reset
                  // stream: `error_code`), `message`
    goaway,       // `error_code`, `last_stream_id`, `debug`
    closed,       // `how`: "fin", "reset" or "ping_timeout"
  };
  Kind kind = Kind::connected;
  Duration t{};
  std::string address, alpn;
  std::vector<std::pair<std::string, std::uint32_t>> settings;
  Duration rtt{};
  std::string method;
  int code = 0;
  std::string message;
  std::uint32_t error_code = 0;
  std::int32_t last_stream_id = 0;
  std::string debug;
  std::string how;
};

struct HoldResult {
  std::string address;                      // the address connected to (or dialled last)
  std::optional<probe::Failure> connect_failure;  // set when connecting failed: the probe's class
  Verdict verdict;                          // when connected
  bool interrupted = false;                 // stop_requested() ended the hold early
};

// Connects and holds. `on_happening` is called for each happening as it occurs (from this
// thread); `stop_requested` is polled at least every 100 ms and ends the hold early with a held
// verdict. Fails (usage) for targets the probe cannot dial, (local) when a certificate file
// cannot be read or nghttp2 fails; every network outcome is a result.
Result<HoldResult> hold(const HoldOptions& options, const std::function<void(const Happening&)>& on_happening,
                        const std::function<bool()>& stop_requested);

}  // namespace grpcdx::conn
