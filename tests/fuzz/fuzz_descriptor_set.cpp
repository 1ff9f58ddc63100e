// Fuzzes the repairs of descriptors a server's reflection (or a protoset) sends: a
// FileDescriptorSet through repair_file, drop_default_json_names and repair_references, then
// built into a pool as the reflection source builds it. Besides no crash: every note names its
// file; repairing the repaired files again changes nothing and notes nothing.
#include <cstdint>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include "fuzz_util.hpp"
#include "schema/descriptor_repair.hpp"

namespace gp = google::protobuf;

namespace {

// Repairs `files` as ReflectionDatabase does; returns every note.
std::vector<std::string> repair(std::vector<gp::FileDescriptorProto>& files) {
  std::vector<std::string> notes;
  grpcdx::schema::SymbolTable symbols;
  for (auto& file : files) {
    for (auto& note : grpcdx::schema::repair_file(file)) {
      FUZZ_CHECK(note.starts_with(file.name() + ": "));
      notes.push_back(std::move(note));
    }
    grpcdx::schema::drop_default_json_names(file);
    symbols.add(file);
  }
  for (auto& file : files) {
    for (auto& note : grpcdx::schema::repair_references(file, symbols)) {
      FUZZ_CHECK(note.starts_with(file.name() + ": "));
      notes.push_back(std::move(note));
    }
  }
  return notes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gp::FileDescriptorSet set;
  if (!set.ParseFromArray(data, static_cast<int>(size))) return 0;
  std::vector<gp::FileDescriptorProto> files(set.file().begin(), set.file().end());
  repair(files);
  std::vector<std::string> once;
  for (const auto& file : files) once.push_back(file.SerializeAsString());
  FUZZ_CHECK(repair(files).empty());
  for (std::size_t i = 0; i < files.size(); ++i) FUZZ_CHECK(files[i].SerializeAsString() == once[i]);

  gp::SimpleDescriptorDatabase database;
  for (const auto& file : files) database.Add(file);
  gp::DescriptorPool pool(&database);
  pool.AllowUnknownDependencies();
  for (const auto& file : files) pool.FindFileByName(file.name());
  return 0;
}
