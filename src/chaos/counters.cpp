// Counter updates under one mutex, and their JSON and text renderings.
#include "chaos/counters.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "rpc/status_codes.hpp"

namespace grpcdx::chaos {

Counters::Counters(const std::vector<std::string>& specs, bool tcp) {
  for (const auto& s : specs) m_faults.emplace(m_next_fault++, Entry{FaultCounts{s, 0, 0}});
  m_counts.tcp = tcp;
}

size_t Counters::add_fault(std::string spec) {
  std::lock_guard lock(m_mutex);
  m_faults.emplace(m_next_fault, Entry{FaultCounts{std::move(spec), 0, 0}});
  return m_next_fault++;
}

void Counters::retire_fault(size_t fault) {
  std::lock_guard lock(m_mutex);
  if (auto it = m_faults.find(fault); it != m_faults.end()) it->second.retired = true;
}

FaultCounts Counters::fault(size_t fault) const {
  std::lock_guard lock(m_mutex);
  auto it = m_faults.find(fault);
  return it == m_faults.end() ? FaultCounts{} : it->second.counts;
}

CountersSnapshot Counters::reset() {
  std::lock_guard lock(m_mutex);
  CountersSnapshot before = snapshot_locked();
  // The byte counts are lock-free: exchange them so a write between the load and the zeroing
  // is not lost.
  before.bytes_up = m_bytes_up.exchange(0, std::memory_order_relaxed);
  before.bytes_down = m_bytes_down.exchange(0, std::memory_order_relaxed);
  m_counts.calls = 0;
  m_counts.connections = 0;
  m_counts.upstream_failed = 0;
  m_counts.upstream_status.clear();
  m_counts.client_status.clear();
  for (auto it = m_faults.begin(); it != m_faults.end();) {
    if (it->second.retired) {
      it = m_faults.erase(it);
      continue;
    }
    it->second.counts.matched = it->second.counts.injected = 0;
    ++it;
  }
  return before;
}

void Counters::add_connection() {
  std::lock_guard lock(m_mutex);
  ++m_counts.connections;
  ++m_counts.open_connections;
}
void Counters::connection_closed() {
  std::lock_guard lock(m_mutex);
  if (m_counts.open_connections > 0) --m_counts.open_connections;
}
void Counters::add_upstream_failure() {
  std::lock_guard lock(m_mutex);
  ++m_counts.upstream_failed;
}

void Counters::add_call() {
  std::lock_guard lock(m_mutex);
  ++m_counts.calls;
}
void Counters::add_matched(size_t fault) {
  std::lock_guard lock(m_mutex);
  if (auto it = m_faults.find(fault); it != m_faults.end()) ++it->second.counts.matched;
}
void Counters::add_injected(size_t fault) {
  std::lock_guard lock(m_mutex);
  if (auto it = m_faults.find(fault); it != m_faults.end()) ++it->second.counts.injected;
}
void Counters::add_upstream_status(int code) {
  std::lock_guard lock(m_mutex);
  ++m_counts.upstream_status[code];
}
void Counters::add_client_status(int code) {
  std::lock_guard lock(m_mutex);
  ++m_counts.client_status[code];
}
uint64_t Counters::injected(size_t fault) const {
  std::lock_guard lock(m_mutex);
  auto it = m_faults.find(fault);
  return it == m_faults.end() ? 0 : it->second.counts.injected;
}
CountersSnapshot Counters::snapshot() const {
  std::lock_guard lock(m_mutex);
  return snapshot_locked();
}

CountersSnapshot Counters::snapshot_locked() const {
  CountersSnapshot c = m_counts;
  c.faults.clear();
  c.faults.reserve(m_faults.size());
  for (const auto& [index, entry] : m_faults) c.faults.push_back(entry.counts);
  c.bytes_up = m_bytes_up.load(std::memory_order_relaxed);
  c.bytes_down = m_bytes_down.load(std::memory_order_relaxed);
  return c;
}

namespace {

nlohmann::ordered_json status_object(const std::map<int, uint64_t>& counts) {
  nlohmann::ordered_json o = nlohmann::ordered_json::object();
  for (const auto& [code, n] : counts) o[rpc::status_name(code)] = n;
  return o;
}

std::string status_list(const std::map<int, uint64_t>& counts) {
  if (counts.empty()) return "-";
  std::string out;
  for (const auto& [code, n] : counts) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", rpc::status_name(code), n);
  return out;
}

// "1.2 MB" for a live line (powers of 1000, one decimal).
std::string human_bytes(uint64_t n) {
  if (n < 1000) return fmt::format("{} B", n);
  static constexpr const char* k_units[] = {"kB", "MB", "GB", "TB"};
  double v = static_cast<double>(n);
  size_t u = 0;
  for (v /= 1000; v >= 1000 && u + 1 < std::size(k_units); v /= 1000) ++u;
  return fmt::format("{:.1f} {}", v, k_units[u]);
}

}  // namespace

nlohmann::ordered_json counters_json(const CountersSnapshot& c) {
  nlohmann::ordered_json faults = nlohmann::ordered_json::array();
  for (const auto& f : c.faults)
    faults.push_back({{"spec", f.spec}, {"matched", f.matched}, {"injected", f.injected}});
  if (c.tcp)
    return {{"connections", c.connections},
            {"faults", faults},
            {"bytes", {{"up", c.bytes_up}, {"down", c.bytes_down}}},
            {"upstream_failed", c.upstream_failed}};
  return {{"calls", c.calls},
          {"faults", faults},
          {"upstream_status", status_object(c.upstream_status)},
          {"client_status", status_object(c.client_status)}};
}

std::string counters_table(const CountersSnapshot& c) {
  std::string out = c.tcp ? fmt::format("connections      {}\n", c.connections)
                          : fmt::format("calls            {}\n", c.calls);
  if (!c.faults.empty()) {
    size_t width = 5;
    for (const auto& f : c.faults) width = std::max(width, f.spec.size());
    out += fmt::format("{:<{}}  {:>8}  {:>8}\n", "fault", width, "matched", "injected");
    for (const auto& f : c.faults) out += fmt::format("{:<{}}  {:>8}  {:>8}\n", f.spec, width, f.matched, f.injected);
  }
  if (c.tcp) {
    out += fmt::format("bytes up         {}\n", c.bytes_up);
    out += fmt::format("bytes down       {}\n", c.bytes_down);
    out += fmt::format("upstream failed  {}\n", c.upstream_failed);
    return out;
  }
  out += fmt::format("upstream status  {}\n", status_list(c.upstream_status));
  out += fmt::format("client status    {}\n", status_list(c.client_status));
  return out;
}

std::string live_summary(const CountersSnapshot& counts) {
  uint64_t injected = 0;
  for (const auto& f : counts.faults) injected += f.injected;
  if (counts.tcp)
    return fmt::format("grpcdx chaos: connections {} ({} open) | injected {} | up {}, down {}", counts.connections,
                       counts.open_connections, injected, human_bytes(counts.bytes_up),
                       human_bytes(counts.bytes_down));
  std::string statuses;
  for (const auto& [code, n] : counts.client_status)
    statuses += fmt::format("{}{} {}", statuses.empty() ? "" : ", ", rpc::status_name(code), n);
  return fmt::format("grpcdx chaos: calls {} | injected {} | to clients: {}", counts.calls, injected,
                     statuses.empty() ? "-" : statuses);
}

}  // namespace grpcdx::chaos
