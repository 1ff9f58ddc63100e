// Schemas from local files: .proto sources compiled in-process, and protosets
// (FileDescriptorSets written by `protoc --descriptor_set_out --include_imports`).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "schema/schema_source.hpp"

namespace grpcdx::schema {

// Parses .proto files with protobuf's compiler::Importer. Import paths: each of
// `import_paths`; with none, the current directory and the directory of each file; always
// /usr/include last, so google/protobuf/*.proto imports resolve. A file may be named by its
// path on disk or by its path relative to an import path.
// Fails (local): "cannot find proto file 'x.proto' ..." for a file that does not exist, and
// "file.proto:LINE:COL: message" (the first error protobuf reports, with line numbers) for a
// parse error or a missing import.
Result<std::unique_ptr<SchemaSource>> open_proto_files(const std::vector<std::string>& files,
                                                       const std::vector<std::string>& import_paths);

// Loads and merges FileDescriptorSet files; a dependency missing from every set is replaced by
// the built-in well-known-type file when there is one.
// Fails (local) naming the file: unreadable, not a FileDescriptorSet, two sets defining the
// same file differently, or a file protobuf rejects (e.g. a missing import).
Result<std::unique_ptr<SchemaSource>> open_protosets(const std::vector<std::string>& files);

}  // namespace grpcdx::schema
