// Request metadata from -H flags, and the redaction of secrets when metadata is shown.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace grpcdx::net {

// One metadata entry; for -bin keys `value` holds the raw (decoded) bytes.
struct MetadataEntry {
  std::string key;
  std::string value;
};
using Metadata = std::vector<MetadataEntry>;

// Parses "key: value" (the space is optional). Keys are lower-cased and must use only
// 0-9 a-z - _ . ; values of -bin keys must be base64. Fails (usage) otherwise.
Result<MetadataEntry> parse_header(std::string_view text);

// True for keys whose values are secrets: authorization, cookie, set-cookie, *-token,
// proxy-authorization, x-api-key.
bool is_secret_key(std::string_view key);

// The value as it may be shown: "<redacted>" for secrets unless show_secrets.
std::string shown_value(std::string_view key, std::string_view value, bool show_secrets);

}  // namespace grpcdx::net
