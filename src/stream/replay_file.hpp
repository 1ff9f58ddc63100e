// Replay files: one JSON object a line, {"t_ms": 12.5, "dir": "send|recv", "message": {...}},
// optionally a last {"dir": "status", "code": 0}. A validating parser that names the bad line,
// and a writer for `call --record`.
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
};

struct ReplayScript {
  std::vector<ReplaySend> sends;
  std::vector<ReplayRecv> recvs;
  std::optional<ReplayStatus> status;
};

// Parses a replay file's text. `source` names the file in errors ("replay.jsonl:3: ..."). Send
// messages must fit `input`, recv messages `output`. Fails (local) on a line that is not a JSON
// object, an unknown or missing dir, a missing or ill-typed field, a negative t_ms, a message that
// does not fit its type, a line after the status line, or a file with no lines at all. The recv
// messages are made by `codec`, which must outlive them.
Result<ReplayScript> parse_replay(std::string_view text, std::string_view source,
                                  const google::protobuf::Descriptor* input,
                                  const google::protobuf::Descriptor* output,
                                  codec::MessageCodec& codec);

// Writes a replay file as the call runs; every line is flushed as it is written. Thread-safe.
class ReplayRecorder {
 public:
  // Creates (or truncates) `path` with mode 0600. Fails (local) naming the file and the reason.
  static Result<std::unique_ptr<ReplayRecorder>> open(const std::string& path);
  ~ReplayRecorder();
  ReplayRecorder(const ReplayRecorder&) = delete;
  ReplayRecorder& operator=(const ReplayRecorder&) = delete;

  // `message_json` is one compact JSON object (protobuf's JSON mapping). Times never go backwards
  // in the file: sends and receives are stamped on different threads just before they are
  // written, so a line written later gets at least the time of the line before it.
  void send(double t_ms, const std::string& message_json);
  void recv(double t_ms, const std::string& message_json);
  void status(double t_ms, int code, const std::string& message);

  // Closes the file. Fails (local) when any write failed (e.g. the disk is full).
  Result<void> close();

 private:
  ReplayRecorder(std::FILE* file, std::string path) : m_file(file), m_path(std::move(path)) {}
  void write_line(double t_ms, const std::string& dir, const std::string& rest);

  std::mutex m_mutex;
  std::FILE* m_file;
  std::string m_path;
  std::optional<std::string> m_write_error;
  double m_last_t_ms = 0;
};

}  // namespace grpcdx::stream
