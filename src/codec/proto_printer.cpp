// The .proto printer used by `describe`.
#include "codec/proto_printer.hpp"

#include <cctype>

namespace grpcdx::codec {

namespace gp = google::protobuf;

namespace {

gp::DebugStringOptions options() {
  gp::DebugStringOptions o;
  o.include_comments = true;
  return o;
}

bool starts_identifier(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

std::string strip_leading_dots(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  char quote = 0;        // inside a string literal delimited by this character
  bool comment = false;  // inside a // comment
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (comment) {
      if (c == '\n') comment = false;
    } else if (quote) {
      if (c == '\\' && i + 1 < text.size()) {
        out += c;
        out += text[++i];
        continue;
      }
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      comment = true;
    } else if (c == '.' && i + 1 < text.size() && starts_identifier(text[i + 1])) {
      // A type reference starts after a space, '(' (rpc types), '<' or ',' (map types).
      const char before = i == 0 ? ' ' : text[i - 1];
      if (before == ' ' || before == '(' || before == '<' || before == ',' || before == '\n') continue;
    }
    out += c;
  }
  return out;
}

std::string print_service(const gp::ServiceDescriptor& service) {
  return strip_leading_dots(service.DebugStringWithOptions(options()));
}

std::string print_method(const gp::MethodDescriptor& method) {
  return strip_leading_dots(method.DebugStringWithOptions(options()));
}

std::string print_message(const gp::Descriptor& message) {
  return strip_leading_dots(message.DebugStringWithOptions(options()));
}

std::string print_enum(const gp::EnumDescriptor& enum_type) {
  return strip_leading_dots(enum_type.DebugStringWithOptions(options()));
}

}  // namespace grpcdx::codec
