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
constexpr std::string_view k_tcp_kinds_hint =
    "use latency, bandwidth, reset, blackhole, slice, close, slow_close or loss";

std::string_view kinds_hint(ProxyMode mode) { return mode == ProxyMode::tcp ? k_tcp_kinds_hint : k_kinds_hint; }

bool is_tcp_only(FaultKind k) {
  return k == FaultKind::latency || k == FaultKind::bandwidth || k == FaultKind::blackhole || k == FaultKind::slice ||
         k == FaultKind::close || k == FaultKind::slow_close || k == FaultKind::loss;
}

Result<FaultKind> parse_kind(std::string_view text, ProxyMode mode) {
  static constexpr FaultKind k_all[] = {FaultKind::delay,   FaultKind::abort,     FaultKind::cancel,
                                        FaultKind::reset,   FaultKind::stall,     FaultKind::drop,
                                        FaultKind::latency, FaultKind::bandwidth, FaultKind::blackhole,
                                        FaultKind::slice,   FaultKind::close,     FaultKind::slow_close,
                                        FaultKind::loss};
  if (text.empty()) return usage_error(fmt::format("missing fault kind ({})", kinds_hint(mode)));
  for (FaultKind k : k_all) {
    if (kind_name(k) != text) continue;
    bool tcp_only = is_tcp_only(k), grpc_only = !tcp_only && k != FaultKind::reset;
    if (mode == ProxyMode::grpc && tcp_only)
      return usage_error(fmt::format("'{}' is a --tcp fault: add --tcp for the byte-level proxy (without it, {})",
                                     text, k_kinds_hint));
    if (mode == ProxyMode::tcp && grpc_only)
      return usage_error(
          fmt::format("'{}' is a gRPC fault and does not apply to --tcp ({})", text, k_tcp_kinds_hint));
    return k;
  }
  return usage_error(fmt::format("unknown fault kind '{}' ({})", text, kinds_hint(mode)));
}

// The keys a kind accepts besides the common ones (pct, method, header, limit; under --tcp pct,
// dir, limit).
std::vector<std::string_view> kind_keys(FaultKind kind) {
  switch (kind) {
    case FaultKind::delay: return {"delay", "jitter"};
    case FaultKind::abort: return {"code", "message", "retry_after"};
    case FaultKind::cancel:
    case FaultKind::reset:
    case FaultKind::stall:
    case FaultKind::close: return {"after"};
    case FaultKind::drop: return {};
    case FaultKind::blackhole: return {"after"};
    case FaultKind::slow_close: return {"slow_close"};
    case FaultKind::latency: return {"latency", "jitter"};
    case FaultKind::bandwidth: return {"bandwidth"};
    case FaultKind::slice: return {"slice", "delay"};
    case FaultKind::loss: return {"loss"};
  }
  return {};
}

// The key that `kind=VALUE` sets in the flag form, or empty when the kind takes no value.
std::string_view kind_value_key(FaultKind kind) {
  switch (kind) {
    case FaultKind::delay: return "delay";
    case FaultKind::abort: return "code";
    case FaultKind::latency: return "latency";
    case FaultKind::bandwidth: return "bandwidth";
    case FaultKind::slice: return "slice";
    case FaultKind::slow_close: return "slow_close";
    case FaultKind::loss: return "loss";
    default: return {};
  }
}

// How to write a kind that takes no value, for the message when one is given anyway.
std::string_view no_value_usage(FaultKind kind, ProxyMode mode) {
  switch (kind) {
    case FaultKind::reset: return mode == ProxyMode::tcp ? "reset,after=BYTES|DUR" : "reset,after=N";
    case FaultKind::close: return "close,after=BYTES|DUR";
    case FaultKind::drop: return "drop";
    case FaultKind::blackhole: return "blackhole,after=DUR";
    default: return {};
  }
}

