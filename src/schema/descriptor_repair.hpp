// Repairs of FileDescriptorProtos that other protobuf implementations produce and protobuf C++
// rejects as they stand, and the well-known-type files that can stand in for missing ones.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.pb.h>

namespace grpcdx::schema {

// Fixes what can be fixed in place and returns one note per repair (empty when the file was
// fine). Repairs: an import listed twice or a file importing itself (dropped, with the
// public/weak import indexes renumbered), proto3 `optional` fields without their synthetic
// oneof (added, after the real oneofs, as protoc does). Never fails.
std::vector<std::string> repair_file(google::protobuf::FileDescriptorProto& file);

// Clears every json_name that equals the default protobuf derives from the field name (protoc
// writes them all into descriptor sets; describe should show only the ones a .proto set).
// Lossless: the pool derives the same names. Never fails.
void drop_default_json_names(google::protobuf::FileDescriptorProto& file);

// The lowerCamelCase JSON name protobuf gives a field by default ("page_token" -> "pageToken").
std::string default_json_name(const std::string& field_name);

// The descriptor of a file compiled into this binary's protobuf library (the well-known types
// such as "google/protobuf/timestamp.proto"), for a dependency nobody else can supply;
// nullopt for any other name.
std::optional<google::protobuf::FileDescriptorProto> builtin_file(const std::string& name);

}  // namespace grpcdx::schema
