// Unit tests for src/chaos/fault_set and the Injector's runtime changes: stable ids, a swap that
// leaves plans in progress alone, counters that stay consistent across removal and reset.
#include <doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "chaos/fault_set.hpp"
#include "chaos/plan.hpp"

using namespace grpcdx::chaos;

namespace fault_set_tests {

FaultSpec make(const char* text, ProxyMode mode = ProxyMode::grpc) {
  auto s = parse_fault_spec(text, mode);
  REQUIRE(s);
  return *s;
}

CallInfo unary() { return CallInfo{"pkg.S/M", {}}; }

}  // namespace fault_set_tests

using namespace fault_set_tests;

TEST_CASE("fault ids are f1, f2, ... and never reused") {
  InjectorOptions o;
  o.faults = {make("delay=1ms")};
  o.rules = {make("abort=INTERNAL")};
  Injector inj(o, std::make_unique<SeededRandom>(1));
  auto listed = inj.list_faults();
  REQUIRE(listed.size() == 2);
  CHECK(listed[0].id == "f1");
  CHECK(listed[1].id == "f2");
  CHECK(listed[1].spec == "abort=INTERNAL");
  CHECK(inj.add_fault(make("drop"))->id == "f3");
  CHECK(inj.remove_fault("f3").value());
  CHECK(!inj.remove_fault("f3").value());
  CHECK(!inj.remove_fault("nope").value());
  CHECK(inj.add_fault(make("drop"))->id == "f4");
  CHECK(inj.clear_faults());
  CHECK(inj.list_faults().empty());
  CHECK(inj.add_fault(make("drop"))->id == "f5");
}

TEST_CASE("a change applies to calls planned after it, and a set in use stays valid") {
  FaultSetHolder holder;
  auto first = std::make_shared<FaultSet>();
  first->faults.push_back(FaultEntry{"f1", 0, FaultOrigin::flag, make("abort=INTERNAL")});
  holder.publish(first);
  auto held = holder.current();  // a call that began before the change
  auto next = without_fault(*held, "f1");
  REQUIRE(next);
  holder.publish(next);
  CHECK(held->faults.size() == 1);  // untouched: the call keeps the fault it drew
  CHECK(holder.current()->faults.empty());
  CHECK(without_fault(*holder.current(), "f1") == nullptr);
}

TEST_CASE("Injector: added and removed faults decide later calls only") {
  Injector inj(InjectorOptions{}, std::make_unique<SeededRandom>(1));
  CHECK(!inj.plan(unary()).terminal);
  auto added = inj.add_fault(make("abort=UNAVAILABLE")).value();
  auto hit = inj.plan(unary());
  REQUIRE(hit.terminal);
  CHECK(hit.terminal->code == 14);
  CHECK(inj.remove_fault(added.id).value());
  CHECK(!inj.plan(unary()).terminal);
  // The removed fault's counts stay in the counters.
  auto c = inj.counters().snapshot();
  CHECK(c.calls == 3);
  REQUIRE(c.faults.size() == 1);
  CHECK(c.faults[0].spec == "abort=UNAVAILABLE");
  CHECK(c.faults[0].matched == 1);
  CHECK(c.faults[0].injected == 1);
}

TEST_CASE("Injector: reset returns the counts before it and drops removed faults") {
  InjectorOptions o;
  o.faults = {make("delay=1ms")};
  Injector inj(o, std::make_unique<SeededRandom>(1));
  auto added = inj.add_fault(make("abort=INTERNAL")).value();
  inj.plan(unary());
  CHECK(inj.remove_fault(added.id).value());
  auto before = inj.counters().reset();
  CHECK(before.calls == 1);
  REQUIRE(before.faults.size() == 2);
  CHECK(before.faults[1].injected == 1);
  auto after = inj.counters().snapshot();
  CHECK(after.calls == 0);
  REQUIRE(after.faults.size() == 1);
  CHECK(after.faults[0].spec == "delay=1ms");
  CHECK(after.faults[0].matched == 0);
  CHECK(inj.list_faults().at(0).matched == 0);
}

TEST_CASE("Injector: replace_faults swaps the rules' faults only, with new ids") {
  InjectorOptions o;
  o.faults = {make("delay=1ms")};
  o.rules = {make("abort=INTERNAL")};
  Injector inj(o, std::make_unique<SeededRandom>(1));
  CHECK(inj.add_fault(make("drop,pct=0")));
  CHECK(inj.replace_faults(FaultOrigin::rules, {make("abort=UNAVAILABLE"), make("delay=2ms")}));
  auto listed = inj.list_faults();
  REQUIRE(listed.size() == 4);
  CHECK(listed[0].id == "f1");
  CHECK(listed[1].id == "f3");
  CHECK(listed[1].spec == "drop,pct=0");
  CHECK(listed[2].id == "f4");
  CHECK(listed[2].spec == "abort=UNAVAILABLE");
  CHECK(listed[3].id == "f5");
}

