// Prints descriptors as .proto source for `describe`: protobuf's DebugString (with the
// comments the source kept) made readable: type names without protobuf's leading dot.
#pragma once

#include <string>
#include <string_view>

#include <google/protobuf/descriptor.h>

namespace grpcdx::codec {

// "service S {\n  rpc M(pkg.Req) returns (stream pkg.Resp);\n}\n", with its options and comments.
std::string print_service(const google::protobuf::ServiceDescriptor& service);

// "rpc M(stream pkg.Req) returns (pkg.Resp);\n" (a body with its options when it has some).
std::string print_method(const google::protobuf::MethodDescriptor& method);

// "message M {\n  string name = 1;\n  ...\n}\n", nested types and enums included.
std::string print_message(const google::protobuf::Descriptor& message);

// "enum E {\n  E_UNSPECIFIED = 0;\n  ...\n}\n".
std::string print_enum(const google::protobuf::EnumDescriptor& enum_type);

// Removes the leading '.' of fully-qualified type names in DebugString output
// (".pkg.Type" -> "pkg.Type") outside string literals and comments; other text is unchanged.
std::string strip_leading_dots(std::string_view proto_text);

}  // namespace grpcdx::codec