// The common keys of a mode, as the unknown-key message lists them.
std::string common_keys(FaultKind kind, ProxyMode mode) {
  if (mode == ProxyMode::grpc) return "pct, method, header, limit";
  if (kind == FaultKind::loss) return "dir";
  return kind == FaultKind::close ? "pct, limit" : "pct, dir, limit";
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
Result<void> apply_key(FaultSpec& spec, std::string_view key, std::string_view value, ProxyMode mode) {
  if (mode == ProxyMode::tcp && (key == "method" || key == "header"))
    return usage_error(fmt::format("key '{}' does not apply to --tcp (bytes have no methods or metadata; keys: {})",
                                   key, common_keys(spec.kind, mode)));
  if (spec.kind == FaultKind::loss && (key == "pct" || key == "limit"))
    return usage_error(fmt::format("key '{}' does not apply to 'loss' (the kernel drops P percent of every packet "
                                   "on the proxy's port, of every connection; keys: loss, dir)",
                                   key));
  if (key == "dir") {
    if (mode == ProxyMode::grpc)
      return usage_error("key 'dir' needs --tcp (the gRPC proxy's faults act on calls, not on one direction of bytes)");
    if (spec.kind == FaultKind::close)
      return usage_error("key 'dir' does not apply to 'close' (it closes both directions)");
    if (value == "up")
      spec.dir = Direction::up;
    else if (value == "down")
      spec.dir = Direction::down;
    else if (value == "both")
      spec.dir = Direction::both;
    else
      return usage_error(fmt::format("invalid dir '{}' (use up, down or both)", value));
    return {};
  }
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
    while (glob.starts_with('/')) glob.erase(0, 1);  // "/pkg.S/M" as on the wire
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
    if (limit == 0) return usage_error("invalid limit '0' (a fault that may never inject does nothing: use 1 or more)");
    spec.limit = limit;
    return {};
  }
  auto keys = kind_keys(spec.kind);
  if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
    static const std::set<std::string_view> k_known = {"delay", "jitter",  "code",  "message",   "retry_after",
                                                       "after", "latency", "slice", "bandwidth", "slow_close",
                                                       "loss"};
    if (k_known.contains(key))
      return usage_error(fmt::format("key '{}' does not apply to '{}'", key, kind_name(spec.kind)));
    return usage_error(fmt::format("unknown key '{}' (keys: {}{})", key,
                                   [&] {
                                     std::string s;
                                     for (auto k : keys) s += std::string(k) + ", ";
                                     return s;
                                   }(),
                                   common_keys(spec.kind, mode)));
  }
  if (key == "delay" || key == "jitter" || key == "latency" || key == "slow_close") {
    auto d = parse_duration(value);
    if (!d) return usage_error(fmt::format("invalid {} '{}' (use a duration like 200ms or 1s)", key, value));
    (key == "jitter" ? spec.jitter : spec.delay) = *d;
    return {};
  }
  if (key == "bandwidth") {
    std::string_view number = value;
    if (number.ends_with("/s")) number.remove_suffix(2);
    auto rate = parse_bytes(number, "bandwidth");
    if (!rate)
      return usage_error(fmt::format("invalid bandwidth '{}' (use bytes per second like 100000/s, 100KB/s or 1MiB/s)",
                                     value));
    if (*rate == 0) return usage_error("bandwidth 0 would forward nothing (use blackhole for that, or a rate like 1KB/s)");
    spec.rate = *rate;
    return {};
  }
  if (key == "loss") {
    // A percentage like pct's; the rules draw in millionths, so a smaller share would drop nothing.
    double loss = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), loss);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size() || !std::isfinite(loss) ||
        loss < 0.0001 || loss > 100)
      return usage_error(
          fmt::format("invalid loss '{}' (use the percentage of packets to drop, above 0 and at most 100, e.g. 10 "
                      "or 0.5)",
                      value));
    spec.loss = loss;
    return {};
  }
  if (key == "slice") {
    TRY(spec.slice_bytes, parse_bytes(value, "slice"));
    if (spec.slice_bytes == 0) return usage_error("slice 0 would forward nothing (use a size of 1 byte or more)");
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
  if (key == "retry_after") {
    auto d = parse_duration(value);
    if (!d) return usage_error(fmt::format("invalid retry_after '{}' (use a duration like 2s or 500ms)", value));
    spec.retry_after = *d;
    return {};
  }
  if (key == "after" && spec.kind == FaultKind::blackhole) {
    auto d = parse_duration(value);
    if (!d) return usage_error(fmt::format("invalid after '{}' (use a duration like 30s: silent from then on)", value));
    spec.after_duration = *d;
    return {};
  }
  if (key == "after" && mode == ProxyMode::tcp) {
    // A byte count (toxiproxy's limit_data) or a duration (its reset_peer timeout): "4KB",
    // "1500", "300ms". A bare number is bytes; "1m" is a minute, "1M" a megabyte.
    if (auto bytes = parse_bytes(value, "after")) {
      spec.after_bytes = *bytes;
      spec.after_duration.reset();
      return {};
    }
    auto d = parse_duration(value);
    if (!d)
      return usage_error(
          fmt::format("invalid after '{}' (use bytes like 1024, 64KB or 1MiB, or a duration like 300ms)", value));
    spec.after_duration = *d;
    spec.after_bytes = 0;
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
  if (spec.kind == FaultKind::latency && !seen.contains("latency"))
    return usage_error("latency needs a duration (use latency=50ms)");
  if (spec.kind == FaultKind::latency && spec.jitter > spec.delay)
    return usage_error(fmt::format("jitter {} is larger than the latency {}", format_duration(spec.jitter),
                                   format_duration(spec.delay)));
  if (spec.kind == FaultKind::bandwidth && !seen.contains("bandwidth"))
    return usage_error("bandwidth needs a rate (use bandwidth=100KB/s)");
  if (spec.kind == FaultKind::slice && !seen.contains("slice"))
    return usage_error("slice needs a size (use slice=100, in bytes)");
  if (spec.kind == FaultKind::loss && !seen.contains("loss"))
    return usage_error("loss needs a percentage (use loss=10: the kernel drops 10% of the packets)");
  if (spec.kind == FaultKind::slow_close && !seen.contains("slow_close"))
    return usage_error("slow_close needs a duration (use slow_close=500ms)");
  if (spec.kind == FaultKind::blackhole && spec.after_duration && seen.contains("dir"))
    return usage_error("blackhole,after=DUR goes silent both ways: leave out dir");
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
    case FaultKind::latency: return "latency";
    case FaultKind::bandwidth: return "bandwidth";
    case FaultKind::blackhole: return "blackhole";
    case FaultKind::slice: return "slice";
    case FaultKind::close: return "close";
    case FaultKind::slow_close: return "slow_close";
    case FaultKind::loss: return "loss";
  }
  return "?";
}

