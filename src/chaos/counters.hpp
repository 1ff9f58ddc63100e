// The counters of a chaos run, declared in one place: calls, each fault's matched/injected, and
// the statuses seen upstream and returned to clients; rendered as SPEC's JSON or a text table.
#pragma once

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
};

// Thread-safe counters; one instance per proxy.
class Counters {
 public:
  // One entry per fault, in order, named by `specs`.
  explicit Counters(const std::vector<std::string>& specs);

  void add_call();
  void add_matched(size_t fault);
  void add_injected(size_t fault);
  void add_upstream_status(int code);
  void add_client_status(int code);
  // The injected count of `fault` so far.
  uint64_t injected(size_t fault) const;

  CountersSnapshot snapshot() const;

 private:
  mutable std::mutex m_mutex;
  CountersSnapshot m_counts;
};

// {"calls": N, "faults": [{"spec", "matched", "injected"}], "upstream_status": {"OK": N},
// "client_status": {...}}: status names in code order.
nlohmann::ordered_json counters_json(const CountersSnapshot& counts);

// A readable table of the same numbers, several lines, ending with a newline.
std::string counters_table(const CountersSnapshot& counts);

// One short line for a terminal while the proxy runs: "calls 120 | injected 12 | OK 96,
// UNAVAILABLE 12 (to clients)".
std::string live_summary(const CountersSnapshot& counts);

}  // namespace grpcdx::chaos
