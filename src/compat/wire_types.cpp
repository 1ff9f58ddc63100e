// The wire-compatibility table: which field types decode each other's values, per protobuf's
// language guide (proto3 "Updating A Message Type").
#include "compat/wire_types.hpp"

namespace grpcdx::compat {

namespace {

using FD = google::protobuf::FieldDescriptor;

enum class Group { varint_int, zigzag, fixed32, fixed64, single, other };

Group group_of(FieldType t) {
  switch (t) {
    case FD::TYPE_INT32: case FD::TYPE_UINT32: case FD::TYPE_INT64: case FD::TYPE_UINT64: case FD::TYPE_BOOL:
      return Group::varint_int;
    case FD::TYPE_SINT32: case FD::TYPE_SINT64: return Group::zigzag;
    case FD::TYPE_FIXED32: case FD::TYPE_SFIXED32: return Group::fixed32;
    case FD::TYPE_FIXED64: case FD::TYPE_SFIXED64: return Group::fixed64;
    default: return Group::other;
  }
}

// The wire type a value of `t` travels with (a packed repeated field aside).
int wire_type(FieldType t) {
  switch (t) {
    case FD::TYPE_FIXED64: case FD::TYPE_SFIXED64: case FD::TYPE_DOUBLE: return 1;
    case FD::TYPE_STRING: case FD::TYPE_BYTES: case FD::TYPE_MESSAGE: return 2;
    case FD::TYPE_GROUP: return 3;
    case FD::TYPE_FIXED32: case FD::TYPE_SFIXED32: case FD::TYPE_FLOAT: return 5;
    default: return 0;  // varints
  }
}

// The integer types an enum's numbers are interchangeable with (the language guide's list).
bool is_plain_integer(FieldType t) {
  return t == FD::TYPE_INT32 || t == FD::TYPE_UINT32 || t == FD::TYPE_INT64 || t == FD::TYPE_UINT64;
}

bool is_float(FieldType t) { return t == FD::TYPE_FLOAT || t == FD::TYPE_DOUBLE; }

}  // namespace

TypeVerdict wire_verdict(FieldType writer, FieldType reader) {
  if (writer == reader) return {TypeMatch::same, {}};
  const Group gw = group_of(writer);
  if (gw != Group::other && gw == group_of(reader)) return {TypeMatch::compatible, {}};
  if (writer == FD::TYPE_ENUM && is_plain_integer(reader))
    return {TypeMatch::caution, "gets the enum's numbers as plain integers"};
  if (is_plain_integer(writer) && reader == FD::TYPE_ENUM)
    return {TypeMatch::caution, "keeps a number the enum has no value for as unknown (a closed proto2 enum drops it)"};
  if (writer == FD::TYPE_BYTES && reader == FD::TYPE_STRING)
    return {TypeMatch::caution, "fails to parse the message when the bytes are not valid UTF-8"};
  if (writer == FD::TYPE_STRING && reader == FD::TYPE_BYTES)
    return {TypeMatch::caution, "gets the text's UTF-8 bytes (wire-compatible this way; bytes sent as string must be "
                                "valid UTF-8)"};
  if (writer == FD::TYPE_MESSAGE && reader == FD::TYPE_BYTES)
    return {TypeMatch::caution, "gets the encoded message as raw bytes"};
  if (writer == FD::TYPE_BYTES && reader == FD::TYPE_MESSAGE)
    return {TypeMatch::caution, "parses the bytes as a message, which works only when they hold an encoded one"};
  if (wire_type(writer) != wire_type(reader))
    return {TypeMatch::incompatible, "drops the value (it arrives with a wire type the field does not take) and "
                                     "sees the field unset"};
  // The same wire type, but the bits mean something else.
  if (reader == FD::TYPE_MESSAGE || reader == FD::TYPE_GROUP)
    return {TypeMatch::incompatible, "parses the value as a message and fails"};
  if (reader == FD::TYPE_STRING)
    return {TypeMatch::incompatible, "takes the encoded value for text and fails to parse it unless it is valid UTF-8"};
  if (is_float(writer) || is_float(reader))
    return {TypeMatch::incompatible, "misreads every value (the same bits mean a different number)"};
  if (group_of(writer) == Group::zigzag || group_of(reader) == Group::zigzag)
    return {TypeMatch::incompatible, "misreads every value (zigzag and plain varints encode numbers differently)"};
  return {TypeMatch::incompatible, "misreads the values"};
}

std::string_view type_name(FieldType type) {
  switch (type) {
    case FD::TYPE_DOUBLE: return "double";
    case FD::TYPE_FLOAT: return "float";
    case FD::TYPE_INT64: return "int64";
    case FD::TYPE_UINT64: return "uint64";
    case FD::TYPE_INT32: return "int32";
    case FD::TYPE_FIXED64: return "fixed64";
    case FD::TYPE_FIXED32: return "fixed32";
    case FD::TYPE_BOOL: return "bool";
    case FD::TYPE_STRING: return "string";
    case FD::TYPE_GROUP: return "group";
    case FD::TYPE_MESSAGE: return "message";
    case FD::TYPE_BYTES: return "bytes";
    case FD::TYPE_UINT32: return "uint32";
    case FD::TYPE_ENUM: return "enum";
    case FD::TYPE_SFIXED32: return "sfixed32";
    case FD::TYPE_SFIXED64: return "sfixed64";
    case FD::TYPE_SINT32: return "sint32";
    case FD::TYPE_SINT64: return "sint64";
  }
  return "unknown";
}

std::string_view json_form(FieldType type) {
  switch (type) {
    case FD::TYPE_INT32: case FD::TYPE_UINT32: case FD::TYPE_SINT32: case FD::TYPE_FIXED32: case FD::TYPE_SFIXED32:
      return "number";
    case FD::TYPE_INT64: case FD::TYPE_UINT64: case FD::TYPE_SINT64: case FD::TYPE_FIXED64: case FD::TYPE_SFIXED64:
      return "quoted integer";
    case FD::TYPE_FLOAT: case FD::TYPE_DOUBLE: return "floating-point number";
    case FD::TYPE_BOOL: return "boolean";
    case FD::TYPE_STRING: return "string";
    case FD::TYPE_BYTES: return "base64 string";
    case FD::TYPE_ENUM: return "enum name";
    case FD::TYPE_MESSAGE: case FD::TYPE_GROUP: return "object";
  }
  return "unknown";
}

}  // namespace grpcdx::compat
