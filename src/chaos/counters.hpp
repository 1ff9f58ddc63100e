// The counters of a chaos run, declared in one place: calls, each fault's matched/injected, and
// the statuses seen upstream and returned to clients (under --tcp: connections and bytes each
// way instead of calls and statuses); rendered as SPEC's JSON or a text table.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace grpcdx::chaos {

struct FaultCounts {
  std::string spec;
  uint64_t matched = 0;   // calls that met method/header before pct was drawn
  uint64_t injected = 0;  // calls the fault was applied to
};

// A consistent copy of the counters.
struct CountersSnapshot {
  uint64_t calls = 0;
  std::vector<FaultCounts> faults;
  std::map<int, uint64_t> upstream_status;  // gRPC code -> calls; only calls that reached upstream
  std::map<int, uint64_t> client_status;    // gRPC code -> calls, as the client saw it

  // --tcp: connections instead of calls, bytes instead of statuses.
  bool tcp = false;
  uint64_t connections = 0;       // every connection accepted
  uint64_t open_connections = 0;  // accepted and not closed yet
  uint64_t bytes_up = 0;          // written to the upstream
  uint64_t bytes_down = 0;        // written to clients
  uint64_t upstream_failed = 0;   // connections whose upstream could not be connected
};

// Thread-safe counters; one instance per proxy.
class Counters {
 public:
  // One entry per fault, in order, named by `specs`; `tcp` selects the --tcp counters.
  explicit Counters(const std::vector<std::string>& specs, bool tcp = false);

  void add_call();
  void add_matched(size_t fault);
  void add_injected(size_t fault);
  void add_upstream_status(int code);
  void add_client_status(int code);
  // The injected count of `fault` so far.
  uint64_t injected(size_t fault) const;

  // A new fault entry (a fault added while the proxy runs), after every existing one; returns
  // its index for add_matched/add_injected (indexes are never reused).
  size_t add_fault(std::string spec);
  // Marks a removed fault: its counts stay in every snapshot until the next reset() drops it.
  void retire_fault(size_t fault);
  // The counts of one entry (zero when reset() has freed it).
  FaultCounts fault(size_t fault) const;
  // A snapshot of the counters, then sets them to zero (open connections stay: they are still
  // open) and frees the entries of removed faults, all in one step, so nothing counted between
  // the two is lost. Counts for a freed entry are ignored: the caller makes sure none can come
  // (Injector::reset_counters), so memory stays flat however many faults come and go.
  CountersSnapshot reset();

  // --tcp. Connections count when accepted (add_connection) and leave the open count when
  // closed; bytes count as they are written, lock-free since they change on every write.
  void add_connection();
  void connection_closed();
  void add_upstream_failure();
  void add_bytes_up(uint64_t n) { m_bytes_up.fetch_add(n, std::memory_order_relaxed); }
  void add_bytes_down(uint64_t n) { m_bytes_down.fetch_add(n, std::memory_order_relaxed); }

  CountersSnapshot snapshot() const;

 private:
  CountersSnapshot snapshot_locked() const;

  struct Entry {
    FaultCounts counts;
    bool retired = false;  // its fault was removed; freed at the next reset
  };

  mutable std::mutex m_mutex;
  CountersSnapshot m_counts;        // everything but the faults
  std::map<size_t, Entry> m_faults;  // by index, in the order made; removed ones until a reset
  size_t m_next_fault = 0;
  std::atomic<uint64_t> m_bytes_up{0};
  std::atomic<uint64_t> m_bytes_down{0};
};

// {"calls": N, "faults": [{"spec", "matched", "injected"}], "upstream_status": {"OK": N},
// "client_status": {...}}: status names in code order. Under --tcp: {"connections": N,
// "faults": [...], "bytes": {"up": N, "down": N}, "upstream_failed": N}.
nlohmann::ordered_json counters_json(const CountersSnapshot& counts);

// A readable table of the same numbers, several lines, ending with a newline.
std::string counters_table(const CountersSnapshot& counts);

// One short line for a terminal while the proxy runs: "calls 120 | injected 12 | OK 96,
// UNAVAILABLE 12 (to clients)"; under --tcp "connections 12 (3 open) | injected 2 | up 1.2 MB,
// down 48.0 MB".
std::string live_summary(const CountersSnapshot& counts);

}  // namespace grpcdx::chaos
