// Unit tests for src/chaos/decide and src/chaos/plan: matching, pct draws with a pinned random
// source, limits, --max-active, header faults and counters.
#include <doctest.h>

#include <deque>

#include "chaos/counters.hpp"
#include "chaos/decide.hpp"
#include "chaos/plan.hpp"
#include "fault_spec_fixture.hpp"

using namespace grpcdx;
using namespace grpcdx::chaos;
using grpcdx::test::spec;
using grpcdx::test::tcp_spec;
using namespace std::chrono_literals;

namespace {

// Returns the queued numbers in order; fails the test when it runs dry.
class ScriptedRandom final : public Random {
 public:
  explicit ScriptedRandom(std::deque<double> values) : m_values(std::move(values)) {}
  double next_unit() override {
    REQUIRE(!m_values.empty());
    double v = m_values.front();
    m_values.pop_front();
    return v;
  }
  size_t left() const { return m_values.size(); }

 private:
  std::deque<double> m_values;
};

CallInfo call(std::string method, std::vector<std::pair<std::string, std::string>> md = {}) {
  return CallInfo{std::move(method), std::move(md)};
}

}  // namespace

TEST_CASE("glob_match") {
  CHECK(glob_match("pkg.S/*", "pkg.S/M"));
  CHECK(glob_match("*", "anything/at/all"));
  CHECK(glob_match("grpc.testing.*/*Call", "grpc.testing.TestService/UnaryCall"));
  CHECK(!glob_match("grpc.testing.*/*Call", "grpc.testing.TestService/EmptyCallX"));
  CHECK(glob_match("pkg.S/?", "pkg.S/M"));
  CHECK(!glob_match("pkg.S/?", "pkg.S/MM"));
  CHECK(!glob_match("pkg.S/M", "pkg.S/MM"));
  CHECK(glob_match("", ""));
  CHECK(!glob_match("", "x"));
}

TEST_CASE("decide: pct is one draw per matching fault") {
  ScriptedRandom rng({0.299, 0.30});
  auto s = spec("abort=UNAVAILABLE,pct=30");
  auto hit = decide(s, call("pkg.S/M"), rng);
  CHECK(hit.matched);
  REQUIRE(hit.action);
  CHECK(hit.action->kind == FaultKind::abort);
  CHECK(hit.action->code == 14);
  CHECK(hit.action->message == "grpcdx chaos: injected fault 'abort=UNAVAILABLE,pct=30'");
  auto miss = decide(s, call("pkg.S/M"), rng);
  CHECK(miss.matched);
  CHECK(!miss.action);
  CHECK(rng.left() == 0);
}

TEST_CASE("decide: method and header conditions draw nothing when they fail") {
  ScriptedRandom rng({});
  CHECK(!decide(spec("drop,method=pkg.S/*"), call("other.S/M"), rng).matched);
  CHECK(!decide(spec("drop,header=x-env:canary"), call("pkg.S/M", {{"x-env", "prod"}}), rng).matched);
  ScriptedRandom one({0.5});
  CHECK(decide(spec("drop,header=x-env:can*"), call("pkg.S/M", {{"x-env", "canary"}}), one).action);
}

TEST_CASE("decide: jitter is drawn around the delay") {
  ScriptedRandom rng({0.0, 0.0, 0.0, 0.75});
  auto s = spec("delay=200ms,jitter=100ms");
  CHECK(decide(s, call("a/b"), rng).action->delay == 100ms);  // u = -1
  CHECK(decide(s, call("a/b"), rng).action->delay == 250ms);  // u = 0.5
}

TEST_CASE("Injector: limit, counters and combination order") {
  InjectorOptions o;
  o.faults = {spec("delay=10ms"), spec("abort=INTERNAL,limit=1"), spec("cancel,after=1")};
  Injector inj(o, std::make_unique<ScriptedRandom>(std::deque<double>{0, 0, 0, 0, 0, 0}));
  auto first = inj.plan(call("a/b"));
  CHECK(first.delay == 10ms);
  REQUIRE(first.terminal);
  CHECK(first.terminal->code == 13);
  CHECK(!first.stream);  // the abort wins: the upstream is never called
  auto second = inj.plan(call("a/b"));
  CHECK(!second.terminal);  // past its limit
  REQUIRE(second.stream);
  CHECK(second.stream->kind == FaultKind::cancel);
  auto c = inj.counters().snapshot();
  CHECK(c.calls == 2);
  CHECK(c.faults[0].matched == 2);
  CHECK(c.faults[0].injected == 2);
  CHECK(c.faults[1].matched == 2);
  CHECK(c.faults[1].injected == 1);
  CHECK(c.faults[2].matched == 2);
  CHECK(c.faults[2].injected == 1);
}

