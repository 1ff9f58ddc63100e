// Parsing and validation of fault specs: the --fault flag form and the --rules JSON form go
// through the same per-key validation, so both accept exactly the same faults.
#include "chaos/fault_spec.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "rpc/status_codes.hpp"

namespace grpcdx::chaos {

namespace {

constexpr std::string_view k_kinds_hint = "use delay, abort, cancel, reset, stall or drop";

Result<FaultKind> parse_kind(std::string_view text) {
  if (text == "delay") return FaultKind::delay;
  if (text == "abort") return FaultKind::abort;
  if (text == "cancel") return FaultKind::cancel;
  if (text == "reset") return FaultKind::reset;
  if (text == "stall") return FaultKind::stall;
  if (text == "drop") return FaultKind::drop;
  if (text.empty()) return usage_error(fmt::format("missing fault kind ({})", k_kinds_hint));
  return usage_error(fmt::format("unknown fault kind '{}' ({})", text, k_kinds_hint));
}

// The keys a kind accepts besides the common pct, method, header and limit.
std::vector<std::string_view> kind_keys(FaultKind kind) {
  switch (kind) {
    case FaultKind::delay: return {"delay", "jitter"};
    case FaultKind::abort: return {"code", "message"};
    case FaultKind::cancel:
    case FaultKind::reset:
    case FaultKind::stall: return {"after"};
    case FaultKind::drop: return {};
  }
  return {};
}

// The key that `kind=VALUE` sets in the flag form, or empty when the kind takes no value.
std::string_view kind_value_key(FaultKind kind) {
  switch (kind) {
    case FaultKind::delay: return "delay";
    case FaultKind::abort: return "code";
    default: return {};
  }
}

Result<uint64_t> parse_count(std::string_view text, std::string_view what) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    return usage_error(fmt::format("invalid {} '{}' (use a whole number, e.g. 3)", what, text));
  return value;
}

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Validates one key=value of `spec`. Fails (usage) with the problem, not naming the key's place.
Result<void> apply_key(FaultSpec& spec, std::string_view key, std::string_view value) {
  if (key == "pct") {
    double pct = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), pct);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size() || !std::isfinite(pct) ||
        pct < 0 || pct > 100)
      return usage_error(fmt::format("invalid pct '{}' (use a percentage from 0 to 100, e.g. 30 or 0.5)", value));
    spec.pct = pct;
    return {};
  }
  if (key == "method") {
    if (value.empty()) return usage_error("empty method (use a glob like pkg.Service/* or pkg.Service/Method)");
    std::string glob(value);
    if (glob.starts_with('/')) glob.erase(0, 1);  // "/pkg.S/M" as on the wire
    if (glob.find('/') == std::string::npos && glob.find('*') == std::string::npos)
      return usage_error(fmt::format("invalid method '{}' (use pkg.Service/Method, or a glob like pkg.Service/*)",
                                     value));
    spec.method_glob = glob;
    return {};
  }
  if (key == "header") {
    auto colon = value.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return usage_error(fmt::format("invalid header '{}' (use key:value; the value may be a glob like *)", value));
    std::string hkey(value.substr(0, colon));
    std::transform(hkey.begin(), hkey.end(), hkey.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string_view hvalue = value.substr(colon + 1);
    while (!hvalue.empty() && hvalue.front() == ' ') hvalue.remove_prefix(1);
    spec.header_key = hkey;
    spec.header_value_glob = std::string(hvalue);
    return {};
  }
  if (key == "limit") {
    TRY(auto limit, parse_count(value, "limit"));
    spec.limit = limit;
    return {};
  }
  auto keys = kind_keys(spec.kind);
  if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
    static const std::set<std::string_view> k_known = {"delay", "jitter", "code", "message", "after"};
    if (k_known.contains(key))
      return usage_error(fmt::format("key '{}' does not apply to '{}'", key, kind_name(spec.kind)));
    return usage_error(fmt::format("unknown key '{}' (keys: {}pct, method, header, limit)", key,
                                   [&] {
                                     std::string s;
                                     for (auto k : keys) s += std::string(k) + ", ";
                                     return s;
                                   }()));
  }
  if (key == "delay" || key == "jitter") {
    auto d = parse_duration(value);
    if (!d) return usage_error(fmt::format("invalid {} '{}' (use a duration like 200ms or 1s)", key, value));
    (key == "delay" ? spec.delay : spec.jitter) = *d;
    return {};
  }
  if (key == "code") {
    TRY(spec.code, rpc::parse_status_code(value));
    if (spec.code == 0) return usage_error("abort code OK (0) is not a fault (use a code from 1 to 16)");
    if (spec.code < 0 || spec.code > 16)
      return usage_error(fmt::format("unknown status code '{}' (use a name like UNAVAILABLE or a number 0-16)", value));
    return {};
  }
  if (key == "message") {
    spec.message = std::string(value);
    return {};
  }
  if (key == "after") {
    if (all_digits(value)) {
      TRY(spec.after_messages, parse_count(value, "after"));
      return {};
    }
    if (spec.kind != FaultKind::cancel)
      return usage_error(fmt::format("invalid after '{}' (use a number of messages, e.g. after=2)", value));
    auto d = parse_duration(value);
    if (!d)
      return usage_error(
          fmt::format("invalid after '{}' (use a number of messages like 2 or a duration like 500ms)", value));
    spec.after_duration = *d;
    return {};
  }
  return usage_error(fmt::format("unknown key '{}'", key));
}

