// The faults a proxy applies, each with a stable id, as an immutable set that is replaced whole:
// a proxy reads the current set without a lock and keeps the one it read for the call (or
// connection) it plans; a change builds a new set and publishes it atomically.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "chaos/fault_spec.hpp"

namespace grpcdx::chaos {

// Where a fault came from: --fault, --rules (replaced when the file is re-read) or the admin
// service.
enum class FaultOrigin { flag, rules, admin };

// One fault of a set.
struct FaultEntry {
  std::string id;       // "f1", "f2", ...: never reused during a proxy's life
  size_t counter = 0;   // its entry in Counters (and in the injector's limit counts); stable
  FaultOrigin origin = FaultOrigin::flag;
  FaultSpec spec;
};

// An immutable list of faults, in the order they are decided.
struct FaultSet {
  std::vector<FaultEntry> faults;
};

// The current fault set. Readers take it with current() (an atomic load of a shared_ptr: no
// lock of ours, and the set they hold stays valid however the published one changes); writers
// publish a new one with publish(). Writers must be serialised by the caller.
class FaultSetHolder {
 public:
  FaultSetHolder() : m_set(std::make_shared<const FaultSet>()) {}

  std::shared_ptr<const FaultSet> current() const { return m_set.load(std::memory_order_acquire); }
  void publish(std::shared_ptr<const FaultSet> set) { m_set.store(std::move(set), std::memory_order_release); }

 private:
  std::atomic<std::shared_ptr<const FaultSet>> m_set;
};

// "f1" for 1: the id of the n-th fault a proxy ever had.
std::string fault_id(uint64_t n);

// `set` without the fault `id`; nullptr when it has no such fault.
std::shared_ptr<const FaultSet> without_fault(const FaultSet& set, const std::string& id);

// `set` with every fault of `origin` removed, then `replacement` appended (in order).
std::shared_ptr<const FaultSet> with_origin_replaced(const FaultSet& set, FaultOrigin origin,
                                                     std::vector<FaultEntry> replacement);

}  // namespace grpcdx::chaos