TEST_CASE("Injector: --max-active caps calls under a fault") {
  InjectorOptions o;
  o.faults = {spec("stall")};
  o.max_active = 1;
  Injector inj(o, std::make_unique<SeededRandom>(1));
  auto a = inj.plan(call("a/b"));
  CHECK(a.stream);
  CHECK(a.holds_slot);
  auto b = inj.plan(call("a/b"));
  CHECK(!b.stream);
  CHECK(!b.holds_slot);
  inj.release(a);
  CHECK(inj.plan(call("a/b")).stream);
  CHECK(inj.counters().snapshot().faults[0].injected == 2);
}

TEST_CASE("Injector: the same seed gives the same plans") {
  InjectorOptions o;
  o.faults = {spec("abort=UNAVAILABLE,pct=30")};
  Injector one(o, std::make_unique<SeededRandom>(42)), two(o, std::make_unique<SeededRandom>(42));
  int hits = 0;
  for (int i = 0; i < 1000; ++i) {
    bool a = one.plan(call("a/b")).terminal.has_value();
    bool b = two.plan(call("a/b")).terminal.has_value();
    CHECK(a == b);
    hits += a;
  }
  CHECK(hits > 240);
  CHECK(hits < 360);
}

TEST_CASE("header faults") {
  InjectorOptions o;
  o.header_faults = true;
  Injector inj(o, std::make_unique<SeededRandom>(1));
  auto p = inj.plan(call("a/b", {{"x-grpcdx-delay", "300ms"}, {"x-grpcdx-abort", "unavailable"}}));
  CHECK(p.delay == 300ms);
  REQUIRE(p.terminal);
  CHECK(p.terminal->code == 14);
  auto bad = inj.plan(call("a/b", {{"x-grpcdx-abort", "NOPE"}}));
  REQUIRE(bad.bad_request);
  CHECK(bad.bad_request->message == "invalid x-grpcdx-abort 'NOPE': use a status code from 1 to 16 by name or number");
  CHECK(!inj.plan(call("a/b")).terminal);
  auto c = inj.counters().snapshot();
  REQUIRE(c.faults.size() == 2);
  CHECK(c.faults[0].spec == "header:x-grpcdx-delay");
  CHECK(c.faults[0].injected == 1);
  CHECK(c.faults[1].injected == 1);
}

TEST_CASE("counters_json has SPEC's shape") {
  Counters c({"abort=UNAVAILABLE,pct=10"});
  c.add_call();
  c.add_call();
  c.add_matched(0);
  c.add_matched(0);
  c.add_injected(0);
  c.add_upstream_status(0);
  c.add_client_status(0);
  c.add_client_status(14);
  CHECK(counters_json(c.snapshot()).dump() ==
        R"({"calls":2,"faults":[{"spec":"abort=UNAVAILABLE,pct=10","matched":2,"injected":1}],)"
        R"("upstream_status":{"OK":1},"client_status":{"OK":1,"UNAVAILABLE":1}})");
  auto table = counters_table(c.snapshot());
  CHECK(table.find("client status    OK 1, UNAVAILABLE 1\n") != std::string::npos);
}


TEST_CASE("decide --tcp: every connection matches; pct is one draw; a jittered latency draws its seed") {
  ScriptedRandom rng({0.2, 0.5, 0.35});
  auto latency = tcp_spec("latency=50ms,jitter=10ms,pct=30,dir=down");
  auto hit = decide(latency, CallInfo{}, rng);
  CHECK(hit.matched);
  REQUIRE(hit.action);
  CHECK(hit.action->kind == FaultKind::latency);
  CHECK(hit.action->delay == 50ms);
  CHECK(hit.action->jitter == 10ms);
  CHECK(hit.action->dir == Direction::down);
  CHECK(hit.action->jitter_seed == static_cast<uint64_t>(0.5 * 9007199254740992.0));
  auto miss = decide(latency, CallInfo{}, rng);
  CHECK(miss.matched);
  CHECK(!miss.action);  // 35 is not below 30, and a miss draws no seed
  CHECK(rng.left() == 0);
  ScriptedRandom one({0.99});
  auto reset = decide(tcp_spec("reset,after=1KB,dir=up"), CallInfo{}, one);
  REQUIRE(reset.action);
  CHECK(reset.action->after_bytes == 1000);
  CHECK(reset.action->dir == Direction::up);
  CHECK(one.left() == 0);
}