Direction default_direction(FaultKind kind) {
  switch (kind) {
    case FaultKind::latency:
    case FaultKind::bandwidth:
    case FaultKind::slice: return Direction::down;
    default: return Direction::both;
  }
}

std::string_view direction_name(Direction dir) {
  switch (dir) {
    case Direction::up: return "up";
    case Direction::down: return "down";
    case Direction::both: return "both";
  }
  return "?";
}

Result<uint64_t> parse_bytes(std::string_view text, std::string_view what) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  std::string_view unit = text.substr(digits);
  uint64_t scale = 0;
  if (unit.empty() || unit == "B") scale = 1;
  else if (unit == "KB" || unit == "kB" || unit == "K") scale = 1000;
  else if (unit == "KiB") scale = 1024;
  else if (unit == "MB" || unit == "M") scale = 1000 * 1000;
  else if (unit == "MiB") scale = 1024 * 1024;
  else if (unit == "GB" || unit == "G") scale = 1000ULL * 1000 * 1000;
  else if (unit == "GiB") scale = 1024ULL * 1024 * 1024;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + digits, value);
  if (digits == 0 || ec != std::errc() || scale == 0 || value > UINT64_MAX / scale)
    return usage_error(fmt::format("invalid {} '{}' (use bytes like 1400, 64KB or 1MiB)", what, text));
  return value * scale;
}

std::string format_bytes(uint64_t bytes) {
  if (bytes == 0) return "0";
  static constexpr std::pair<uint64_t, std::string_view> k_units[] = {
      {1024ULL * 1024 * 1024, "GiB"}, {1000ULL * 1000 * 1000, "GB"}, {1024 * 1024, "MiB"},
      {1000 * 1000, "MB"},            {1024, "KiB"},                 {1000, "KB"}};
  for (const auto& [scale, name] : k_units)
    if (bytes % scale == 0) return fmt::format("{}{}", bytes / scale, name);
  return std::to_string(bytes);
}

