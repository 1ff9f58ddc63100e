// Template placeholders and functions: checking, expansion, UUIDs and timestamps.
#include "load/request_template.hpp"

#include <charconv>
#include <ctime>
#include <optional>
#include <vector>

#include <fmt/format.h>

namespace grpcdx::load {

namespace {

constexpr std::string_view k_known =
    "{{.RequestNumber}}, {{.WorkerID}}, {{.UUID}}, {{.Timestamp}}, {{.TimestampUnix}}, {{.TimestampUnixMilli}}, "
    "{{.TimestampUnixNano}}, {{.MethodName}}, {{.ServiceName}}, {{.FullyQualifiedName}}, {{.InputName}}, "
    "{{.OutputName}}, {{.IsClientStreaming}}, {{.IsServerStreaming}}, {{newUUID}}, {{randomString N}}, "
    "{{randomInt MIN MAX}}";

// Longest string randomString makes: a template is for test data, not for memory tests.
constexpr int64_t k_max_random_string = 1 << 20;

enum class Kind {
  request_number, worker_id, uuid, timestamp, unix_s, unix_ms, unix_ns, method, service, fully_qualified, input,
  output, client_streaming, server_streaming, new_uuid, random_string, random_int,
};

struct Placeholder {
  Kind kind;
  int64_t a = 0, b = 0;  // randomString N; randomInt MIN MAX
};

constexpr std::pair<std::string_view, Kind> k_fields[] = {
    {".RequestNumber", Kind::request_number}, {".WorkerID", Kind::worker_id},
    {".UUID", Kind::uuid},                    {".Timestamp", Kind::timestamp},
    {".TimestampUnix", Kind::unix_s},         {".TimestampUnixMilli", Kind::unix_ms},
    {".TimestampUnixNano", Kind::unix_ns},    {".MethodName", Kind::method},
    {".ServiceName", Kind::service},          {".FullyQualifiedName", Kind::fully_qualified},
    {".InputName", Kind::input},              {".OutputName", Kind::output},
    {".IsClientStreaming", Kind::client_streaming}, {".IsServerStreaming", Kind::server_streaming},
    {"newUUID", Kind::new_uuid},
};

std::vector<std::string_view> words_of(std::string_view s) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t start = i;
    while (i < s.size() && s[i] != ' ') ++i;
    if (i > start) words.push_back(s.substr(start, i - start));
  }
  return words;
}

std::optional<int64_t> integer(std::string_view word) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
  if (ec != std::errc() || end != word.data() + word.size()) return std::nullopt;
  return value;
}

// The placeholder `inside` the braces names, or an error message for check_template.
std::expected<Placeholder, std::string> parse_placeholder(std::string_view inside) {
  auto words = words_of(inside);
  if (words.size() == 1) {
    for (auto [name, kind] : k_fields)
      if (words[0] == name) return Placeholder{kind};
  }
  if (!words.empty() && words[0] == "randomString") {
    std::optional<int64_t> n = words.size() == 2 ? integer(words[1]) : std::nullopt;
    if (!n || *n < 0 || *n > k_max_random_string)
      return std::unexpected(fmt::format("randomString takes one length from 0 to {}", k_max_random_string));
    return Placeholder{Kind::random_string, *n};
  }
  if (!words.empty() && words[0] == "randomInt") {
    std::optional<int64_t> lo = words.size() == 3 ? integer(words[1]) : std::nullopt;
    std::optional<int64_t> hi = words.size() == 3 ? integer(words[2]) : std::nullopt;
    if (!lo || !hi || *lo >= *hi) return std::unexpected("randomInt takes MIN and MAX, integers with MIN < MAX");
    return Placeholder{Kind::random_int, *lo, *hi};
  }
  return std::unexpected(std::string());
}

std::string random_string(std::mt19937_64* rng, int64_t n) {
  static constexpr std::string_view k_letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string out(static_cast<size_t>(n), 'a');
  for (auto& c : out) c = k_letters[rng ? (*rng)() % k_letters.size() : 0];
  return out;
}