TEST_CASE("Injector::plan_connection: every hit applies, within limits and --max-active") {
  InjectorOptions o;
  o.mode = ProxyMode::tcp;
  o.faults = {tcp_spec("latency=10ms"), tcp_spec("reset,after=100,limit=1"), tcp_spec("bandwidth=1KB/s,pct=50")};
  o.max_active = 2;
  Injector inj(o, std::make_unique<ScriptedRandom>(std::deque<double>{0, 0, 0.4, 0, 0, 0.6, 0, 0, 0}));
  auto first = inj.plan_connection();
  REQUIRE(first.actions.size() == 3);
  CHECK(first.actions[0].kind == FaultKind::latency);
  CHECK(first.actions[1].kind == FaultKind::reset);
  CHECK(first.actions[2].rate == 1000);
  CHECK(first.holds_slot);
  auto second = inj.plan_connection();  // the reset is past its limit; bandwidth's draw misses
  REQUIRE(second.actions.size() == 1);
  CHECK(second.actions[0].kind == FaultKind::latency);
  auto third = inj.plan_connection();  // two connections hold the two slots
  CHECK(third.actions.empty());
  CHECK(!third.holds_slot);
  inj.release(first);
  inj.release(third);
  auto c = inj.counters().snapshot();
  CHECK(c.tcp);
  CHECK(c.connections == 3);
  CHECK(c.open_connections == 3);  // the proxy reports closes itself
  CHECK(c.faults[0].matched == 3);
  CHECK(c.faults[0].injected == 2);
  CHECK(c.faults[1].injected == 1);
  CHECK(c.faults[2].injected == 1);
}

TEST_CASE("Injector::plan_connection: the same seed gives the same faults") {
  InjectorOptions o;
  o.mode = ProxyMode::tcp;
  o.faults = {tcp_spec("reset,pct=30"), tcp_spec("latency=5ms,jitter=1ms,pct=50")};
  Injector one(o, std::make_unique<SeededRandom>(7)), two(o, std::make_unique<SeededRandom>(7));
  int resets = 0;
  for (int i = 0; i < 1000; ++i) {
    auto a = one.plan_connection(), b = two.plan_connection();
    REQUIRE(a.actions.size() == b.actions.size());
    for (size_t k = 0; k < a.actions.size(); ++k) {
      CHECK(a.actions[k].kind == b.actions[k].kind);
      CHECK(a.actions[k].jitter_seed == b.actions[k].jitter_seed);
    }
    resets += !a.actions.empty() && a.actions[0].kind == FaultKind::reset;
  }
  CHECK(resets > 240);
  CHECK(resets < 360);
}

TEST_CASE("counters_json --tcp: connections and bytes instead of calls and statuses") {
  Counters c({"latency=10ms"}, true);
  c.add_connection();
  c.add_connection();
  c.connection_closed();
  c.add_matched(0);
  c.add_injected(0);
  c.add_bytes_up(100);
  c.add_bytes_up(20);
  c.add_bytes_down(5000);
  c.add_upstream_failure();
  auto s = c.snapshot();
  CHECK(s.open_connections == 1);
  CHECK(counters_json(s).dump() ==
        R"({"connections":2,"faults":[{"spec":"latency=10ms","matched":1,"injected":1}],)"
        R"("bytes":{"up":120,"down":5000},"upstream_failed":1})");
  CHECK(counters_table(s) ==
        "connections      2\n"
        "fault          matched  injected\n"
        "latency=10ms         1         1\n"
        "bytes up         120\n"
        "bytes down       5000\n"
        "upstream failed  1\n");
  CHECK(live_summary(s) == "grpcdx chaos: connections 2 (1 open) | injected 1 | up 120 B, down 5.0 kB");
}
