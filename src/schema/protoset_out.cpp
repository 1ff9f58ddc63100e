// The FileDescriptorSet of --protoset-out: the files a command used, with their imports.
#include "schema/protoset_out.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <google/protobuf/descriptor.pb.h>

namespace grpcdx::schema {

namespace pb = google::protobuf;

std::vector<const pb::FileDescriptor*> files_with_imports(const std::vector<const pb::FileDescriptor*>& roots) {
  std::vector<const pb::FileDescriptor*> out;
  std::set<const pb::FileDescriptor*> seen;
  // Depth first, a file after its imports; a pool has no import cycles (protobuf refuses them).
  auto visit = [&](auto&& self, const pb::FileDescriptor* file) -> void {
    if (!file || !seen.insert(file).second) return;
    for (int i = 0; i < file->dependency_count(); ++i) self(self, file->dependency(i));
    out.push_back(file);
  };
  for (const auto* root : roots) visit(visit, root);
  return out;
}

const pb::FileDescriptor* file_of(const Symbol& symbol) {
  return std::visit([](const auto* d) -> const pb::FileDescriptor* {
    if constexpr (std::is_same_v<std::decay_t<decltype(*d)>, pb::MethodDescriptor>) return d->service()->file();
    else return d->file();
  }, symbol);
}

Result<void> write_protoset(const std::string& path, const std::vector<const pb::FileDescriptor*>& roots) {
  pb::FileDescriptorSet set;
  for (const auto* file : files_with_imports(roots)) {
    pb::FileDescriptorProto* proto = set.add_file();
    file->CopyTo(proto);
    file->CopySourceCodeInfoTo(proto);
  }
  std::string bytes;
  if (!set.SerializeToString(&bytes))
    return local_error(fmt::format("cannot serialize the schema for --protoset-out '{}'", path));
  errno = 0;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (out) out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (out) out.close();
  if (!out)
    return local_error(fmt::format("cannot write --protoset-out '{}': {}", path,
                                   errno ? std::strerror(errno) : "write failed"));
  return {};
}

}  // namespace grpcdx::schema
