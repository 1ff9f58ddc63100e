// JSON <-> dynamic messages through protobuf's JSON mapping; splitting of multi-message input.
#include "codec/json_codec.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include "codec/text_format.hpp"

namespace grpcdx::codec {

namespace pb = google::protobuf;

namespace {

using Json = nlohmann::ordered_json;

// The JSON type of `v` as an error message names it.
std::string_view json_kind(const Json& v) {
  if (v.is_object()) return "an object";
  if (v.is_array()) return "an array";
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  return "null";
}

// The field of `type` that JSON key `key` names (its JSON name or its .proto name), if any.
const pb::FieldDescriptor* field_for_key(const pb::Descriptor* type, const std::string& key) {
  for (int i = 0; i < type->field_count(); ++i) {
    const pb::FieldDescriptor* f = type->field(i);
    if (f->json_name() == key || f->name() == key) return f;
  }
  return nullptr;
}

// Whether `type` is one of the well-known types with a JSON form of their own (Timestamp,
// Struct, Any, wrappers...): protobuf checks those strictly, and their shape is not a message's.
bool special_json_form(const pb::Descriptor* type) {
  return type->well_known_type() != pb::Descriptor::WELLKNOWNTYPE_UNSPECIFIED;
}

// What protobuf 3.21's JsonStringToMessage accepts although the proto3 JSON mapping does not:
// a repeated field given one value instead of an array (it becomes a list of one), null inside
// a repeated field (dropped), and one field given twice, by the same key or by its .proto and
// JSON names (the last wins). A typo would slip through as data the user did not mean. Returns
// the first such problem at `path` ("" at the top) in `value`, a message of `type`; every other
// error is left to protobuf, which words it.
std::optional<std::string> lenient_form(const Json& value, const pb::Descriptor* type, const std::string& path) {
  if (!value.is_object() || special_json_form(type)) return std::nullopt;
  std::vector<std::pair<const pb::FieldDescriptor*, std::string>> seen;
  for (const auto& [key, v] : value.items()) {
    const pb::FieldDescriptor* field = field_for_key(type, key);
    if (!field) continue;  // unknown: protobuf rejects or ignores it, as --allow-unknown-fields says
    const std::string name = path.empty() ? field->name() : path + "." + field->name();
    for (const auto& [other, other_key] : seen)
      if (other == field)
        return fmt::format("field '{}' is given twice (as '{}' and '{}')", name, other_key, key);
    seen.emplace_back(field, key);
    if (v.is_null()) continue;
    const pb::Descriptor* element = field->message_type();
    if (field->is_map()) {
      const pb::FieldDescriptor* map_value = element->map_value();
      if (v.is_object() && map_value->message_type())
        for (const auto& [map_key, item] : v.items())
          if (auto bad = lenient_form(item, map_value->message_type(), fmt::format("{}[\"{}\"]", name, map_key)))
            return bad;
      continue;
    }
    if (field->is_repeated()) {
      if (!v.is_array())
        return fmt::format("field '{}' is repeated: it needs a JSON array, not {}", name, json_kind(v));
      for (size_t i = 0; i < v.size(); ++i) {
        const std::string item = fmt::format("{}[{}]", name, i);
        // A google.protobuf.Value holds null; any other element cannot be null.
        const bool holds_null = element && element->well_known_type() == pb::Descriptor::WELLKNOWNTYPE_VALUE;
        if (v[i].is_null() && !holds_null) return fmt::format("'{}' is null: a repeated field cannot hold null", item);
        if (element)
          if (auto bad = lenient_form(v[i], element, item)) return bad;
      }
      continue;
    }
    if (element)
      if (auto bad = lenient_form(v, element, name)) return bad;
  }
  return std::nullopt;
}

// Parses `json` and returns lenient_form()'s problem, or a key repeated in one object. Text
// that is not JSON gives nullopt: protobuf's parser then says what is wrong with it.
std::optional<std::string> json_mapping_problem(std::string_view json, const pb::Descriptor* type) {
  std::vector<std::vector<std::string>> keys;  // the keys of each open object
  std::optional<std::string> duplicate;
  auto parsed = Json::parse(
      json,
      [&](int, Json::parse_event_t event, Json& parsed) {
        if (event == Json::parse_event_t::object_start) keys.emplace_back();
        else if (event == Json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
        else if (event == Json::parse_event_t::key && !keys.empty()) {
          const std::string& key = parsed.get_ref<const std::string&>();
          auto& open = keys.back();
          if (!duplicate && std::find(open.begin(), open.end(), key) != open.end())
            duplicate = fmt::format("key '{}' is given twice in one object", key);
          open.push_back(key);
        }
        return true;
      },
      false);
  if (parsed.is_discarded()) return std::nullopt;
  if (duplicate) return duplicate;
  return lenient_form(parsed, type, "");
}

}  // namespace

std::unique_ptr<pb::Message> MessageCodec::new_message(const pb::Descriptor* type) {
  const pb::Message* prototype = m_factory.GetPrototype(type);
  return std::unique_ptr<pb::Message>(prototype->New());
}

Result<std::unique_ptr<pb::Message>> MessageCodec::from_json(std::string_view json,
                                                             const pb::Descriptor* type) {
  if (auto problem = json_mapping_problem(json, type))
    return local_error(fmt::format("invalid JSON for {}: {}", type->full_name(), *problem));
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
        m_start_line = m_line;
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
        if (m_buffer[m_start] == '[' && c != ']') {
          if (m_stray.empty()) m_stray = fmt::format("line {}: '[' closed by '{}'", m_line, c);
        } else if (m_buffer[m_start] == '[') {
          // An array of messages (ghz's -d form) stands for its elements, split the same way
          // (templates inside stay text); what is not an object inside it is stray text.
          JsonSplitter elements;
          elements.m_line = m_start_line;
          elements.feed(std::string_view(m_buffer).substr(m_start + 1, m_scan - m_start - 1));
          while (auto e = elements.next()) m_ready.push_back(std::move(*e));
          if (m_stray.empty()) m_stray = elements.m_stray;
        } else {
          m_ready.push_back(m_buffer.substr(m_start, m_scan + 1 - m_start));
        }
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
  while (auto v = splitter.next()) values.push_back(std::move(*v));
  return values;
}

}  // namespace grpcdx::codec
