// Unit tests for src/chaos/counters: the counters add up, and the live summary line.
#include <doctest.h>

#include "chaos/counters.hpp"

using namespace grpcdx::chaos;

TEST_CASE("Counters count calls, faults and statuses") {
  Counters c({"abort=UNAVAILABLE,pct=30", "delay=10ms"});
  for (int i = 0; i < 3; ++i) c.add_call();
  c.add_matched(0);
  c.add_matched(0);
  c.add_injected(0);
  c.add_upstream_status(0);
  c.add_client_status(0);
  c.add_client_status(14);
  auto s = c.snapshot();
  CHECK(s.calls == 3);
  REQUIRE(s.faults.size() == 2);
  CHECK(s.faults[0].spec == "abort=UNAVAILABLE,pct=30");
  CHECK(s.faults[0].matched == 2);
  CHECK(s.faults[0].injected == 1);
  CHECK(s.faults[1].matched == 0);
  CHECK(c.injected(0) == 1);
  CHECK(s.upstream_status.at(0) == 1);
  CHECK(s.client_status.at(14) == 1);
}

TEST_CASE("live_summary is one short line") {
  CountersSnapshot s;
  CHECK(live_summary(s) == "grpcdx chaos: calls 0 | injected 0 | to clients: -");
  s.calls = 120;
  s.faults = {{"abort=UNAVAILABLE", 120, 12}, {"delay=1s", 120, 3}};
  s.client_status = {{0, 105}, {14, 12}, {4, 3}};
  CHECK(live_summary(s) ==
        "grpcdx chaos: calls 120 | injected 15 | to clients: OK 105, DEADLINE_EXCEEDED 3, UNAVAILABLE 12");
}
