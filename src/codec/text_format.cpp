// Protobuf text format in and out, through protobuf's TextFormat.
#include "codec/text_format.hpp"

#include <fmt/format.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

namespace grpcdx::codec {

namespace gp = google::protobuf;

namespace {

// Keeps the first error protobuf's text parser reports, with its position.
class FirstError final : public gp::io::ErrorCollector {
 public:
  void AddError(int line, gp::io::ColumnNumber column, const std::string& message) override {
    if (m_error.empty()) m_error = fmt::format("{}:{}: {}", line + 1, column + 1, message);
  }
  const std::string& error() const { return m_error; }

 private:
  std::string m_error;
};

}  // namespace

Result<void> parse_text_message(std::string_view text, gp::Message& message) {
  message.Clear();
  FirstError errors;
  gp::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), &message))
    return local_error(fmt::format("invalid text format for {}: {}", message.GetDescriptor()->full_name(),
                                   errors.error().empty() ? "cannot parse" : errors.error()),
                       "write fields as name: value, messages as name { ... }");
  return {};
}

std::string print_text_message(const gp::Message& message, bool multi_line) {
  gp::TextFormat::Printer printer;
  printer.SetSingleLineMode(!multi_line);
  printer.SetExpandAny(true);
  std::string out;
  printer.PrintToString(message, &out);
  // Single-line mode leaves a trailing space; multi-line a trailing newline.
  while (!out.empty() && (out.back() == ' ' || out.back() == '\n')) out.pop_back();
  return out;
}

std::vector<std::string> split_text_messages(std::string_view text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(k_record_separator, start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view part = text.substr(start, end - start);
    if (part.find_first_not_of(" \t\r\n") != std::string_view::npos) parts.emplace_back(part);
    start = end + 1;
  }
  return parts;
}

}  // namespace grpcdx::codec
