// Template placeholders: checking, expansion, UUIDs and timestamps.
#include "load/request_template.hpp"

#include <ctime>

#include <fmt/format.h>

namespace grpcdx::load {

namespace {

constexpr std::string_view k_request_number = "{{.RequestNumber}}";
constexpr std::string_view k_worker_id = "{{.WorkerID}}";
constexpr std::string_view k_uuid = "{{.UUID}}";
constexpr std::string_view k_timestamp = "{{.Timestamp}}";
constexpr std::string_view k_known = "{{.RequestNumber}}, {{.WorkerID}}, {{.UUID}}, {{.Timestamp}}";

}  // namespace

bool has_template(std::string_view text) { return text.find("{{") != std::string_view::npos; }

Result<void> check_template(std::string_view text, std::string_view source) {
  size_t pos = 0;
  while ((pos = text.find("{{", pos)) != std::string_view::npos) {
    size_t end = text.find("}}", pos);
    if (end == std::string_view::npos)
      return local_error(fmt::format("unclosed template '{}' in {}", text.substr(pos, 20), source),
                         fmt::format("known templates: {}", k_known));
    std::string_view placeholder = text.substr(pos, end + 2 - pos);
    if (placeholder != k_request_number && placeholder != k_worker_id && placeholder != k_uuid &&
        placeholder != k_timestamp)
      return local_error(fmt::format("unknown template '{}' in {} (known: {})", placeholder, source, k_known));
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
    std::string_view rest = text.substr(open);
    if (rest.starts_with(k_request_number)) {
      out += std::to_string(vars.request_number);
      pos = open + k_request_number.size();
    } else if (rest.starts_with(k_worker_id)) {
      out += std::to_string(vars.worker_id);
      pos = open + k_worker_id.size();
    } else if (rest.starts_with(k_uuid)) {
      out += vars.uuid;
      pos = open + k_uuid.size();
    } else if (rest.starts_with(k_timestamp)) {
      out += rfc3339(vars.timestamp);
      pos = open + k_timestamp.size();
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
