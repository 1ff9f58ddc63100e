// `bench --emit k6`: the same load written as a k6 gRPC script, for load from many machines
// with k6's distributed execution. Pure: a plan in, the script text out.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/duration.hpp"
#include "load/engine.hpp"
#include "net/metadata.hpp"

namespace grpcdx::load {

struct K6Plan {
  std::string target;            // as given on the command line
  std::string method;            // "pkg.Service/Method"
  CallKind kind = CallKind::unary;
  std::vector<std::string> messages;  // JSON texts, templates kept; empty: one empty message
  bool plaintext = false;
  bool insecure = false;
  std::string cacert, cert, key;
  std::vector<std::string> proto_files, import_paths, protosets;  // none: server reflection
  net::Metadata metadata;        // -H (binary values are sent as given text; see k6_script)
  std::optional<Duration> timeout, connect_timeout;
  std::optional<int> max_msg_size;
  int concurrency = 50;
  uint64_t total_calls = 0;
  Duration duration{};
  double rps = 0;
  std::optional<double> max_error_rate;  // percent
  std::optional<Duration> max_p99;
  // Options given that k6 cannot express, as text such as "--warmup 1s (k6 has no warmup
  // excluded from its figures)"; written as comments at the top of the script.
  std::vector<std::string> unsupported;
};

// The script. Templates become JavaScript substitutions ({{.RequestNumber}} is the iteration
// number in the test, {{.WorkerID}} the VU, {{.UUID}} a random v4 UUID, {{.Timestamp}} the
// ISO time). Never fails: every plan has a script.
std::string k6_script(const K6Plan& plan);

// A JavaScript string literal of `text` (double quotes, escapes for quotes, backslashes and
// control characters).
std::string js_string(const std::string& text);

}  // namespace grpcdx::load
