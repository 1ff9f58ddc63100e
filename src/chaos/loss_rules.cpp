// The loss rules as nft script text, table names and stale tables.
#include "chaos/loss_rules.hpp"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace grpcdx::chaos {

namespace {

constexpr std::string_view k_table_prefix = "grpcdx_chaos_";
// The draw: `numgen random mod k_draws < threshold`; a millionth is the finest share loss=P takes.
constexpr uint64_t k_draws = 1'000'000;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::vector<LossRule> loss_rules(const FaultSet& set) {
  std::vector<LossRule> rules;
  for (const auto& e : set.faults)
    if (e.spec.kind == FaultKind::loss) rules.push_back(LossRule{e.id, e.spec.loss, e.spec.dir});
  return rules;
}

std::string loss_table_name(int64_t pid, uint16_t port) { return fmt::format("{}{}_{}", k_table_prefix, pid, port); }

std::optional<int64_t> loss_table_pid(std::string_view table) {
  if (!table.starts_with(k_table_prefix)) return std::nullopt;
  table.remove_prefix(k_table_prefix.size());
  auto underscore = table.find('_');
  if (underscore == std::string_view::npos || underscore == 0 || underscore + 1 == table.size()) return std::nullopt;
  int64_t pid = 0;
  uint32_t port = 0;
  auto [pend, pec] = std::from_chars(table.data(), table.data() + underscore, pid);
  auto [rend, rec] = std::from_chars(table.data() + underscore + 1, table.data() + table.size(), port);
  if (pec != std::errc() || pend != table.data() + underscore || pid <= 0) return std::nullopt;
  if (rec != std::errc() || rend != table.data() + table.size() || port > 65535) return std::nullopt;
  return pid;
}

std::string loss_script(const std::string& table, const LossPort& port, const std::vector<LossRule>& rules) {
  // "add" then "delete" then the table: whatever was there (a table of a proxy that had our pid,
  // or our own earlier rules) is replaced in the same transaction, so packets see either the old
  // rules or the new ones, never none.
  std::string out = fmt::format(
      "add table inet {0}\n"
      "delete table inet {0}\n"
      "table inet {0} {{\n"
      "  chain pre {{ type filter hook prerouting priority raw; policy accept; }}\n"
      "  chain out {{ type filter hook output priority raw; policy accept; }}\n"
      "}}\n",
      table);
  const std::string_view ip = port.ipv6 ? "ip6" : "ip";
  // A wildcard IPv4 listener takes no IPv6 packets; a wildcard IPv6 one takes both.
  const std::string to_port = port.address.empty()
                                  ? (port.ipv6 ? "" : "meta nfproto ipv4 ")
                                  : fmt::format("{} daddr {} ", ip, port.address);
  const std::string from_port = port.address.empty()
                                    ? (port.ipv6 ? "" : "meta nfproto ipv4 ")
                                    : fmt::format("{} saddr {} ", ip, port.address);
  for (const auto& r : rules) {
    uint64_t threshold = static_cast<uint64_t>(std::llround(r.percent / 100.0 * static_cast<double>(k_draws)));
    if (threshold == 0) threshold = 1;
    if (threshold > k_draws) threshold = k_draws;
    const std::string draw = fmt::format("numgen random mod {} < {} counter drop", k_draws, threshold);
    if (r.dir != Direction::down)
      out += fmt::format("add rule inet {} pre {}tcp dport {} {} comment \"{} up\"\n", table, to_port, port.port, draw,
                         r.id);
    if (r.dir != Direction::up) {
      out += fmt::format("add rule inet {} pre iif \"lo\" {}tcp sport {} {} comment \"{} down\"\n", table, from_port,
                         port.port, draw, r.id);
      out += fmt::format("add rule inet {} out oif != \"lo\" {}tcp sport {} {} comment \"{} down\"\n", table,
                         from_port, port.port, draw, r.id);
    }
  }
  return out;
}

std::string loss_delete_script(const std::string& table) { return fmt::format("delete table inet {}\n", table); }

std::vector<std::string> stale_loss_tables(std::string_view listing, const std::function<bool(int64_t)>& alive) {
  std::vector<std::string> stale;
  while (!listing.empty()) {
    auto nl = listing.find('\n');
    std::string_view line = trim(listing.substr(0, nl));
    listing = nl == std::string_view::npos ? std::string_view{} : listing.substr(nl + 1);
    constexpr std::string_view k_inet = "table inet ";
    if (!line.starts_with(k_inet)) continue;
    std::string_view name = trim(line.substr(k_inet.size()));
    auto pid = loss_table_pid(name);
    if (pid && !alive(*pid)) stale.emplace_back(name);
  }
  return stale;
}

}  // namespace grpcdx::chaos
