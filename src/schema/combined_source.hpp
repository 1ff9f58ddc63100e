// --proto/--protoset with --use-reflection: the local files first, the server's reflection for
// whatever they lack (grpcurl's -use-reflection with -proto).
#pragma once

#include <memory>

#include "schema/schema_source.hpp"

namespace grpcdx::schema {

// A source that answers from `files` where it can and asks `reflection` for the rest: symbols
// and files are looked up in that order, and `list` shows the services of both.
std::unique_ptr<SchemaSource> combine_sources(std::unique_ptr<SchemaSource> files,
                                              std::unique_ptr<SchemaSource> reflection);

}  // namespace grpcdx::schema
