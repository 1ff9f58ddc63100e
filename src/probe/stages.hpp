// The five probe stages, each a small function doing its I/O under a deadline and returning a
// StageResult whose failure comes from the pure classifiers of classify.hpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "probe/probe.hpp"
#include "probe/transport.hpp"

namespace grpcdx::probe {

// The shared inputs of the stages of one probe.
struct StageContext {
  const ProbeOptions* opt = nullptr;
  std::string timeout_text;  // the stage bound as the user wrote it ("5s")
  Clock::time_point deadline_from_now() const { return Clock::now() + opt->stage_timeout; }
};

// dns: resolves the target's host (in a worker thread, bounded by the stage timeout) into
// `endpoints`; skipped for IP literals and unix sockets, which it turns into one endpoint.
// Fails (usage) for target schemes the probe cannot dial.
Result<StageResult> dns_stage(const StageContext& c, std::vector<Endpoint>& endpoints);

// tcp: connects to each endpoint in turn until one answers, within one stage timeout. On
// success `conn` holds the connected transport and `address` the endpoint that answered.
StageResult tcp_stage(const StageContext& c, const std::vector<Endpoint>& endpoints,
                      std::unique_ptr<Transport>& conn, std::string& address);

// tls: the TLS handshake on `conn` with SNI, ALPN and verification; reports the chain.
// Application bytes that arrive while it waits for a TLS 1.3 server's verdict on the client
// certificate are appended to `early`. Fails (local) when the CA bundle or client
// certificate cannot be read.
Result<StageResult> tls_stage(const StageContext& c, Transport& conn, std::string& early);

// http2: the client preface and SETTINGS, then the server's SETTINGS. Over plaintext, when the
// server closes without a word, a second connection to `endpoint` checks for a TLS server.
StageResult http2_stage(const StageContext& c, Transport& conn, const Endpoint& endpoint, bool tls,
                        std::string early);

// Opens a second connection to `ep` and sends a TLS ClientHello: true when the answer is TLS (a
// plaintext client that met a TLS server, as the http2 stage checks).
bool answers_tls(const Endpoint& ep, Clock::time_point deadline);

// grpc: a health Check over a real channel (reflection when health is UNIMPLEMENTED).
// `endpoint` pins the channel to one address (under --all); null uses the target as given.
Result<StageResult> grpc_stage(const StageContext& c, const Endpoint* endpoint);

// A stage that did not run: status skip with `reason` in its detail (when not empty).
StageResult skipped(std::string name, std::string reason = {});

}  // namespace grpcdx::probe