// Checks what single keys cannot: required keys and combinations.
Result<void> check_complete(const FaultSpec& spec, const std::set<std::string>& seen) {
  if (spec.kind == FaultKind::delay && !seen.contains("delay"))
    return usage_error("delay needs a duration (use delay=200ms)");
  if (spec.kind == FaultKind::abort && !seen.contains("code"))
    return usage_error("abort needs a status code (use abort=UNAVAILABLE)");
  if (spec.kind == FaultKind::delay && spec.jitter > spec.delay)
    return usage_error(fmt::format("jitter {} is larger than the delay {}", format_duration(spec.jitter),
                                   format_duration(spec.delay)));
  return {};
}

std::string format_pct(double pct) { return fmt::format("{:g}", pct); }

}  // namespace

std::string_view kind_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::delay: return "delay";
    case FaultKind::abort: return "abort";
    case FaultKind::cancel: return "cancel";
    case FaultKind::reset: return "reset";
    case FaultKind::stall: return "stall";
    case FaultKind::drop: return "drop";
  }
  return "?";
}

Result<FaultSpec> parse_fault_spec(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    parts.push_back(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  FaultSpec spec;
  spec.text = std::string(text);
  std::string_view head = parts.front();
  size_t eq = head.find('=');
  TRY(spec.kind, parse_kind(head.substr(0, eq)));
  std::set<std::string> seen;
  if (eq != std::string_view::npos) {
    std::string_view key = kind_value_key(spec.kind);
    if (key.empty())
      return usage_error(fmt::format("'{}' takes no value of its own (use {},after=N)", kind_name(spec.kind),
                                     kind_name(spec.kind)));
    TRY_VOID(apply_key(spec, key, head.substr(eq + 1)));
    seen.insert(std::string(key));
  }
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view part = parts[i];
    size_t peq = part.find('=');
    if (part.empty()) return usage_error("empty key (two commas in a row, or a trailing comma)");
    if (peq == std::string_view::npos)
      return usage_error(fmt::format("'{}' is not key=value", part));
    std::string key(part.substr(0, peq));
    if (!seen.insert(key).second) return usage_error(fmt::format("key '{}' given twice", key));
    TRY_VOID(apply_key(spec, key, part.substr(peq + 1)));
  }
  TRY_VOID(check_complete(spec, seen));
  return spec;
}

Result<std::vector<FaultSpec>> parse_rules(std::string_view json_text, const std::string& file_name) {
  using nlohmann::json;
  auto fail = [&](const std::string& where, const std::string& message) {
    return local_error(fmt::format("{}: {}{}", file_name, where.empty() ? "" : where + ": ", message),
                       "see docs/chaos.md for the rules file format");
  };
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    if (auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
    return fail("", "invalid JSON: " + what);
  }
  if (!doc.is_object()) return fail("", "expected a JSON object {\"faults\": [...]}");
  for (const auto& [key, value] : doc.items())
    if (key != "faults") return fail("", fmt::format("unknown field '{}' (the file holds {{\"faults\": [...]}})", key));
  if (!doc.contains("faults") || !doc["faults"].is_array())
    return fail("faults", "expected an array of faults");
  std::vector<FaultSpec> specs;
  const auto& faults = doc["faults"];
  for (size_t i = 0; i < faults.size(); ++i) {
    std::string where = fmt::format("faults[{}]", i);
    const auto& entry = faults[i];
    if (!entry.is_object()) return fail(where, "expected an object like {\"kind\": \"abort\", \"code\": \"UNAVAILABLE\"}");
    if (!entry.contains("kind") || !entry["kind"].is_string())
      return fail(where + ".kind", fmt::format("missing or not a string ({})", k_kinds_hint));
    FaultSpec spec;
    auto kind = parse_kind(entry["kind"].get<std::string>());
    if (!kind) return fail(where + ".kind", kind.error().message);
    spec.kind = *kind;
    std::set<std::string> seen;
    for (const auto& [key, value] : entry.items()) {
      if (key == "kind") continue;
      std::string text;
      if (value.is_string())
        text = value.get<std::string>();
      else if (value.is_number_unsigned() || value.is_number_integer())
        text = value.dump();
      else if (value.is_number_float())
        text = fmt::format("{:g}", value.get<double>());
      else
        return fail(where + "." + key, fmt::format("expected a string or a number, got {}", value.type_name()));
      seen.insert(key);
      if (auto applied = apply_key(spec, key, text); !applied) return fail(where + "." + key, applied.error().message);
    }
    if (auto complete = check_complete(spec, seen); !complete) return fail(where, complete.error().message);
    spec.text = to_flag_form(spec);
    specs.push_back(std::move(spec));
  }
  return specs;
}

std::string to_flag_form(const FaultSpec& s) {
  std::string out(kind_name(s.kind));
  switch (s.kind) {
    case FaultKind::delay:
      out += "=" + format_duration(s.delay);
      if (s.jitter.count() > 0) out += ",jitter=" + format_duration(s.jitter);
      break;
    case FaultKind::abort:
      out += "=" + rpc::status_name(s.code);
      if (!s.message.empty()) out += ",message=" + s.message;
      break;
    case FaultKind::cancel:
    case FaultKind::reset:
    case FaultKind::stall:
      if (s.after_duration)
        out += ",after=" + format_duration(*s.after_duration);
      else if (s.after_messages > 0)
        out += ",after=" + std::to_string(s.after_messages);
      break;
    case FaultKind::drop: break;
  }
  if (s.pct != 100.0) out += ",pct=" + format_pct(s.pct);
  if (!s.method_glob.empty()) out += ",method=" + s.method_glob;
  if (!s.header_key.empty()) out += ",header=" + s.header_key + ":" + s.header_value_glob;
  if (s.limit) out += ",limit=" + std::to_string(*s.limit);
  return out;
}

}  // namespace grpcdx::chaos
