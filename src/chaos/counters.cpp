// Counter updates under one mutex, and their JSON and text renderings.
#include "chaos/counters.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "rpc/status_codes.hpp"

namespace grpcdx::chaos {

Counters::Counters(const std::vector<std::string>& specs) {
  for (const auto& s : specs) m_counts.faults.push_back(FaultCounts{s, 0, 0});
}

void Counters::add_call() {
  std::lock_guard lock(m_mutex);
  ++m_counts.calls;
}
void Counters::add_matched(size_t fault) {
  std::lock_guard lock(m_mutex);
  ++m_counts.faults.at(fault).matched;
}
void Counters::add_injected(size_t fault) {
  std::lock_guard lock(m_mutex);
  ++m_counts.faults.at(fault).injected;
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
  return m_counts.faults.at(fault).injected;
}
CountersSnapshot Counters::snapshot() const {
  std::lock_guard lock(m_mutex);
  return m_counts;
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

}  // namespace

nlohmann::ordered_json counters_json(const CountersSnapshot& c) {
  nlohmann::ordered_json faults = nlohmann::ordered_json::array();
  for (const auto& f : c.faults)
    faults.push_back({{"spec", f.spec}, {"matched", f.matched}, {"injected", f.injected}});
  return {{"calls", c.calls},
          {"faults", faults},
          {"upstream_status", status_object(c.upstream_status)},
          {"client_status", status_object(c.client_status)}};
}

std::string counters_table(const CountersSnapshot& c) {
  std::string out = fmt::format("calls            {}\n", c.calls);
  if (!c.faults.empty()) {
    size_t width = 5;
    for (const auto& f : c.faults) width = std::max(width, f.spec.size());
    out += fmt::format("{:<{}}  {:>8}  {:>8}\n", "fault", width, "matched", "injected");
    for (const auto& f : c.faults) out += fmt::format("{:<{}}  {:>8}  {:>8}\n", f.spec, width, f.matched, f.injected);
  }
  out += fmt::format("upstream status  {}\n", status_list(c.upstream_status));
  out += fmt::format("client status    {}\n", status_list(c.client_status));
  return out;
}

std::string live_summary(const CountersSnapshot& counts) {
  uint64_t injected = 0;
  for (const auto& f : counts.faults) injected += f.injected;
  std::string statuses;
  for (const auto& [code, n] : counts.client_status)
    statuses += fmt::format("{}{} {}", statuses.empty() ? "" : ", ", rpc::status_name(code), n);
  return fmt::format("grpcdx chaos: calls {} | injected {} | to clients: {}", counts.calls, injected,
                     statuses.empty() ? "-" : statuses);
}

}  // namespace grpcdx::chaos
