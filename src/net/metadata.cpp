// -H parsing and secret redaction.
#include "net/metadata.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "core/base64.hpp"

namespace grpcdx::net {

namespace {

// The start of a malformed -H value, safe to echo in an error: up to its first ':' or, without
// one, its first white space, then " ..." for what was cut. A header that failed to parse may
// still hold a secret ("authorization Bearer x"), and errors end up in CI logs.
std::string header_for_error(std::string_view text) {
  size_t cut = text.find(':');
  cut = cut == std::string_view::npos ? text.find_first_of(" \t") : cut + 1;
  if (cut == std::string_view::npos || cut >= text.size()) return std::string(text);
  return fmt::format("{} ...", text.substr(0, cut));
}

}  // namespace

Result<MetadataEntry> parse_header(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0)
    return usage_error(fmt::format("invalid header '{}': expected 'key: value'", header_for_error(text)));
  std::string key(text.substr(0, colon));
  while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
  std::string_view value = text.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  std::transform(key.begin(), key.end(), key.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (key.empty())
    return usage_error(fmt::format("invalid header '{}': expected 'key: value'", header_for_error(text)));
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok)
      return usage_error(fmt::format("invalid header key '{}': use only a-z, 0-9, '-', '_' and '.'", key));
  }
  if (key.starts_with("grpc-") || key.starts_with(":"))
    return usage_error(fmt::format("invalid header key '{}': reserved by gRPC", key));
  if (key.ends_with("-bin")) {
    auto decoded = base64_decode(value);
    if (!decoded) return usage_error(fmt::format("invalid header '{}': a -bin value must be base64", key));
    return MetadataEntry{key, *decoded};
  }
  for (char c : value)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e)
      return usage_error(fmt::format("invalid header '{}': value must be printable ASCII (use a -bin key for bytes)", key));
  return MetadataEntry{key, std::string(value)};
}

bool is_secret_key(std::string_view key) {
  return key == "authorization" || key == "proxy-authorization" || key == "cookie" ||
         key == "set-cookie" || key == "x-api-key" || key.ends_with("-token") || key == "token";
}

std::string shown_value(std::string_view key, std::string_view value, bool show_secrets) {
  if (!show_secrets && is_secret_key(key)) return "<redacted>";
  return std::string(value);
}

}  // namespace grpcdx::net
