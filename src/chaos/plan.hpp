// Turns the per-fault decisions of decide.hpp into one plan per call, applying the stateful
// gates (limit, --max-active) and counting; shared by every proxy mode.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "chaos/counters.hpp"
#include "chaos/decide.hpp"
#include "chaos/fault_spec.hpp"
#include "core/error.hpp"

namespace grpcdx::chaos {

// Everything that will be done to one call.
struct CallPlan {
  Duration delay{0};                      // hold the call this long first (delays add up)
  std::optional<FaultAction> terminal;    // abort or drop: the upstream is never called
  std::optional<FaultAction> stream;      // cancel, reset or stall, once forwarding runs
  std::optional<Error> bad_request;       // --header-faults: the call's own fault header is invalid
  bool holds_slot = false;                // counts against --max-active until released
};

// Everything that will be done to one --tcp connection: every fault that hit, in order (they all
// apply; tcp_proxy.hpp says how they combine).
struct ConnectionPlan {
  std::vector<FaultAction> actions;
  bool holds_slot = false;  // counts against --max-active until released
};

struct InjectorOptions {
  std::vector<FaultSpec> faults;
  bool header_faults = false;            // honour x-grpcdx-delay / x-grpcdx-abort
  std::optional<uint64_t> max_active;    // calls under a fault at once; none: no cap
  ProxyMode mode = ProxyMode::grpc;      // tcp: plan_connection() and the --tcp counters
};

// Plans calls. Thread-safe; the random draws of one call happen together under a lock, so the
// same sequence of calls with the same seed gets the same plans.
class Injector {
 public:
  Injector(InjectorOptions options, std::unique_ptr<Random> rng);

  // Counts the call, decides every fault in order (one pct draw each), then accepts them in
  // order: every delay; the first abort or drop; the first cancel, reset or stall when there is
  // no abort or drop. A fault past its limit, or any fault when --max-active calls are already
  // under a fault, is not injected. Header faults (when enabled) come after the flag faults.
  CallPlan plan(const CallInfo& call);

  // Frees the --max-active slot of a finished call's plan (no effect when it held none).
  void release(const CallPlan& plan);

  // --tcp: counts the connection, decides every fault in order (one pct draw each, plus a jitter
  // seed for a latency with jitter) and accepts every hit fault that is within its limit, while
  // a --max-active slot is free (one slot per connection).
  ConnectionPlan plan_connection();

  // Frees the --max-active slot of a closed connection's plan (no effect when it held none).
  void release(const ConnectionPlan& plan);

  Counters& counters() { return m_counters; }
  const Counters& counters() const { return m_counters; }

  // The counter entries of the header faults (after the flag faults), when enabled.
  static constexpr std::string_view k_header_delay_entry = "header:x-grpcdx-delay";
  static constexpr std::string_view k_header_abort_entry = "header:x-grpcdx-abort";

 private:
  // Takes a --max-active slot for a call that does not hold one yet; false when all are taken.
  bool take_slot(bool& holds_slot);
  void release_slot(bool holds_slot);

  InjectorOptions m_options;
  std::unique_ptr<Random> m_rng;
  Counters m_counters;
  std::mutex m_mutex;
  std::vector<uint64_t> m_injected;  // per fault, guarded by m_mutex (limit checks)
  uint64_t m_active = 0;             // calls holding a slot, guarded by m_mutex
};

}  // namespace grpcdx::chaos
