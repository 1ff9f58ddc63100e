// Replay files: one JSON object a line, {"t_ms": 12.5, "dir": "send|recv", "message": {...}},
// optionally a last {"dir": "status", "code": 0}; recordings also keep the request metadata
// ({"dir": "metadata", "metadata": {...}}), the response headers ({"dir": "headers", ...}) and
// the trailers (on the status line), with secrets redacted. A validating parser that names the
// bad line, and a writer for `call --record`.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "codec/json_codec.hpp"
#include "core/error.hpp"
#include "net/metadata.hpp"

namespace grpcdx::stream {

struct ReplaySend {
  int line = 0;
  double t_ms = 0;
  std::string bytes;  // the serialized request
};

struct ReplayRecv {
  int line = 0;
  double t_ms = 0;
  std::shared_ptr<google::protobuf::Message> message;  // of the method's output type
};

struct ReplayStatus {
  int line = 0;
  int code = 0;
  std::string message;
  net::Metadata trailers;  // as recorded (secrets may read "<redacted>")
};

struct ReplayScript {
  std::vector<ReplaySend> sends;
  std::vector<ReplayRecv> recvs;
  std::optional<ReplayStatus> status;
  // What the recorded call sent and got as metadata, for people reading the file; replay sends
  // the -H metadata it is given, not these (a recording's secrets are redacted).
  net::Metadata request_metadata;
  net::Metadata headers;
};

// Parses a replay file's text. `source` names the file in errors ("replay.jsonl:3: ..."). Send
// messages must fit `input`, recv messages `output`. Fails (local) on a line that is not a JSON
// object, an unknown or missing dir, a missing or ill-typed field, a negative t_ms, a message that
// does not fit its type, metadata that is not an object of lists of strings, a line after the
// status line, or a file with no lines at all. The recv
// messages are made by `codec`, which must outlive them.
Result<ReplayScript> parse_replay(std::string_view text, std::string_view source,
                                  const google::protobuf::Descriptor* input,
                                  const google::protobuf::Descriptor* output,
                                  codec::MessageCodec& codec);

// Writes a replay file as the call runs; every line is flushed as it is written. Thread-safe.
class ReplayRecorder {
 public:
  // Creates (or truncates) `path` with mode 0600. Metadata values of secret keys
  // (net::is_secret_key) are written as "<redacted>" unless `show_secrets`. Fails (local)
  // naming the file and the reason.
  static Result<std::unique_ptr<ReplayRecorder>> open(const std::string& path, bool show_secrets = false);
  ~ReplayRecorder();
  ReplayRecorder(const ReplayRecorder&) = delete;
  ReplayRecorder& operator=(const ReplayRecorder&) = delete;

  // `message_json` is one compact JSON object (protobuf's JSON mapping). Times never go backwards
  // in the file: sends and receives are stamped on different threads just before they are
  // written, so a line written later gets at least the time of the line before it.
  void send(double t_ms, const std::string& message_json);
  void recv(double t_ms, const std::string& message_json);
  // The call's request metadata and the response headers; nothing is written when empty.
  void request_metadata(double t_ms, const net::Metadata& metadata);
  void headers(double t_ms, const net::Metadata& metadata);
  // The status line; the trailers go on it when there are any.
  void status(double t_ms, int code, const std::string& message, const net::Metadata& trailers = {});

  // Closes the file. Fails (local) when any write failed (e.g. the disk is full).
  Result<void> close();

 private:
  ReplayRecorder(std::FILE* file, std::string path, bool show_secrets)
      : m_file(file), m_path(std::move(path)), m_show_secrets(show_secrets) {}
  std::string metadata_json(const net::Metadata& metadata) const;
  void write_line(double t_ms, const std::string& dir, const std::string& rest);

  std::mutex m_mutex;
  std::FILE* m_file;
  std::string m_path;
  bool m_show_secrets = false;
  std::optional<std::string> m_write_error;
  double m_last_t_ms = 0;
};

}  // namespace grpcdx::stream
