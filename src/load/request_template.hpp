// Per-call request templates in the JSON of -d, with ghz's names: {{.RequestNumber}},
// {{.WorkerID}}, {{.UUID}}, {{.Timestamp}}, {{.TimestampUnix}} (and Milli, Nano), the method's
// names ({{.MethodName}}, {{.ServiceName}}, {{.FullyQualifiedName}}, {{.InputName}},
// {{.OutputName}}), and the functions {{newUUID}}, {{randomString N}}, {{randomInt MIN MAX}}.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace grpcdx::load {

// The names of the method a run calls, as ghz's templates give them.
struct MethodNames {
  std::string fully_qualified;  // "grpc.testing.TestService.UnaryCall"
  std::string method;           // "UnaryCall"
  std::string service;          // "grpc.testing.TestService"
  std::string input;            // "grpc.testing.SimpleRequest"
  std::string output;           // "grpc.testing.SimpleResponse"
  bool client_streaming = false;
  bool server_streaming = false;
};

// The values one call substitutes.
struct TemplateVars {
  uint64_t request_number = 0;  // 0-based number of the call in the run
  int worker_id = 0;            // which of the -c concurrent slots makes the call
  std::string uuid;             // a random version-4 UUID, the same for every {{.UUID}} of a call
  std::chrono::system_clock::time_point timestamp;  // printed as RFC 3339 UTC with nanoseconds
  const MethodNames* method = nullptr;  // nullptr: the method placeholders expand to ""
  std::mt19937_64* rng = nullptr;       // for newUUID, randomString, randomInt; nullptr: they give zeros
};

// True when `text` holds a "{{" (the template must then be expanded per call).
bool has_template(std::string_view text);

// Checks that every {{...}} in `text` is a known placeholder or a function with valid arguments.
// Fails (local) naming the first unknown, malformed or unclosed one, e.g. "unknown template
// '{{.Foo}}' in -d (known: ...)".
Result<void> check_template(std::string_view text, std::string_view source);

// Replaces the placeholders of a checked template with `vars`. What check_template rejects is
// left as it is.
std::string expand_template(std::string_view text, const TemplateVars& vars);

// Whether `text` uses {{.UUID}} (so a call needs a UUID made for it).
bool uses_call_uuid(std::string_view text);

// A random version-4 UUID in its 36-character text form.
std::string random_uuid(std::mt19937_64& rng);

// RFC 3339 UTC with nanoseconds: "2024-05-01T12:00:00.123456789Z".
std::string rfc3339(std::chrono::system_clock::time_point t);

}  // namespace grpcdx::load
