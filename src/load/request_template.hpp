// Per-call request templates: {{.RequestNumber}}, {{.WorkerID}}, {{.UUID}}, {{.Timestamp}} in
// the JSON of -d, expanded for each call.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace grpcdx::load {

// The values one call substitutes.
struct TemplateVars {
  uint64_t request_number = 0;  // 0-based number of the call in the run
  int worker_id = 0;            // which of the -c concurrent slots makes the call
  std::string uuid;             // a random version-4 UUID
  std::chrono::system_clock::time_point timestamp;  // printed as RFC 3339 UTC with nanoseconds
};

// True when `text` holds a "{{" (the template must then be expanded per call).
bool has_template(std::string_view text);

// Checks that every {{...}} in `text` is one of the four known placeholders. Fails (local)
// naming the first unknown or unclosed one, e.g. "unknown template '{{.Foo}}' in -d (known:
// {{.RequestNumber}}, {{.WorkerID}}, {{.UUID}}, {{.Timestamp}})".
Result<void> check_template(std::string_view text, std::string_view source);

// Replaces the placeholders of a checked template with `vars`. Unknown placeholders are left as
// they are (check_template rejects them first).
std::string expand_template(std::string_view text, const TemplateVars& vars);

// A random version-4 UUID in its 36-character text form.
std::string random_uuid(std::mt19937_64& rng);

// RFC 3339 UTC with nanoseconds: "2024-05-01T12:00:00.123456789Z".
std::string rfc3339(std::chrono::system_clock::time_point t);

}  // namespace grpcdx::load
