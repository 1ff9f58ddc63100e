// The nftables side of the --tcp fault loss=P, as text: the proxy's own table and its rules, its
// name (so a later proxy can find a table whose proxy was killed), and which listed tables are
// stale. Pure; chaos/loss_table.hpp runs the scripts through libnftables.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chaos/fault_set.hpp"
#include "chaos/fault_spec.hpp"

namespace grpcdx::chaos {

// What the loss rules act on: the packets of the proxy's listening port.
struct LossPort {
  bool ipv6 = false;
  std::string address;  // the listen address ("127.0.0.1", "::1"); empty: the wildcard (0.0.0.0 or ::)
  uint16_t port = 0;
};

// One loss fault, as the rules need it.
struct LossRule {
  std::string id;  // the fault's id ("f3"), named in the rules' comments
  double percent = 0;
  Direction dir = Direction::both;
};

// The loss faults of `set`, in order.
std::vector<LossRule> loss_rules(const FaultSet& set);

// "grpcdx_chaos_<pid>_<port>": the table of the proxy with process id `pid` listening on `port`.
std::string loss_table_name(int64_t pid, uint16_t port);

// The process id in a table name made by loss_table_name; nullopt for any other name.
std::optional<int64_t> loss_table_pid(std::string_view table);

// The nft script that makes table `table` (family inet) hold exactly `rules`, in one transaction,
// whether or not the table exists already. Each rule drops its share of the packets with
// `numgen random` (in millionths), each direction drawing on its own:
// - up (client -> proxy): packets to the port, at prerouting;
// - down (proxy -> client): packets from the port, at prerouting when they come back in on the
//   loopback interface (a local client: the packet is lost on the way, as on a link) and at output
//   when they leave through any other (a client on another machine).
// So every packet meets at most one draw per rule. A fault with dir=both has both.
std::string loss_script(const std::string& table, const LossPort& port, const std::vector<LossRule>& rules);

// The nft command that deletes table `table`.
std::string loss_delete_script(const std::string& table);

// The tables in `listing` (the output of `list tables`: lines "table inet NAME") made by
// loss_table_name whose process `alive` says is gone, in the order listed.
std::vector<std::string> stale_loss_tables(std::string_view listing, const std::function<bool(int64_t)>& alive);

}  // namespace grpcdx::chaos
