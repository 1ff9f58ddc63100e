// Fault specifications of `grpcdx chaos`: the parsed, validated form of --fault SPEC and of
// --rules FILE, shared by the L7 proxy and the TCP proxy (--tcp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/duration.hpp"
#include "core/error.hpp"

namespace grpcdx::chaos {

// delay..drop are the gRPC proxy's faults; latency..loss are --tcp's; reset is in both, with
// `after` counting messages in one and bytes (or a duration) in the other. loss is not done by the
// proxy but by the kernel (nftables rules on the proxy's port: chaos/loss_rules.hpp).
enum class FaultKind { delay, abort, cancel, reset, stall, drop, latency, bandwidth, blackhole, slice, close, slow_close, loss };

// Which proxy a fault is parsed for: the gRPC-aware one, or the byte-level one of --tcp.
enum class ProxyMode { grpc, tcp };

// Which way the bytes a --tcp fault acts on flow: client -> upstream, upstream -> client, or both.
enum class Direction { up, down, both };

// "delay", "abort", ...
std::string_view kind_name(FaultKind kind);

// "up", "down", "both".
std::string_view direction_name(Direction dir);

// One fault, validated once: every field holds a legal value for its kind.
struct FaultSpec {
  FaultKind kind = FaultKind::delay;
  std::string text;  // the spec as the user wrote it (flag) or its canonical flag form (rules)

  // Keys every fault has.
  double pct = 100.0;               // probability in percent, 0..100
  std::string method_glob;          // empty: every method; else matched against "pkg.S/M"
  std::string header_key;           // empty: no header condition; lower-case metadata key
  std::string header_value_glob;    // glob matched against each value of header_key
  std::optional<uint64_t> limit;    // at most this many injections

  // delay
  Duration delay{0};
  Duration jitter{0};  // the delay is drawn uniformly from [delay - jitter, delay + jitter]
  // abort
  int code = 14;
  std::string message;
  std::optional<Duration> retry_after;  // the status carries a google.rpc.RetryInfo of this delay
  // cancel, reset, stall: after this many response messages (default 0) ...
  uint64_t after_messages = 0;
  // ... or, for cancel only, after this long.
  std::optional<Duration> after_duration;

  // --tcp faults. latency uses delay and jitter (drawn per chunk); slice uses delay as the pause
  // between slices; slow_close uses delay as how long a close is held. reset and close take
  // after_bytes or after_duration (neither: at once); blackhole takes after_duration (then
  // silent both ways).
  Direction dir = Direction::both;  // default: down for latency, bandwidth and slice (toxiproxy's)
  uint64_t rate = 0;         // bandwidth: bytes per second (> 0)
  uint64_t after_bytes = 0;  // reset, close: after this many bytes forwarded in `dir`
  uint64_t slice_bytes = 0;  // slice: at most this many bytes a write (> 0)
  double loss = 0;           // loss: percent of the packets the kernel drops, (0, 100]
};

// Parses a --fault value: a kind, optionally `=VALUE`, then `,key=value` pairs, e.g.
// "delay=200ms,jitter=50ms,pct=25,method=grpc.testing.*/*". Fails (usage) with a message naming
// the key and the problem, e.g. "unknown status code 'NOPE' (use a name like UNAVAILABLE or a
// number 0-16)", "unknown fault kind 'slow' (use delay, abort, cancel, reset, stall or drop)" or
// "key 'jitter' does not apply to 'abort'". `mode` decides which kinds and keys are legal: a
// fault of the other mode fails naming the kind and the mode ("'latency' is a --tcp fault ...").
Result<FaultSpec> parse_fault_spec(std::string_view text, ProxyMode mode = ProxyMode::grpc);

// Parses the contents of a rules file: {"faults": [{"kind": "abort", "code": "UNAVAILABLE",
// ...}, ...]} with the keys of the flag form. `file_name` prefixes every message. Fails (local)
// on invalid JSON ("rules.json: invalid JSON at line 3, column 5: ...") or an invalid entry,
// naming the entry and field ("rules.json: faults[1].code: unknown status code 'NOPE' (...)").
Result<std::vector<FaultSpec>> parse_rules(std::string_view json_text, const std::string& file_name,
                                           ProxyMode mode = ProxyMode::grpc);

// Parses a byte count such as "1500", "64KB", "64KiB" or "1MB" (KB/MB/GB are powers of 1000,
// KiB/MiB/GiB of 1024). Fails (usage) naming `what`: "invalid slice 'x' (use bytes like 1400,
// 64KB or 1MiB)".
Result<uint64_t> parse_bytes(std::string_view text, std::string_view what);

// A byte count in the largest unit that keeps it whole: "1MiB", "64KB", "1500".
std::string format_bytes(uint64_t bytes);

// The direction a --tcp fault acts on when no dir is given: down for latency, bandwidth and
// slice (so latency=50ms adds 50 ms to a round trip, as in toxiproxy), both for the others.
Direction default_direction(FaultKind kind);

// The canonical flag form of a spec ("abort=UNAVAILABLE,pct=30,method=pkg.S/*").
std::string to_flag_form(const FaultSpec& spec);

}  // namespace grpcdx::chaos
