// Shared helpers of the libFuzzer targets: a property check that aborts with a message (so
// libFuzzer saves the input), and the fuzz.proto message type loaded at start-up.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <google/protobuf/compiler/importer.h>
#include <google/protobuf/descriptor.h>

namespace grpcdx::fuzz {

// A property every input must keep; on failure the input is a bug and libFuzzer keeps it.
#define FUZZ_CHECK(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "property failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

// grpcdx.fuzz.Everything from tests/fuzz/fuzz.proto (every JSON-mapped field kind), parsed once
// with protobuf's compiler; the well-known types come from protobuf's installed .proto files.
inline const google::protobuf::Descriptor* everything_type() {
  struct Loader {
    google::protobuf::compiler::DiskSourceTree tree;
    struct Errors : google::protobuf::compiler::MultiFileErrorCollector {
      void AddError(const std::string& file, int line, int column,
                    const std::string& message) override {
        std::fprintf(stderr, "%s:%d:%d: %s\n", file.c_str(), line, column, message.c_str());
      }
    } errors;
    std::unique_ptr<google::protobuf::compiler::Importer> importer;
    const google::protobuf::Descriptor* type = nullptr;
    Loader() {
      tree.MapPath("", GRPCDX_FUZZ_PROTO_DIR);
      tree.MapPath("", GRPCDX_PROTOBUF_INCLUDE_DIR);
      importer = std::make_unique<google::protobuf::compiler::Importer>(&tree, &errors);
      if (importer->Import("fuzz.proto"))
        type = importer->pool()->FindMessageTypeByName("grpcdx.fuzz.Everything");
      if (!type) {
        std::fprintf(stderr, "cannot load grpcdx.fuzz.Everything from %s\n", GRPCDX_FUZZ_PROTO_DIR);
        std::abort();
      }
    }
  };
  static Loader loader;
  return loader.type;
}

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace grpcdx::fuzz
