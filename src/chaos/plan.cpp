// The injector: per-call plans from the pure decisions, with limits, --max-active and counters.
#include "chaos/plan.hpp"

namespace grpcdx::chaos {

namespace {

std::vector<std::string> counter_names(const InjectorOptions& o) {
  std::vector<std::string> names;
  for (const auto& f : o.faults) names.push_back(f.text);
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
  m_injected.assign(m_options.faults.size(), 0);
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
  std::lock_guard lock(m_mutex);
  std::vector<Decision> decisions;
  decisions.reserve(m_options.faults.size());
  for (const auto& spec : m_options.faults) decisions.push_back(decide(spec, call, *m_rng));

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
    if (decisions[i].matched) m_counters.add_matched(i);
  // Two passes so an abort or drop decided after a stream fault still wins (the upstream is
  // never called) and the stream fault is not counted as injected.
  for (bool stream_pass : {false, true}) {
    for (size_t i = 0; i < decisions.size(); ++i) {
      const auto& d = decisions[i];
      if (!d.action) continue;
      bool is_stream = !is_terminal(d.action->kind) && d.action->kind != FaultKind::delay;
      if (is_stream != stream_pass) continue;
      const auto& spec = m_options.faults[i];
      if (spec.limit && m_injected[i] >= *spec.limit) continue;
      if (!accept(*d.action)) continue;
      ++m_injected[i];
      m_counters.add_injected(i);
    }
  }

  if (m_options.header_faults) {
    size_t base = m_options.faults.size();
    auto asked = decide_header_faults(call);
    if (!asked) {
      plan.bad_request = asked.error();
      return plan;
    }
    for (const auto& a : *asked) {
      size_t entry = base + (a.kind == FaultKind::delay ? 0 : 1);
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
  std::lock_guard lock(m_mutex);
  for (size_t i = 0; i < m_options.faults.size(); ++i) {
    Decision d = decide(m_options.faults[i], connection, *m_rng);
    if (d.matched) m_counters.add_matched(i);
    if (!d.action) continue;
    const auto& spec = m_options.faults[i];
    if (spec.limit && m_injected[i] >= *spec.limit) continue;
    if (!take_slot(plan.holds_slot)) continue;
    ++m_injected[i];
    m_counters.add_injected(i);
    plan.actions.push_back(std::move(*d.action));
  }
  return plan;
}

void Injector::release(const ConnectionPlan& plan) { release_slot(plan.holds_slot); }

}  // namespace grpcdx::chaos
