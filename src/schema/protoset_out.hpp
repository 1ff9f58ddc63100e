// Saving the schema a command used as a FileDescriptorSet (--protoset-out): taken from a server's
// reflection while it is on, it serves later as --protoset (for grpcdx, grpcurl, buf or protoc's
// --descriptor_set_in) where reflection is off.
#pragma once

#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>

#include "core/error.hpp"
#include "schema/schema_source.hpp"

namespace grpcdx::schema {

// The files of `roots` and every file they import, each after the files it imports (the order
// `protoc --include_imports` writes), without repeats.
std::vector<const google::protobuf::FileDescriptor*> files_with_imports(
    const std::vector<const google::protobuf::FileDescriptor*>& roots);

// The file that defines `symbol`.
const google::protobuf::FileDescriptor* file_of(const Symbol& symbol);

// Writes files_with_imports(roots) to `path` as a serialized FileDescriptorSet (with the source
// comments where the schema has them). Fails (local) naming the path when it cannot be written.
Result<void> write_protoset(const std::string& path, const std::vector<const google::protobuf::FileDescriptor*>& roots);

}  // namespace grpcdx::schema
