// The wire-compatibility table of protobuf field types (the language guide's "Updating a message
// type"), and their JSON forms, for `compat`. Pure.
#pragma once

#include <string_view>

#include <google/protobuf/descriptor.h>

namespace grpcdx::compat {

using FieldType = google::protobuf::FieldDescriptor::Type;

// How a value written as one type reads as another.
enum class TypeMatch {
  same,          // the same type
  compatible,    // interchangeable on the wire (int32/uint32/int64/uint64/bool, sint32/sint64, ...)
  caution,       // readable, but only for some values or with a different meaning (bytes -> string,
                 // bytes -> message, enum <-> integer, ...): a warning
  incompatible,  // values are dropped or misread: an error
};

struct TypeVerdict {
  TypeMatch match = TypeMatch::same;
  // What the reader does with the writer's value, as the end of a sentence whose subject is the
  // reader ("the server ..."); empty for same and compatible.
  std::string_view effect;
};

// How a value the writer encodes as `writer` decodes as `reader`. Message and enum types compare
// as kinds here (two messages are `same`); the caller compares their contents.
TypeVerdict wire_verdict(FieldType writer, FieldType reader);

// The type as a .proto file writes it: "int32", "string", "message", "enum", "group".
std::string_view type_name(FieldType type);

// The JSON form of a value of `type` (protobuf's JSON mapping): "number", "quoted integer",
// "boolean", "string", "base64 string", "enum name", "object".
std::string_view json_form(FieldType type);

}  // namespace grpcdx::compat
