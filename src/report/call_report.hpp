// Rendering of a call as it runs: response messages, headers, trailers, status and timings, as
// text for people or as one JSON event a line for scripts.
#pragma once

#include <optional>
#include <string>

#include <google/protobuf/descriptor.h>
#include <nlohmann/json.hpp>

#include "codec/json_codec.hpp"
#include "core/duration.hpp"
#include "core/io.hpp"
#include "net/metadata.hpp"
#include "report/output_format.hpp"
#include "rpc/invoker.hpp"
#include "stream/stall_monitor.hpp"

namespace grpcdx::report {

// Metadata as SPEC's JSON object of lists; -bin values base64, secrets redacted unless asked.
nlohmann::ordered_json metadata_json(const net::Metadata& metadata, bool show_secrets);

// One line for people about a stall: what stalled, for how long, the counts and what the channel
// and the transport check said, e.g. "recv_idle: nothing received for 1.00s while the call is
// open (sent 1, received 2; channel READY; transport alive: the peer answers, only this stream is
// silent)".
std::string stall_summary(const stream::StallEvent& event);

struct CallReportOptions {
  OutputFormat format = OutputFormat::text;
  bool verbose = false;
  bool show_secrets = false;
  codec::JsonOptions json;  // how messages print; the status's rich error details print the same way
};

class CallReport {
 public:
  CallReport(Io& io, CallReportOptions options) : m_io(io), m_options(options) {}

  // Before the call: the method and the request metadata (shown with -v).
  void request(const std::string& method, const net::Metadata& metadata);
  void headers(const net::Metadata& metadata);
  // A response message already printed as JSON (compact in json mode, indented in text mode).
  void message(const std::string& json);
  // A stall: a JSON event {"event": "stall", ...}; in text mode, with `warn`, a "warning:" line on
  // stderr (when the call goes on; a failing command prints its own error line instead).
  void stall(const stream::StallEvent& event, bool warn);
  // The end of the call. `connect` is how long connecting took, if it was measured. Rich error
  // details (grpc-status-details-bin) are decoded with google.rpc's types and then `schema`'s
  // (the call's; may be null): a "details" list in the JSON event, a "detail:" line each on
  // stderr in text mode.
  void status(const rpc::CallResult& result, std::optional<Duration> connect,
              const google::protobuf::DescriptorPool* schema);

 private:
  Io& m_io;
  CallReportOptions m_options;
};

}  // namespace grpcdx::report
