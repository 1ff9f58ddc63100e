// Unit tests for src/chaos/counters: the counters add up, and the live summary line.
#include <doctest.h>

#include <thread>
#include <vector>

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

TEST_CASE("Counters add up when every proxy thread counts at once (run under TSan by scripts/test-tsan)") {
  Counters c({"abort=UNAVAILABLE", "delay=1ms"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&c, t] {
      for (int i = 0; i < 1000; ++i) {
        c.add_call();
        c.add_matched(t % 2);
        if (i % 10 == 0) c.add_injected(t % 2);
        c.add_upstream_status(i % 3 == 0 ? 14 : 0);
        c.add_client_status(i % 3 == 0 ? 14 : 0);
        c.add_bytes_up(2);
        if (i % 100 == 0) (void)c.snapshot();  // the live summary reads while calls count
      }
    });
  for (auto& t : threads) t.join();
  auto s = c.snapshot();
  CHECK(s.calls == 4000);
  CHECK(s.faults[0].matched + s.faults[1].matched == 4000);
  CHECK(s.faults[0].injected + s.faults[1].injected == 400);
  CHECK(s.client_status.at(0) + s.client_status.at(14) == 4000);
  CHECK(s.upstream_status.at(14) == 4 * 334);
  CHECK(s.bytes_up == 8000);
}
