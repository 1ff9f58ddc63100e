// Example messages with every field set, for describe --msg-template.
#include "codec/message_template.hpp"

#include <memory>
#include <vector>

#include <fmt/format.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

namespace grpcdx::codec {

namespace gp = google::protobuf;

namespace {

// Well-known types whose JSON form is not an object of their fields: they are left at their
// default (which prints as their JSON zero: "1970-01-01T00:00:00Z", "0s", {}, null) or, for Any
// and Value, given a form that prints without a type to resolve.
bool is_special(const gp::Descriptor& type) {
  const std::string& name = type.full_name();
  return name.starts_with("google.protobuf.") && type.file()->name().starts_with("google/protobuf/");
}

class Filler {
 public:
  void fill(gp::Message& message) {
    const gp::Descriptor& type = *message.GetDescriptor();
    if (is_special(type)) {
      fill_special(message);
      return;
    }
    m_stack.push_back(&type);
    const gp::Reflection& r = *message.GetReflection();
    for (int i = 0; i < type.field_count(); ++i) {
      const gp::FieldDescriptor& field = *type.field(i);
      // One member of each oneof: the first.
      if (const auto* oneof = field.real_containing_oneof(); oneof && oneof->field(0) != &field) continue;
      if (field.cpp_type() == gp::FieldDescriptor::CPPTYPE_MESSAGE && on_stack(*field.message_type())) continue;
      if (field.is_repeated()) add_one(message, r, field);
      else set_one(message, r, field);
    }
    m_stack.pop_back();
  }

 private:
  bool on_stack(const gp::Descriptor& type) const {
    for (const auto* t : m_stack)
      if (t == &type) return true;
    return false;
  }

  void fill_special(gp::Message& message) {
    const gp::Descriptor& type = *message.GetDescriptor();
    const gp::Reflection& r = *message.GetReflection();
    if (type.full_name() == "google.protobuf.Value") {
      // null_value = NULL_VALUE: prints as null.
      if (const auto* f = type.FindFieldByName("null_value")) r.SetEnumValue(&message, f, 0);
    }
    // Any stays empty (prints as {}); Timestamp, Duration, wrappers, Struct and FieldMask print
    // their zero forms.
  }

  void set_one(gp::Message& m, const gp::Reflection& r, const gp::FieldDescriptor& f) {
    using F = gp::FieldDescriptor;
    switch (f.cpp_type()) {
      case F::CPPTYPE_INT32: r.SetInt32(&m, &f, 0); break;
      case F::CPPTYPE_INT64: r.SetInt64(&m, &f, 0); break;
      case F::CPPTYPE_UINT32: r.SetUInt32(&m, &f, 0); break;
      case F::CPPTYPE_UINT64: r.SetUInt64(&m, &f, 0); break;
      case F::CPPTYPE_DOUBLE: r.SetDouble(&m, &f, 0); break;
      case F::CPPTYPE_FLOAT: r.SetFloat(&m, &f, 0); break;
      case F::CPPTYPE_BOOL: r.SetBool(&m, &f, false); break;
      case F::CPPTYPE_ENUM: r.SetEnumValue(&m, &f, f.enum_type()->value(0)->number()); break;
      case F::CPPTYPE_STRING: r.SetString(&m, &f, ""); break;
      case F::CPPTYPE_MESSAGE: fill(*r.MutableMessage(&m, &f)); break;
    }
  }

  void add_one(gp::Message& m, const gp::Reflection& r, const gp::FieldDescriptor& f) {
    using F = gp::FieldDescriptor;
    switch (f.cpp_type()) {
      case F::CPPTYPE_INT32: r.AddInt32(&m, &f, 0); break;
      case F::CPPTYPE_INT64: r.AddInt64(&m, &f, 0); break;
      case F::CPPTYPE_UINT32: r.AddUInt32(&m, &f, 0); break;
      case F::CPPTYPE_UINT64: r.AddUInt64(&m, &f, 0); break;
      case F::CPPTYPE_DOUBLE: r.AddDouble(&m, &f, 0); break;
      case F::CPPTYPE_FLOAT: r.AddFloat(&m, &f, 0); break;
      case F::CPPTYPE_BOOL: r.AddBool(&m, &f, false); break;
      case F::CPPTYPE_ENUM: r.AddEnumValue(&m, &f, f.enum_type()->value(0)->number()); break;
      case F::CPPTYPE_STRING: r.AddString(&m, &f, ""); break;
      case F::CPPTYPE_MESSAGE: {
        gp::Message* element = r.AddMessage(&m, &f);
        if (f.is_map()) {
          // The entry's key at its zero value ("" or 0) and its value filled as any field.
          const gp::Descriptor& entry = *f.message_type();
          const gp::Reflection& er = *element->GetReflection();
          set_one(*element, er, *entry.map_key());
          const gp::FieldDescriptor& value = *entry.map_value();
          if (value.cpp_type() != F::CPPTYPE_MESSAGE || !on_stack(*value.message_type()))
            set_one(*element, er, value);
        } else {
          fill(*element);
        }
        break;
      }
    }
  }

  std::vector<const gp::Descriptor*> m_stack;
};

}  // namespace

Result<std::string> message_template(const gp::Descriptor& type, bool proto_names) {
  gp::DynamicMessageFactory factory(type.file()->pool());
  std::unique_ptr<gp::Message> message(factory.GetPrototype(&type)->New());
  Filler().fill(*message);
  gp::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  options.always_print_enums_as_ints = false;
  options.preserve_proto_field_names = proto_names;
  std::string json;
  auto status = gp::util::MessageToJsonString(*message, &json, options);
  if (!status.ok())
    return local_error(fmt::format("cannot print a template of {}: {}", type.full_name(), std::string(status.message())));
  // protobuf indents by one space; two, as call prints messages.
  return nlohmann::ordered_json::parse(json).dump(2);
}

}  // namespace grpcdx::codec