Result<FaultSpec> parse_fault_spec(std::string_view text, ProxyMode mode) {
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
  TRY(spec.kind, parse_kind(head.substr(0, eq), mode));
  spec.dir = default_direction(spec.kind);
  std::set<std::string> seen;
  if (eq != std::string_view::npos) {
    std::string_view key = kind_value_key(spec.kind);
    if (key.empty()) {
      std::string_view usage = no_value_usage(spec.kind, mode);
      return usage_error(fmt::format("'{}' takes no value of its own (use {})", kind_name(spec.kind),
                                     usage.empty() ? fmt::format("{},after=N", kind_name(spec.kind)) : usage));
    }
    TRY_VOID(apply_key(spec, key, head.substr(eq + 1), mode));
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
    TRY_VOID(apply_key(spec, key, part.substr(peq + 1), mode));
  }
  TRY_VOID(check_complete(spec, seen));
  return spec;
}

Result<std::vector<FaultSpec>> parse_rules(std::string_view json_text, const std::string& file_name,
                                           ProxyMode mode) {
  using nlohmann::json;
  auto fail = [&](const std::string& where, const std::string& message) {
    return local_error(fmt::format("{}: {}{}", file_name, where.empty() ? "" : where + ": ", message),
                       "see docs/chaos.md for the rules file format");
  };
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number like 1e999
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
      return fail(where + ".kind", fmt::format("missing or not a string ({})", kinds_hint(mode)));
    FaultSpec spec;
    auto kind = parse_kind(entry["kind"].get<std::string>(), mode);
    if (!kind) return fail(where + ".kind", kind.error().message);
    spec.kind = *kind;
    spec.dir = default_direction(spec.kind);
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
      if (auto applied = apply_key(spec, key, text, mode); !applied) return fail(where + "." + key, applied.error().message);
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
      if (s.retry_after) out += ",retry_after=" + format_duration(*s.retry_after);
      if (!s.message.empty()) out += ",message=" + s.message;
      break;
    case FaultKind::cancel:
    case FaultKind::reset:
    case FaultKind::stall:
      if (s.after_duration)
        out += ",after=" + format_duration(*s.after_duration);
      else if (s.after_messages > 0)
        out += ",after=" + std::to_string(s.after_messages);
      else if (s.after_bytes > 0)
        out += ",after=" + format_bytes(s.after_bytes);
      break;
    case FaultKind::drop: break;
    case FaultKind::blackhole:
      if (s.after_duration) out += ",after=" + format_duration(*s.after_duration);
      break;
    case FaultKind::slow_close: out += "=" + format_duration(s.delay); break;
    case FaultKind::loss: out += "=" + format_pct(s.loss); break;
    case FaultKind::latency:
      out += "=" + format_duration(s.delay);
      if (s.jitter.count() > 0) out += ",jitter=" + format_duration(s.jitter);
      break;
    case FaultKind::bandwidth: out += "=" + format_bytes(s.rate) + "/s"; break;
    case FaultKind::slice:
      out += "=" + format_bytes(s.slice_bytes);
      if (s.delay.count() > 0) out += ",delay=" + format_duration(s.delay);
      break;
    case FaultKind::close:
      if (s.after_bytes > 0)
        out += ",after=" + format_bytes(s.after_bytes);
      else if (s.after_duration && s.after_duration->count() > 0)
        out += ",after=" + format_duration(*s.after_duration);
      break;
  }
  if (s.dir != default_direction(s.kind)) out += ",dir=" + std::string(direction_name(s.dir));
  if (s.pct != 100.0) out += ",pct=" + format_pct(s.pct);
  if (!s.method_glob.empty()) out += ",method=" + s.method_glob;
  if (!s.header_key.empty()) out += ",header=" + s.header_key + ":" + s.header_value_glob;
  if (s.limit) out += ",limit=" + std::to_string(*s.limit);
  return out;
}

}  // namespace grpcdx::chaos
