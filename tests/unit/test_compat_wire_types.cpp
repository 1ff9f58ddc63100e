// Unit tests for src/compat/wire_types: the wire-compatibility table of field types.
#include <doctest.h>

#include "compat/wire_types.hpp"

using namespace grpcdx::compat;
using FD = google::protobuf::FieldDescriptor;

namespace {

TypeMatch match(FieldType writer, FieldType reader) { return wire_verdict(writer, reader).match; }

}  // namespace

TEST_CASE("compat::wire_verdict: the language guide's interchangeable groups") {
  const FieldType varints[] = {FD::TYPE_INT32, FD::TYPE_UINT32, FD::TYPE_INT64, FD::TYPE_UINT64, FD::TYPE_BOOL};
  for (auto a : varints)
    for (auto b : varints) CHECK(match(a, b) == (a == b ? TypeMatch::same : TypeMatch::compatible));
  CHECK(match(FD::TYPE_SINT32, FD::TYPE_SINT64) == TypeMatch::compatible);
  CHECK(match(FD::TYPE_SINT64, FD::TYPE_SINT32) == TypeMatch::compatible);
  CHECK(match(FD::TYPE_FIXED32, FD::TYPE_SFIXED32) == TypeMatch::compatible);
  CHECK(match(FD::TYPE_SFIXED64, FD::TYPE_FIXED64) == TypeMatch::compatible);
  CHECK(match(FD::TYPE_STRING, FD::TYPE_STRING) == TypeMatch::same);
  CHECK(wire_verdict(FD::TYPE_INT32, FD::TYPE_INT64).effect.empty());
}

TEST_CASE("compat::wire_verdict: readable for some values, or tolerated by the wire but flagged by buf") {
  CHECK(wire_verdict(FD::TYPE_BYTES, FD::TYPE_STRING).effect ==
        "fails to parse the message when the bytes are not valid UTF-8");
  CHECK(match(FD::TYPE_BYTES, FD::TYPE_STRING) == TypeMatch::caution);
  CHECK(match(FD::TYPE_STRING, FD::TYPE_BYTES) == TypeMatch::caution);
  CHECK(match(FD::TYPE_MESSAGE, FD::TYPE_BYTES) == TypeMatch::caution);
  CHECK(wire_verdict(FD::TYPE_BYTES, FD::TYPE_MESSAGE).effect ==
        "parses the bytes as a message, which works only when they hold an encoded one");
  for (auto integer : {FD::TYPE_INT32, FD::TYPE_UINT32, FD::TYPE_INT64, FD::TYPE_UINT64}) {
    CHECK(match(FD::TYPE_ENUM, integer) == TypeMatch::caution);
    CHECK(match(integer, FD::TYPE_ENUM) == TypeMatch::caution);
  }
  CHECK(wire_verdict(FD::TYPE_INT32, FD::TYPE_ENUM).effect ==
        "keeps a number the enum has no value for as unknown (a closed proto2 enum drops it)");
}

TEST_CASE("compat::wire_verdict: dropped or misread") {
  CHECK(wire_verdict(FD::TYPE_INT32, FD::TYPE_STRING).match == TypeMatch::incompatible);
  CHECK(wire_verdict(FD::TYPE_INT32, FD::TYPE_STRING).effect ==
        "drops the value (it arrives with a wire type the field does not take) and sees the field unset");
  CHECK(wire_verdict(FD::TYPE_INT32, FD::TYPE_SINT32).effect ==
        "misreads every value (zigzag and plain varints encode numbers differently)");
  CHECK(wire_verdict(FD::TYPE_FLOAT, FD::TYPE_FIXED32).effect ==
        "misreads every value (the same bits mean a different number)");
  CHECK(wire_verdict(FD::TYPE_DOUBLE, FD::TYPE_SFIXED64).match == TypeMatch::incompatible);
  CHECK(wire_verdict(FD::TYPE_STRING, FD::TYPE_MESSAGE).effect == "parses the value as a message and fails");
  CHECK(wire_verdict(FD::TYPE_MESSAGE, FD::TYPE_STRING).effect ==
        "takes the encoded value for text and fails to parse it unless it is valid UTF-8");
  CHECK(match(FD::TYPE_FIXED32, FD::TYPE_FIXED64) == TypeMatch::incompatible);
  CHECK(match(FD::TYPE_ENUM, FD::TYPE_BOOL) == TypeMatch::incompatible);
  CHECK(match(FD::TYPE_ENUM, FD::TYPE_SINT32) == TypeMatch::incompatible);
  CHECK(match(FD::TYPE_GROUP, FD::TYPE_MESSAGE) == TypeMatch::incompatible);
  CHECK(match(FD::TYPE_FLOAT, FD::TYPE_DOUBLE) == TypeMatch::incompatible);
}

TEST_CASE("compat::type_name and json_form") {
  CHECK(type_name(FD::TYPE_SFIXED64) == "sfixed64");
  CHECK(type_name(FD::TYPE_MESSAGE) == "message");
  CHECK(json_form(FD::TYPE_INT32) == "number");
  CHECK(json_form(FD::TYPE_UINT64) == "quoted integer");
  CHECK(json_form(FD::TYPE_BYTES) == "base64 string");
  CHECK(json_form(FD::TYPE_ENUM) == "enum name");
}