TEST_CASE("Injector: limits hold for faults added at run time; --tcp connections too") {
  InjectorOptions o;
  o.mode = ProxyMode::tcp;
  Injector inj(o, std::make_unique<SeededRandom>(1));
  CHECK(inj.add_fault(make("latency=5ms,limit=1", ProxyMode::tcp)));
  CHECK(inj.plan_connection().actions.size() == 1);
  CHECK(inj.plan_connection().actions.empty());
  auto c = inj.counters().snapshot();
  CHECK(c.connections == 2);
  CHECK(c.faults.at(0).matched == 2);
  CHECK(c.faults.at(0).injected == 1);
}

TEST_CASE("Injector: counts add up while faults change under load (run under TSan by scripts/test-tsan)") {
  Injector inj(InjectorOptions{}, std::make_unique<SeededRandom>(3));
  std::atomic<bool> done{false};
  std::atomic<uint64_t> aborted{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 3; ++t)
    callers.emplace_back([&] {
      for (int i = 0; i < 2000; ++i)
        if (inj.plan(unary()).terminal) ++aborted;
    });
  std::thread changer([&] {
    for (int i = 0; i < 200; ++i) {
      auto f = inj.add_fault(make("abort=UNAVAILABLE,pct=50")).value();
      std::this_thread::yield();
      (void)inj.remove_fault(f.id);
    }
    done = true;
  });
  for (auto& t : callers) t.join();
  changer.join();
  auto c = inj.counters().snapshot();
  CHECK(c.calls == 6000);
  uint64_t injected = 0;
  for (const auto& f : c.faults) injected += f.injected;
  CHECK(injected == aborted.load());
  CHECK(c.faults.size() == 200);  // every removed fault still counted
}

TEST_CASE("Injector: a hook that refuses a change leaves the faults, ids and counters as they were") {
  InjectorOptions o;
  o.mode = ProxyMode::tcp;
  o.faults = {make("latency=1ms", ProxyMode::tcp)};
  Injector inj(o, std::make_unique<SeededRandom>(1));
  std::vector<std::string> seen;  // the ids of each set the hook was shown
  bool refuse = false;
  inj.set_hook([&](const FaultSet& set) -> grpcdx::Result<void> {
    std::string ids;
    for (const auto& e : set.faults) ids += e.id + " ";
    seen.push_back(ids);
    if (refuse) return grpcdx::local_error("no nftables here");
    return {};
  });
  refuse = true;
  auto added = inj.add_fault(make("loss=5", ProxyMode::tcp));
  REQUIRE(!added);
  CHECK(added.error().message == "no nftables here");
  CHECK(seen.back() == "f1 f2 ");  // shown with the id it would have had
  CHECK(!inj.replace_faults(FaultOrigin::rules, {make("loss=1", ProxyMode::tcp)}));
  CHECK(!inj.remove_fault("f1"));
  CHECK(!inj.clear_faults());
  REQUIRE(inj.list_faults().size() == 1);
  CHECK(inj.counters().snapshot().faults.size() == 1);
  refuse = false;
  CHECK(inj.add_fault(make("loss=5", ProxyMode::tcp))->id == "f2");  // the refused one used no id
  CHECK(seen.back() == "f1 f2 ");
  CHECK(inj.remove_fault("f1").value());
  CHECK(seen.back() == "f2 ");
}

TEST_CASE("Injector: a loss fault counts every --tcp connection and is not in the plan") {
  InjectorOptions o;
  o.mode = ProxyMode::tcp;
  o.faults = {make("loss=10", ProxyMode::tcp), make("latency=5ms,pct=0", ProxyMode::tcp)};
  o.max_active = 1;
  Injector inj(o, std::make_unique<SeededRandom>(1));
  auto first = inj.plan_connection();
  auto second = inj.plan_connection();
  CHECK(first.actions.empty());
  CHECK(!first.holds_slot);  // loss takes no --max-active slot
  CHECK(second.actions.empty());
  auto c = inj.counters().snapshot();
  CHECK(c.faults.at(0).matched == 2);
  CHECK(c.faults.at(0).injected == 2);
  CHECK(c.faults.at(1).matched == 2);
  CHECK(c.faults.at(1).injected == 0);
}

TEST_CASE("Injector: reset_counters frees the entries of removed faults; the live ones and their limits stay") {
  InjectorOptions o;
  o.faults = {make("abort=INTERNAL,limit=2")};
  Injector inj(o, std::make_unique<SeededRandom>(1));
  for (int i = 0; i < 3; ++i) {
    auto f = inj.add_fault(make("delay=1ms")).value();
    inj.plan(unary());
    CHECK(inj.remove_fault(f.id).value());
  }
  auto before = inj.reset_counters();
  CHECK(before.calls == 3);
  REQUIRE(before.faults.size() == 4);  // the removed ones are in the answer ...
  CHECK(before.faults[1].injected == 1);
  auto after = inj.counters().snapshot();
  REQUIRE(after.faults.size() == 1);  // ... and gone after it
  CHECK(after.faults[0].spec == "abort=INTERNAL,limit=2");
  CHECK(inj.list_faults().at(0).injected == 0);
  // The limit counts on across the reset: 2 injections in all.
  CHECK(!inj.plan(unary()).terminal);
  CHECK(inj.counters().snapshot().faults.at(0).injected == 0);
  CHECK(inj.add_fault(make("drop"))->id == "f5");  // ids and entries are never reused
  CHECK(inj.counters().snapshot().faults.size() == 2);
}
