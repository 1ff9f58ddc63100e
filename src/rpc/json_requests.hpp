// Request messages written as JSON (inline, a file, or standard input), turned into serialized
// protobuf as the call asks for them.
#pragma once

#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>

#include "codec/json_codec.hpp"
#include "rpc/invoker.hpp"

namespace grpcdx::rpc {

// The text behind -d: the argument itself, the file after '@', or all of standard input for
// "@-" (and "@" alone, as grpcurl). Fails (local) naming a file that cannot be read or that is a
// directory.
Result<std::string> read_request_text(const std::string& data);

// Whether -d `data` reads standard input: "@-" or "@".
inline bool reads_stdin(const std::string& data) { return data == "@-" || data == "@"; }

// How error messages name the input of -d `data`: "standard input", the file, or "-d".
inline std::string request_source_name(const std::string& data) {
  if (reads_stdin(data)) return "standard input";
  return data.starts_with("@") ? data.substr(1) : "-d";
}

// Parses every JSON value of `text` into a serialized message of `type`. `source` names the
// input in error messages ("-d", "file.json"). Fails (local) on malformed JSON, a wrong field
// type or an unknown field, naming the message number.
Result<std::vector<std::string>> encode_json_messages(std::string_view text, std::string_view source,
                                                      const google::protobuf::Descriptor* type,
                                                      codec::MessageCodec& codec);

// Reads JSON messages from a file descriptor as they arrive (for `-d @-` on a streaming call:
// each message is sent as soon as it is complete, before the input ends).
class StreamingJsonSource : public RequestSource {
 public:
  StreamingJsonSource(int fd, std::string source, const google::protobuf::Descriptor* type,
                      codec::MessageCodec& codec)
      : m_fd(fd), m_source(std::move(source)), m_type(type), m_codec(codec) {}

  std::optional<Result<std::string>> next(const std::atomic<bool>& stop) override;

 private:
  int m_fd;
  std::string m_source;
  const google::protobuf::Descriptor* m_type;
  codec::MessageCodec& m_codec;
  codec::JsonSplitter m_splitter;
  bool m_eof = false;
  int m_count = 0;
};

}  // namespace grpcdx::rpc
