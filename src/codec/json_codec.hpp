// JSON <-> dynamic protobuf messages (protobuf's JSON mapping), and splitting one input that
// holds several JSON messages into single messages.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>

#include "core/error.hpp"

namespace grpcdx::codec {

struct JsonOptions {
  bool emit_defaults = false;         // print fields that hold default values
  bool proto_names = false;           // print .proto field names instead of lowerCamelCase
  bool allow_unknown_fields = false;  // ignore fields the message type does not have
  bool pretty = false;                // indented output (text mode) instead of one line
  bool text_format = false;           // --format text: protobuf text format in and out, not JSON
};

// Makes and parses messages of types from one pool.
class MessageCodec {
 public:
  explicit MessageCodec(JsonOptions options) : m_options(options) {}

  // A new empty message of `type`.
  std::unique_ptr<google::protobuf::Message> new_message(const google::protobuf::Descriptor* type);

  // Parses one JSON object (a text-format message with options.text_format) into a message of
  // `type`. Fails (local) with protobuf's reason, e.g. "invalid JSON for grpc.testing.SimpleRequest: ...",
  // and on what the proto3 JSON mapping forbids although protobuf's parser lets it through: a
  // repeated field given a single value, null inside a repeated field, a key given twice in one
  // object, a field given by both its .proto and its JSON name.
  Result<std::unique_ptr<google::protobuf::Message>> from_json(std::string_view json,
                                                               const google::protobuf::Descriptor* type);

  // Parses wire bytes into a message of `type`. Fails (local) when they are not a valid message.
  Result<std::unique_ptr<google::protobuf::Message>> from_bytes(std::string_view bytes,
                                                                const google::protobuf::Descriptor* type);

  // A response as it arrived: the message and its JSON text.
  struct Decoded {
    std::unique_ptr<google::protobuf::Message> message;
    std::string json;
  };

  // from_bytes then to_json. Fails as either does.
  Result<Decoded> decode(std::string_view bytes, const google::protobuf::Descriptor* type);

  // Prints a message as JSON (one line, or indented when options.pretty), or in text format with
  // options.text_format. Fails (local) when an Any holds a type the pool cannot resolve.
  Result<std::string> to_json(const google::protobuf::Message& message) const;

  const JsonOptions& options() const { return m_options; }

 private:
  JsonOptions m_options;
  google::protobuf::DynamicMessageFactory m_factory;
};

// Cuts a stream of JSON values (concatenated, or one a line, or separated by white space) into
// single values, as bytes arrive. Strings and escapes are respected; only the outer nesting is
// tracked, so each value is checked later by the parser. A top-level array stands for its
// elements (ghz's `-d '[{...}, {...}]'`).
class JsonSplitter {
 public:
  // Adds input; complete values become available through next().
  void feed(std::string_view chunk);
  // The next complete value, if one is ready.
  std::optional<std::string> next();
  // Call at end of input. Fails (local) when a value is left unfinished or a stray character
  // stands between values; `source` names the input in the message.
  Result<void> finish(std::string_view source) const;

 private:
  std::string m_buffer;     // bytes not yet returned
  size_t m_scan = 0;        // how far m_buffer has been scanned
  size_t m_start = std::string::npos;  // start of the value being scanned
  int m_depth = 0;
  bool m_in_string = false;
  bool m_escape = false;
  std::vector<std::string> m_ready;
  size_t m_ready_pos = 0;
  std::string m_stray;      // first character found outside any value, for the error
  int m_line = 1;
  int m_start_line = 1;     // the line the value being scanned starts on
};

// Splits a complete input into values (see JsonSplitter). Fails (local) like finish().
Result<std::vector<std::string>> split_json_values(std::string_view text, std::string_view source);

}  // namespace grpcdx::codec
