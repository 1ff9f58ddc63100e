// Unit tests for src/chaos/loss_rules: the nft script of loss=P, table names and stale tables.
#include <doctest.h>

#include "chaos/loss_rules.hpp"

using namespace grpcdx::chaos;

namespace loss_rules_tests {

FaultEntry loss_entry(const char* id, const char* text) {
  auto spec = parse_fault_spec(text, ProxyMode::tcp);
  REQUIRE(spec);
  return FaultEntry{id, 0, FaultOrigin::flag, *spec};
}

const std::string k_head =
    "add table inet grpcdx_chaos_7_5000\n"
    "delete table inet grpcdx_chaos_7_5000\n"
    "table inet grpcdx_chaos_7_5000 {\n"
    "  chain pre { type filter hook prerouting priority raw; policy accept; }\n"
    "  chain out { type filter hook output priority raw; policy accept; }\n"
    "}\n";

}  // namespace loss_rules_tests

using namespace loss_rules_tests;

TEST_CASE("loss_rules: the loss faults of a set, in order, and nothing else") {
  FaultSet set;
  set.faults.push_back(loss_entry("f1", "loss=10"));
  auto latency = parse_fault_spec("latency=5ms", ProxyMode::tcp);
  REQUIRE(latency);
  set.faults.push_back(FaultEntry{"f2", 1, FaultOrigin::flag, *latency});
  set.faults.push_back(loss_entry("f3", "loss=0.5,dir=up"));
  auto rules = loss_rules(set);
  REQUIRE(rules.size() == 2);
  CHECK(rules[0].id == "f1");
  CHECK(rules[0].percent == 10.0);
  CHECK(rules[0].dir == Direction::both);
  CHECK(rules[1].id == "f3");
  CHECK(rules[1].dir == Direction::up);
}

TEST_CASE("loss_script: one transaction that replaces the table; each direction draws once a packet") {
  const LossPort port{false, "127.0.0.1", 5000};
  CHECK(loss_script("grpcdx_chaos_7_5000", port, {}) == k_head);
  CHECK(loss_script("grpcdx_chaos_7_5000", port, {LossRule{"f1", 10, Direction::both}}) ==
        k_head +
            "add rule inet grpcdx_chaos_7_5000 pre ip daddr 127.0.0.1 tcp dport 5000 numgen random mod 1000000 < "
            "100000 counter drop comment \"f1 up\"\n"
            "add rule inet grpcdx_chaos_7_5000 pre iif \"lo\" ip saddr 127.0.0.1 tcp sport 5000 numgen random mod "
            "1000000 < 100000 counter drop comment \"f1 down\"\n"
            "add rule inet grpcdx_chaos_7_5000 out oif != \"lo\" ip saddr 127.0.0.1 tcp sport 5000 numgen random "
            "mod 1000000 < 100000 counter drop comment \"f1 down\"\n");
  CHECK(loss_script("grpcdx_chaos_7_5000", port, {LossRule{"f2", 0.25, Direction::up}}) ==
        k_head +
            "add rule inet grpcdx_chaos_7_5000 pre ip daddr 127.0.0.1 tcp dport 5000 numgen random mod 1000000 < "
            "2500 counter drop comment \"f2 up\"\n");
}

TEST_CASE("loss_script: the listening address decides the family; a wildcard matches any address") {
  auto down_only = [](const LossPort& port) {
    return loss_script("t", port, {LossRule{"f1", 100, Direction::down}});
  };
  std::string v6 = down_only(LossPort{true, "::1", 443});
  CHECK(v6.find("pre iif \"lo\" ip6 saddr ::1 tcp sport 443 numgen random mod 1000000 < 1000000 counter drop") !=
        std::string::npos);
  CHECK(v6.find("dport") == std::string::npos);
  std::string any4 = down_only(LossPort{false, "", 443});
  CHECK(any4.find("out oif != \"lo\" meta nfproto ipv4 tcp sport 443 ") != std::string::npos);
  std::string any6 = down_only(LossPort{true, "", 443});
  CHECK(any6.find("out oif != \"lo\" tcp sport 443 ") != std::string::npos);
}

TEST_CASE("loss table names carry the pid; stale tables are those whose process is gone") {
  CHECK(loss_table_name(4242, 8080) == "grpcdx_chaos_4242_8080");
  CHECK(loss_table_pid("grpcdx_chaos_4242_8080") == 4242);
  CHECK(!loss_table_pid("grpcdx_chaos_4242"));
  CHECK(!loss_table_pid("grpcdx_chaos_x_8080"));
  CHECK(!loss_table_pid("grpcdx_chaos_4242_99999"));
  CHECK(!loss_table_pid("grpcdx_chaos__8080"));
  CHECK(!loss_table_pid("filter"));
  const std::string listing =
      "table inet filter\n"
      "table inet grpcdx_chaos_100_5000\n"
      "table ip grpcdx_chaos_101_5000\n"
      "table inet grpcdx_chaos_102_6000\n"
      "table inet grpcdx_chaos_103_7000\n";
  auto alive = [](int64_t pid) { return pid == 102; };
  CHECK(stale_loss_tables(listing, alive) ==
        std::vector<std::string>{"grpcdx_chaos_100_5000", "grpcdx_chaos_103_7000"});
  CHECK(stale_loss_tables("", alive).empty());
  CHECK(loss_delete_script("grpcdx_chaos_100_5000") == "delete table inet grpcdx_chaos_100_5000\n");
}