std::string expand_one(const Placeholder& p, const TemplateVars& v) {
  auto since_epoch = v.timestamp.time_since_epoch();
  const MethodNames empty;
  const MethodNames& m = v.method ? *v.method : empty;
  switch (p.kind) {
    case Kind::request_number: return std::to_string(v.request_number);
    case Kind::worker_id: return std::to_string(v.worker_id);
    case Kind::uuid: return v.uuid;
    case Kind::timestamp: return rfc3339(v.timestamp);
    case Kind::unix_s: return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count());
    case Kind::unix_ms:
      return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count());
    case Kind::unix_ns:
      return std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count());
    case Kind::method: return m.method;
    case Kind::service: return m.service;
    case Kind::fully_qualified: return m.fully_qualified;
    case Kind::input: return m.input;
    case Kind::output: return m.output;
    case Kind::client_streaming: return m.client_streaming ? "true" : "false";
    case Kind::server_streaming: return m.server_streaming ? "true" : "false";
    case Kind::new_uuid: {
      if (v.rng) return random_uuid(*v.rng);
      std::mt19937_64 fixed(0);
      return random_uuid(fixed);
    }
    case Kind::random_string: return random_string(v.rng, p.a);
    case Kind::random_int: {
      // [MIN, MAX), as ghz's randomInt.
      uint64_t span = static_cast<uint64_t>(p.b) - static_cast<uint64_t>(p.a);
      uint64_t draw = v.rng ? (*v.rng)() % span : 0;
      return std::to_string(static_cast<int64_t>(static_cast<uint64_t>(p.a) + draw));
    }
  }
  return {};
}

}  // namespace

bool has_template(std::string_view text) { return text.find("{{") != std::string_view::npos; }

bool uses_call_uuid(std::string_view text) {
  for (size_t pos = text.find("{{"); pos != std::string_view::npos; pos = text.find("{{", pos + 2)) {
    size_t end = text.find("}}", pos);
    if (end == std::string_view::npos) break;
    auto p = parse_placeholder(text.substr(pos + 2, end - pos - 2));
    if (p && p->kind == Kind::uuid) return true;
  }
  return false;
}

Result<void> check_template(std::string_view text, std::string_view source) {
  size_t pos = 0;
  while ((pos = text.find("{{", pos)) != std::string_view::npos) {
    size_t end = text.find("}}", pos);
    if (end == std::string_view::npos)
      return local_error(fmt::format("unclosed template '{}' in {}", text.substr(pos, 20), source),
                         fmt::format("known templates: {}", k_known));
    std::string_view placeholder = text.substr(pos, end + 2 - pos);
    auto parsed = parse_placeholder(placeholder.substr(2, placeholder.size() - 4));
    if (!parsed && parsed.error().empty())
      return local_error(fmt::format("unknown template '{}' in {} (known: {})", placeholder, source, k_known));
    if (!parsed) return local_error(fmt::format("invalid template '{}' in {}: {}", placeholder, source, parsed.error()));
    pos = end + 2;
  }
  return {};
}

std::string expand_template(std::string_view text, const TemplateVars& vars) {
  std::string out;
  out.reserve(text.size() + 32);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) break;
    out.append(text.substr(pos, open - pos));
    size_t end = text.find("}}", open);
    std::expected<Placeholder, std::string> parsed = std::unexpected(std::string());
    if (end != std::string_view::npos) parsed = parse_placeholder(text.substr(open + 2, end - open - 2));
    if (parsed) {
      out += expand_one(*parsed, vars);
      pos = end + 2;
    } else {
      out += "{{";
      pos = open + 2;
    }
  }
  out.append(text.substr(std::min(pos, text.size())));
  return out;
}

std::string random_uuid(std::mt19937_64& rng) {
  uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff,
                     lo >> 48, lo & 0xffffffffffffULL);
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
  long frac = static_cast<long>(ns % 1000000000);
  if (frac < 0) {
    frac += 1000000000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

}  // namespace grpcdx::load
