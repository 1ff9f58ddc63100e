// The pure fault decision: method/header matching, the pct draw, the jitter draw, and the
// faults a call asks for through its own metadata.
#include "chaos/decide.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "rpc/status_codes.hpp"

namespace grpcdx::chaos {

bool glob_match(std::string_view glob, std::string_view text) {
  // Iterative matcher with one backtrack point for the last '*': linear in practice, no recursion.
  size_t g = 0, t = 0, star = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (g < glob.size() && (glob[g] == '?' || glob[g] == text[t])) {
      ++g;
      ++t;
    } else if (g < glob.size() && glob[g] == '*') {
      star = g++;
      star_t = t;
    } else if (star != std::string_view::npos) {
      g = star + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (g < glob.size() && glob[g] == '*') ++g;
  return g == glob.size();
}

namespace {

bool matches(const FaultSpec& spec, const CallInfo& call) {
  if (!spec.method_glob.empty() && !glob_match(spec.method_glob, call.method)) return false;
  if (!spec.header_key.empty()) {
    return std::any_of(call.metadata.begin(), call.metadata.end(), [&](const auto& kv) {
      return kv.first == spec.header_key && glob_match(spec.header_value_glob, kv.second);
    });
  }
  return true;
}

}  // namespace

Decision decide(const FaultSpec& spec, const CallInfo& call, Random& rng) {
  Decision d;
  d.matched = matches(spec, call);
  if (!d.matched) return d;
  // pct=100 still draws, so adding or removing a fault's pct never shifts the other faults' draws.
  double draw = rng.next_unit() * 100.0;
  if (!(draw < spec.pct)) return d;
  FaultAction a;
  a.kind = spec.kind;
  a.source = spec.text;
  switch (spec.kind) {
    case FaultKind::delay: {
      a.delay = spec.delay;
      if (spec.jitter.count() > 0) {
        double u = rng.next_unit() * 2.0 - 1.0;  // [-1, 1)
        a.delay += Duration(static_cast<Duration::rep>(u * static_cast<double>(spec.jitter.count())));
        if (a.delay.count() < 0) a.delay = Duration(0);
      }
      break;
    }
    case FaultKind::abort:
      a.code = spec.code;
      a.message = spec.message.empty() ? fmt::format("grpcdx chaos: injected fault '{}'", spec.text) : spec.message;
      a.retry_after = spec.retry_after;
      break;
    case FaultKind::cancel:
    case FaultKind::reset:
    case FaultKind::stall:
      a.after_messages = spec.after_messages;
      a.after_duration = spec.after_duration;
      break;
    case FaultKind::drop: break;
    case FaultKind::blackhole: a.after_duration = spec.after_duration; break;
    case FaultKind::slow_close: a.delay = spec.delay; break;
    case FaultKind::loss: break;  // the kernel's doing, for every connection: never planned per connection
    case FaultKind::latency:
      a.delay = spec.delay;
      a.jitter = spec.jitter;
      // Jitter is drawn per chunk of bytes as they flow, from an engine seeded here, so a run
      // with the same --seed repeats without the connection touching the shared source.
      if (spec.jitter.count() > 0) a.jitter_seed = static_cast<uint64_t>(rng.next_unit() * 9007199254740992.0);
      break;
    case FaultKind::bandwidth: a.rate = spec.rate; break;
    case FaultKind::slice:
      a.slice_bytes = spec.slice_bytes;
      a.delay = spec.delay;
      break;
    case FaultKind::close:
      a.after_duration = spec.after_duration;
      a.after_bytes = spec.after_bytes;
      break;
  }
  a.dir = spec.dir;
  if (spec.kind == FaultKind::reset) a.after_bytes = spec.after_bytes;
  d.action = std::move(a);
  return d;
}

Result<std::vector<FaultAction>> decide_header_faults(const CallInfo& call) {
  std::vector<FaultAction> actions;
  bool have_delay = false, have_abort = false;
  for (const auto& [key, value] : call.metadata) {
    if (key == k_header_delay && !have_delay) {
      auto d = parse_duration(value);
      if (!d)
        return usage_error(fmt::format("invalid {} '{}': {}", k_header_delay, value, d.error().message));
      FaultAction a;
      a.kind = FaultKind::delay;
      a.delay = *d;
      a.source = std::string(k_header_delay);
      actions.push_back(a);
      have_delay = true;
    } else if (key == k_header_abort && !have_abort) {
      auto code = rpc::parse_status_code(value);
      if (!code || *code <= 0 || *code > 16)
        return usage_error(fmt::format("invalid {} '{}': use a status code from 1 to 16 by name or number",
                                       k_header_abort, value));
      FaultAction a;
      a.kind = FaultKind::abort;
      a.code = *code;
      a.source = std::string(k_header_abort);
      a.message = fmt::format("grpcdx chaos: {} requested by the {} header", rpc::status_name(*code), k_header_abort);
      actions.push_back(a);
      have_abort = true;
    }
  }
  return actions;
}

}  // namespace grpcdx::chaos
