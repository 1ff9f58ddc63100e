// JSON <-> dynamic messages through protobuf's JSON mapping; splitting of multi-message input.
#include "codec/json_codec.hpp"

#include <fmt/format.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include "codec/text_format.hpp"

namespace grpcdx::codec {

namespace pb = google::protobuf;

std::unique_ptr<pb::Message> MessageCodec::new_message(const pb::Descriptor* type) {
  const pb::Message* prototype = m_factory.GetPrototype(type);
  return std::unique_ptr<pb::Message>(prototype->New());
}

Result<std::unique_ptr<pb::Message>> MessageCodec::from_json(std::string_view json,
                                                             const pb::Descriptor* type) {
  auto message = new_message(type);
  if (m_options.text_format) {
    TRY_VOID(parse_text_message(json, *message));
    return message;
  }
  pb::util::JsonParseOptions options;
  options.ignore_unknown_fields = m_options.allow_unknown_fields;
  options.case_insensitive_enum_parsing = false;
  auto status = pb::util::JsonStringToMessage(pb::StringPiece(json.data(), json.size()), message.get(), options);
  if (!status.ok()) {
    std::string reason(status.message());
    std::string hint;
    if (reason.find("Cannot find field") != std::string::npos && !m_options.allow_unknown_fields)
      hint = "check the field names with `grpcdx describe`, or pass --allow-unknown-fields";
    return local_error(fmt::format("invalid JSON for {}: {}", type->full_name(), reason), hint);
  }
  return message;
}

Result<std::unique_ptr<pb::Message>> MessageCodec::from_bytes(std::string_view bytes,
                                                              const pb::Descriptor* type) {
  auto message = new_message(type);
  // protobuf logs a line of its own for a string field that is not UTF-8; the error below is the
  // one line a failed parse gets.
  google::protobuf::LogSilencer quiet;
  if (!message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return local_error(fmt::format("the server sent {} bytes that are not a valid {}", bytes.size(),
                                   type->full_name()));
  return message;
}

Result<std::string> MessageCodec::to_json(const pb::Message& message) const {
  if (m_options.text_format) return print_text_message(message, m_options.pretty);
  pb::util::JsonPrintOptions options;
  options.always_print_primitive_fields = m_options.emit_defaults;
  options.always_print_enums_as_ints = false;
  options.preserve_proto_field_names = m_options.proto_names;
  std::string out;
  auto status = pb::util::MessageToJsonString(message, &out, options);
  if (!status.ok())
    return local_error(fmt::format("cannot print {} as JSON: {}", message.GetDescriptor()->full_name(),
                                   std::string(status.message())));
  if (m_options.pretty) {
    // protobuf indents by one space; re-indent by two, as people expect from JSON tools.
    auto parsed = nlohmann::ordered_json::parse(out, nullptr, false);
    if (!parsed.is_discarded()) out = parsed.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  }
  return out;
}

Result<MessageCodec::Decoded> MessageCodec::decode(std::string_view bytes, const pb::Descriptor* type) {
  TRY(auto message, from_bytes(bytes, type));
  TRY(auto json, to_json(*message));
  return Decoded{std::move(message), std::move(json)};
}

void JsonSplitter::feed(std::string_view chunk) {
  m_buffer.append(chunk);
  for (; m_scan < m_buffer.size(); ++m_scan) {
    char c = m_buffer[m_scan];
    if (m_in_string) {
      if (m_escape) m_escape = false;
      else if (c == '\\') m_escape = true;
      else if (c == '"') m_in_string = false;
      if (c == '\n') ++m_line;
      continue;
    }
    if (c == '\n') ++m_line;
    if (m_depth == 0) {
      if (c == '{' || c == '[') {
        m_start = m_scan;
        m_depth = 1;
      } else if (!(c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',') && m_stray.empty()) {
        m_stray = fmt::format("line {}: unexpected '{}' outside a JSON object", m_line, c);
      }
      continue;
    }
    if (c == '"') m_in_string = true;
    else if (c == '{' || c == '[') ++m_depth;
    else if (c == '}' || c == ']') {
      if (--m_depth == 0) {
        m_ready.push_back(m_buffer.substr(m_start, m_scan + 1 - m_start));
        m_start = std::string::npos;
      }
    }
  }
  // Drop what has been consumed so memory stays bounded on long streams.
  size_t keep_from = m_start == std::string::npos ? m_buffer.size() : m_start;
  if (keep_from > 0) {
    m_buffer.erase(0, keep_from);
    m_scan -= keep_from;
    if (m_start != std::string::npos) m_start = 0;
  }
}

std::optional<std::string> JsonSplitter::next() {
  if (m_ready_pos >= m_ready.size()) {
    m_ready.clear();
    m_ready_pos = 0;
    return std::nullopt;
  }
  return std::move(m_ready[m_ready_pos++]);
}

Result<void> JsonSplitter::finish(std::string_view source) const {
  if (!m_stray.empty()) return local_error(fmt::format("invalid JSON in {}: {}", source, m_stray));
  if (m_depth != 0 || m_in_string)
    return local_error(fmt::format("invalid JSON in {}: unexpected end of input inside a value", source));
  return {};
}

Result<std::vector<std::string>> split_json_values(std::string_view text, std::string_view source) {
  JsonSplitter splitter;
  splitter.feed(text);
  TRY_VOID(splitter.finish(source));
  std::vector<std::string> values;
  while (auto v = splitter.next()) {
    if (!v->starts_with('[')) {
      values.push_back(std::move(*v));
      continue;
    }
    // An array of messages: its elements, split the same way (templates inside stay text).
    JsonSplitter elements;
    elements.feed(std::string_view(*v).substr(1, v->size() - 2));
    TRY_VOID(elements.finish(source));
    while (auto e = elements.next()) values.push_back(std::move(*e));
  }
  return values;
}

}  // namespace grpcdx::codec
