// The kernel's side of loss=P for `chaos --tcp`: the proxy's own nftables table, written through
// Debian's libnftables. The library is loaded with dlopen("libnftables.so.1") when the first loss
// fault is set up, so the release binary (which links the gRPC stack statically) does not need it
// unless loss is used.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "chaos/fault_set.hpp"
#include "chaos/loss_rules.hpp"
#include "core/error.hpp"

namespace grpcdx::chaos {

class Nftables;

// One proxy's loss rules. Thread-safe.
class LossTable {
 public:
  // Rules for the packets of `port`; nothing is done until apply() meets a loss fault. A port of
  // 0 means the proxy listens on a unix socket, where apply() with a loss fault fails.
  explicit LossTable(LossPort port);
  ~LossTable();
  LossTable(const LossTable&) = delete;
  LossTable& operator=(const LossTable&) = delete;

  // Makes the kernel drop packets as the loss faults of `set` say, in one nftables transaction
  // (the previous rules stay in force until the new ones are). The first time `set` has a loss
  // fault, it checks CAP_NET_ADMIN, loads libnftables, removes the tables of proxies whose
  // process is gone (stale_loss_tables) and makes this proxy's table. A set without loss faults
  // deletes the table, if made. Fails (local), changing nothing, with one line naming the cause:
  // "loss=10 needs CAP_NET_ADMIN ...", "loss=10 needs libnftables ...", "loss=10 needs a TCP
  // port ...", or nftables' own error; and once remove() was called.
  Result<void> apply(const FaultSet& set);

  // Deletes the table, if made (best effort: a table this cannot delete is stale for the next
  // proxy). Safe to call more than once; apply() fails afterwards.
  void remove();

  // This proxy's table name (grpcdx_chaos_<pid>_<port>).
  const std::string& table() const { return m_table; }

 private:
  Result<void> open(const std::string& first_spec);

  std::mutex m_mutex;
  LossPort m_port;
  std::string m_table;
  std::unique_ptr<Nftables> m_nft;  // loaded at the first loss fault
  bool m_made = false;              // the table exists
  bool m_removed = false;
};

// True when this process may change nftables rules (CAP_NET_ADMIN in its effective set).
bool has_net_admin();

}  // namespace grpcdx::chaos
