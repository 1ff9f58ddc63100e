// The injector: per-call plans from the pure decisions, with limits, --max-active and counters,
// over a fault set that can be swapped while the proxy runs.
#include "chaos/plan.hpp"

#include <algorithm>

namespace grpcdx::chaos {

namespace {

// The initial counter entries: --fault, --rules, then the header faults.
std::vector<std::string> counter_names(const InjectorOptions& o) {
  std::vector<std::string> names;
  for (const auto& f : o.faults) names.push_back(f.text);
  for (const auto& f : o.rules) names.push_back(f.text);
  if (o.header_faults) {
    names.emplace_back(Injector::k_header_delay_entry);
    names.emplace_back(Injector::k_header_abort_entry);
  }
  return names;
}

bool is_terminal(FaultKind k) { return k == FaultKind::abort || k == FaultKind::drop; }

}  // namespace

Injector::Injector(InjectorOptions options, std::unique_ptr<Random> rng)
    : m_options(std::move(options)),
      m_rng(std::move(rng)),
      m_counters(counter_names(m_options), m_options.mode == ProxyMode::tcp) {
  auto set = std::make_shared<FaultSet>();
  size_t counter = 0;
  for (auto* list : {&m_options.faults, &m_options.rules})
    for (const auto& spec : *list)
      set->faults.push_back(FaultEntry{fault_id(m_next_id++), counter++,
                                       list == &m_options.rules ? FaultOrigin::rules : FaultOrigin::flag, spec});
  m_header_base = counter;
  m_faults.publish(std::move(set));
}

FaultEntry Injector::make_entry(FaultSpec spec, FaultOrigin origin) {
  size_t counter = m_counters.add_fault(spec.text);
  return FaultEntry{fault_id(m_next_id++), counter, origin, std::move(spec)};
}

std::vector<FaultStatus> Injector::list_faults() const {
  auto set = m_faults.current();
  std::vector<FaultStatus> out;
  for (const auto& e : set->faults) {
    auto counts = m_counters.fault(e.counter);
    out.push_back(FaultStatus{e.id, e.spec.text, counts.matched, counts.injected});
  }
  return out;
}

void Injector::set_hook(SetHook hook) {
  std::lock_guard write(m_write_mutex);
  m_hook = std::move(hook);
}

Result<void> Injector::publish(std::shared_ptr<const FaultSet> next) {
  if (m_hook) TRY_VOID(m_hook(*next));
  m_faults.publish(std::move(next));
  return {};
}

Result<FaultStatus> Injector::add_fault(FaultSpec spec, FaultOrigin origin) {
  std::lock_guard write(m_write_mutex);
  auto next = std::make_shared<FaultSet>(*m_faults.current());
  // The id and counter entry are made only once the hook agreed, so a refused fault leaves no
  // trace; the hook sees the id the fault will get.
  if (m_hook) {
    next->faults.push_back(FaultEntry{fault_id(m_next_id), 0, origin, spec});
    TRY_VOID(m_hook(*next));
    next->faults.pop_back();
  }
  FaultEntry entry = make_entry(std::move(spec), origin);
  FaultStatus status{entry.id, entry.spec.text, 0, 0};
  next->faults.push_back(std::move(entry));
  m_faults.publish(std::move(next));
  return status;
}

Result<bool> Injector::remove_fault(const std::string& id) {
  std::lock_guard write(m_write_mutex);
  auto current = m_faults.current();
  auto next = without_fault(*current, id);
  if (!next) return false;
  TRY_VOID(publish(std::move(next)));
  for (const auto& e : current->faults)
    if (e.id == id) m_counters.retire_fault(e.counter);
  return true;
}

Result<void> Injector::clear_faults() {
  std::lock_guard write(m_write_mutex);
  auto current = m_faults.current();
  TRY_VOID(publish(std::make_shared<const FaultSet>()));
  for (const auto& e : current->faults) m_counters.retire_fault(e.counter);
  return {};
}

Result<void> Injector::replace_faults(FaultOrigin origin, std::vector<FaultSpec> specs) {
  std::lock_guard write(m_write_mutex);
  auto current = m_faults.current();
  if (m_hook) {
    std::vector<FaultEntry> trial;
    uint64_t id = m_next_id;
    for (const auto& spec : specs) trial.push_back(FaultEntry{fault_id(id++), 0, origin, spec});
    TRY_VOID(m_hook(*with_origin_replaced(*current, origin, std::move(trial))));
  }
  std::vector<FaultEntry> entries;
  for (auto& spec : specs) entries.push_back(make_entry(std::move(spec), origin));
  for (const auto& e : current->faults)
    if (e.origin == origin) m_counters.retire_fault(e.counter);
  m_faults.publish(with_origin_replaced(*current, origin, std::move(entries)));
  return {};
}

bool Injector::take_slot(bool& holds_slot) {
  if (holds_slot) return true;
  if (m_options.max_active && m_active >= *m_options.max_active) return false;
  ++m_active;
  holds_slot = true;
  return true;
}

void Injector::release_slot(bool holds_slot) {
  if (!holds_slot) return;
  std::lock_guard lock(m_mutex);
  if (m_active > 0) --m_active;
}

CallPlan Injector::plan(const CallInfo& call) {
  CallPlan plan;
  m_counters.add_call();
  // Read under the lock the counts are made under, so reset_counters() knows no plan still holds
  // a removed fault; the set stays valid for this call whatever changes after.
  std::lock_guard lock(m_mutex);
  const auto set = m_faults.current();
  const auto& faults = set->faults;
  std::vector<Decision> decisions;
  decisions.reserve(faults.size());
  for (const auto& entry : faults) decisions.push_back(decide(entry.spec, call, *m_rng));

  auto accept = [&](const FaultAction& a) -> bool {
    if (is_terminal(a.kind)) {
      if (plan.terminal) return false;
    } else if (a.kind != FaultKind::delay) {
      if (plan.stream || plan.terminal) return false;
    }
    if (!take_slot(plan.holds_slot)) return false;
    if (a.kind == FaultKind::delay)
      plan.delay += a.delay;
    else if (is_terminal(a.kind))
      plan.terminal = a;
    else
      plan.stream = a;
    return true;
  };

  for (size_t i = 0; i < decisions.size(); ++i)
    if (decisions[i].matched) m_counters.add_matched(faults[i].counter);
  // Two passes so an abort or drop decided after a stream fault still wins (the upstream is
  // never called) and the stream fault is not counted as injected.
  for (bool stream_pass : {false, true}) {
    for (size_t i = 0; i < decisions.size(); ++i) {
      const auto& d = decisions[i];
      if (!d.action) continue;
      bool is_stream = !is_terminal(d.action->kind) && d.action->kind != FaultKind::delay;
      if (is_stream != stream_pass) continue;
      const auto& entry = faults[i];
      if (entry.spec.limit && m_injected[entry.counter] >= *entry.spec.limit) continue;
      if (!accept(*d.action)) continue;
      if (entry.spec.limit) ++m_injected[entry.counter];
      m_counters.add_injected(entry.counter);
    }
  }

  if (m_options.header_faults) {
    auto asked = decide_header_faults(call);
    if (!asked) {
      plan.bad_request = asked.error();
      return plan;
    }
    for (const auto& a : *asked) {
      size_t entry = m_header_base + (a.kind == FaultKind::delay ? 0 : 1);
      m_counters.add_matched(entry);
      if (accept(a)) m_counters.add_injected(entry);
    }
  }
  return plan;
}

void Injector::release(const CallPlan& plan) { release_slot(plan.holds_slot); }

ConnectionPlan Injector::plan_connection() {
  ConnectionPlan plan;
  m_counters.add_connection();
  const CallInfo connection;  // no method, no metadata: --tcp faults have no such conditions
  std::lock_guard lock(m_mutex);  // before reading the set, as in plan()
  const auto set = m_faults.current();
  for (const auto& entry : set->faults) {
    if (entry.spec.kind == FaultKind::loss) {
      m_counters.add_matched(entry.counter);
      m_counters.add_injected(entry.counter);
      continue;
    }
    Decision d = decide(entry.spec, connection, *m_rng);
    if (d.matched) m_counters.add_matched(entry.counter);
    if (!d.action) continue;
    if (entry.spec.limit && m_injected[entry.counter] >= *entry.spec.limit) continue;
    if (!take_slot(plan.holds_slot)) continue;
    if (entry.spec.limit) ++m_injected[entry.counter];
    m_counters.add_injected(entry.counter);
    plan.actions.push_back(std::move(*d.action));
  }
  return plan;
}

void Injector::release(const ConnectionPlan& plan) { release_slot(plan.holds_slot); }

CountersSnapshot Injector::reset_counters() {
  std::lock_guard write(m_write_mutex);  // the set stays as it is ...
  std::lock_guard lock(m_mutex);         // ... and no plan counts meanwhile
  CountersSnapshot before = m_counters.reset();
  // The limit counts of removed faults are never read again.
  const auto set = m_faults.current();
  std::erase_if(m_injected, [&](const auto& kv) {
    return std::none_of(set->faults.begin(), set->faults.end(),
                        [&](const FaultEntry& e) { return e.counter == kv.first; });
  });
  return before;
}

}  // namespace grpcdx::chaos
