// Protobuf text format for request and response messages (`--format text`, grpcurl's
// -format text): several messages in one input are separated by the ASCII record separator.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/message.h>

#include "core/error.hpp"

namespace grpcdx::codec {

// Between two text-format messages of one input or output (grpcurl's separator).
inline constexpr char k_record_separator = '\x1e';

// Parses one text-format message into `message` (cleared first). Fails (local) with protobuf's
// line and column: "invalid text format for pkg.Msg: 1:7: ...".
Result<void> parse_text_message(std::string_view text, google::protobuf::Message& message);

// Prints a message in text format: one line, or one field a line when `multi_line`.
std::string print_text_message(const google::protobuf::Message& message, bool multi_line);

// Cuts `text` at each record separator; parts that are only white space are dropped, so an
// input with one message and no separator is one part.
std::vector<std::string> split_text_messages(std::string_view text);

}  // namespace grpcdx::codec
