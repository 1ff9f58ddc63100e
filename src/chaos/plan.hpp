// Turns the per-fault decisions of decide.hpp into one plan per call, applying the stateful
// gates (limit, --max-active) and counting; shared by every proxy mode.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "chaos/counters.hpp"
#include "chaos/decide.hpp"
#include "chaos/fault_set.hpp"
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
  std::vector<FaultSpec> faults;         // --fault: ids f1, f2, ... in order
  std::vector<FaultSpec> rules;          // --rules: the ids after those of `faults`
  bool header_faults = false;            // honour x-grpcdx-delay / x-grpcdx-abort
  std::optional<uint64_t> max_active;    // calls under a fault at once; none: no cap
  ProxyMode mode = ProxyMode::grpc;      // tcp: plan_connection() and the --tcp counters
};

// A fault as the admin service lists it: id, spec and its counts so far.
struct FaultStatus {
  std::string id;
  std::string spec;
  uint64_t matched = 0;
  uint64_t injected = 0;
};

// Plans calls. Thread-safe; the random draws of one call happen together under a lock, so the
// same sequence of calls with the same seed gets the same plans. The faults can change while it
// runs (add_fault, remove_fault, ...): a plan uses the set that was current when it began, read
// without taking any lock, so a change applies to the calls planned after it.
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
  // a --max-active slot is free (one slot per connection). A loss fault is the kernel's, on every
  // connection alike: it draws nothing, takes no slot, and counts the connection as matched and
  // injected; it is not among the plan's actions.
  ConnectionPlan plan_connection();

  // Frees the --max-active slot of a closed connection's plan (no effect when it held none).
  void release(const ConnectionPlan& plan);

  // Which proxy this plans for (admin specs are parsed for it).
  ProxyMode mode() const { return m_options.mode; }

  // The current fault set (it stays valid however the faults change later).
  std::shared_ptr<const FaultSet> fault_set() const { return m_faults.current(); }

  // The current faults, in decision order, with their counts.
  std::vector<FaultStatus> list_faults() const;

  // Something outside the injector that must follow the fault set (the kernel's loss rules of
  // --tcp): called with every new set before it is published, under the writers' lock. When it
  // fails, the change is not made and its error is what the change returns.
  using SetHook = std::function<Result<void>(const FaultSet&)>;
  void set_hook(SetHook hook);

  // Adds a fault after the current ones, with the next id; returns it with zero counts. Fails
  // only with the hook's error.
  Result<FaultStatus> add_fault(FaultSpec spec, FaultOrigin origin = FaultOrigin::admin);

  // Removes fault `id`; its counts stay in the counters. False when there is no such fault.
  // Fails only with the hook's error.
  Result<bool> remove_fault(const std::string& id);

  // Removes every fault. Fails only with the hook's error.
  Result<void> clear_faults();

  // Replaces the faults of `origin` (the re-read --rules file) with `specs`, which get new ids.
  // Fails only with the hook's error (the faults in force stay).
  Result<void> replace_faults(FaultOrigin origin, std::vector<FaultSpec> specs);

  Counters& counters() { return m_counters; }
  const Counters& counters() const { return m_counters; }

  // Counters::reset, with no plan counting meanwhile: the entries (and limit counts) of removed
  // faults are freed, since no plan can count them any more (plans read the fault set under the
  // same lock they count under).
  CountersSnapshot reset_counters();

  // The counter entries of the header faults (after the flag faults), when enabled.
  static constexpr std::string_view k_header_delay_entry = "header:x-grpcdx-delay";
  static constexpr std::string_view k_header_abort_entry = "header:x-grpcdx-abort";

 private:
  // Takes a --max-active slot for a call that does not hold one yet; false when all are taken.
  bool take_slot(bool& holds_slot);
  void release_slot(bool holds_slot);

  // A new entry for `spec` (counter, limit count, id); the caller holds m_write_mutex.
  FaultEntry make_entry(FaultSpec spec, FaultOrigin origin);

  // Runs the hook over `next` and publishes it when the hook agrees; the caller holds
  // m_write_mutex.
  Result<void> publish(std::shared_ptr<const FaultSet> next);

  InjectorOptions m_options;
  std::unique_ptr<Random> m_rng;
  Counters m_counters;
  FaultSetHolder m_faults;
  std::mutex m_write_mutex;          // serialises changes of the fault set
  SetHook m_hook;                    // guarded by m_write_mutex
  uint64_t m_next_id = 1;            // guarded by m_write_mutex
  size_t m_header_base = 0;          // the counter entries of the header faults
  std::mutex m_mutex;
  std::unordered_map<size_t, uint64_t> m_injected;  // injections of faults with a limit, by counter
                                                    // entry; guarded by m_mutex
  uint64_t m_active = 0;             // calls holding a slot, guarded by m_mutex
};

}  // namespace grpcdx::chaos
