// .proto and protoset schema sources.
#include "schema/file_source.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <google/protobuf/compiler/importer.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/descriptor_database.h>

#include "schema/descriptor_repair.hpp"

namespace grpcdx::schema {

namespace gp = google::protobuf;

namespace {

constexpr const char* k_system_include = "/usr/include";

// Every service defined in `roots` and the files they import, sorted.
std::vector<std::string> services_of(const std::vector<const gp::FileDescriptor*>& roots) {
  std::set<std::string> services;
  std::set<const gp::FileDescriptor*> seen;
  std::vector<const gp::FileDescriptor*> todo(roots.begin(), roots.end());
  while (!todo.empty()) {
    const gp::FileDescriptor* file = todo.back();
    todo.pop_back();
    if (!file || !seen.insert(file).second) continue;
    for (int i = 0; i < file->service_count(); ++i) services.insert(file->service(i)->full_name());
    for (int i = 0; i < file->dependency_count(); ++i) todo.push_back(file->dependency(i));
  }
  return {services.begin(), services.end()};
}

// Collects the compiler's errors as "file:LINE:COL: message" (1-based, as protoc prints them).
class ProtoErrors final : public gp::compiler::MultiFileErrorCollector {
 public:
  explicit ProtoErrors(gp::compiler::DiskSourceTree& tree) : m_tree(tree) {}

  void AddError(const std::string& filename, int line, int column, const std::string& message) override {
    // Name the file as the user can find it on disk, not by its virtual import path.
    std::string disk;
    std::string shown = m_tree.VirtualFileToDiskFile(filename, &disk) ? disk : filename;
    if (shown.starts_with("./")) shown = shown.substr(2);
    if (line >= 0) {
      m_located.push_back(fmt::format("{}:{}:{}: {}", shown, line + 1, column + 1, message));
    } else {
      m_unlocated.push_back(fmt::format("{}: {}", shown, message));
    }
  }

  bool empty() const { return m_located.empty() && m_unlocated.empty(); }

  // True when a file could not be found (an import, or the file itself).
  bool import_failed() const {
    auto missing = [](const std::string& e) {
      return e.find("File not found.") != std::string::npos || e.find("was not found") != std::string::npos;
    };
    return std::any_of(m_located.begin(), m_located.end(), missing) ||
           std::any_of(m_unlocated.begin(), m_unlocated.end(), missing);
  }

  // The most useful error: one with a line number (an import that failed is reported at the
  // import statement), with a count of the others.
  std::string summary() const {
    const auto& first = m_located.empty() ? m_unlocated.front() : m_located.front();
    size_t more = m_located.size() + m_unlocated.size() - 1;
    if (more == 0) return first;
    return fmt::format("{} (and {} more error{})", first, more, more == 1 ? "" : "s");
  }

  void clear() {
    m_located.clear();
    m_unlocated.clear();
  }

 private:
  gp::compiler::DiskSourceTree& m_tree;
  std::vector<std::string> m_located, m_unlocated;
};

class ProtoFileSource final : public SchemaSource {
 public:
  ProtoFileSource(const std::vector<std::string>& import_paths, const std::vector<std::string>& files)
      : m_errors(m_tree), m_importer(&m_tree, &m_errors) {
    if (import_paths.empty()) {
      m_searched.push_back(".");
      for (const auto& file : files) {
        std::string dir = std::filesystem::path(file).parent_path().string();
        if (!dir.empty() && std::find(m_searched.begin(), m_searched.end(), dir) == m_searched.end())
          m_searched.push_back(dir);
      }
    } else {
      m_searched = import_paths;
    }
    m_searched.push_back(k_system_include);
    for (const auto& dir : m_searched) m_tree.MapPath("", dir);
  }

  Result<void> load(const std::vector<std::string>& files) {
    for (const auto& file : files) {
      TRY(auto virtual_name, resolve(file));
      m_errors.clear();
      const gp::FileDescriptor* fd = m_importer.Import(virtual_name);
      if (!fd || !m_errors.empty()) {
        if (m_errors.empty()) return local_error(fmt::format("cannot load proto file '{}'", file));
        // Only an import problem is helped by knowing where imports were looked for.
        return local_error(m_errors.summary(), m_errors.import_failed() ? search_hint() : "");
      }
      m_roots.push_back(fd);
    }
    return {};
  }

  Result<std::vector<std::string>> list_services() override { return services_of(m_roots); }
  const gp::DescriptorPool& pool() override { return *m_importer.pool(); }
  std::optional<Error> last_error() const override { return std::nullopt; }

 private:
  std::string search_hint() const {
    std::string dirs;
    for (const auto& d : m_searched) dirs += (dirs.empty() ? "" : ", ") + d;
    return fmt::format("import paths searched: {}; add more with -I", dirs);
  }

  // The import-path-relative name of a --proto argument.
  Result<std::string> resolve(const std::string& file) {
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec))
      return local_error(fmt::format("cannot read proto file '{}': it is a directory", file),
                         "give .proto files with --proto and their directories with -I");
    // Already relative to an import path (the usual form with -I)?
    if (std::unique_ptr<gp::io::ZeroCopyInputStream> in(m_tree.Open(file)); in) return file;
    std::string virtual_name, shadowing;
    switch (m_tree.DiskFileToVirtualFile(file, &virtual_name, &shadowing)) {
      case gp::compiler::DiskSourceTree::SUCCESS:
        return virtual_name;
      case gp::compiler::DiskSourceTree::SHADOWED:
        return local_error(fmt::format("proto file '{}' is shadowed by '{}' in the import path", file, shadowing),
                           "reorder or remove -I paths");
      case gp::compiler::DiskSourceTree::CANNOT_OPEN:
        if (!std::filesystem::exists(file)) return local_error(fmt::format("cannot find proto file '{}'", file));
        if (std::FILE* f = std::fopen(file.c_str(), "rb")) {
          std::fclose(f);
          return local_error(fmt::format("cannot read proto file '{}'", file));
        }
        return local_error(fmt::format("cannot read proto file '{}': {}", file, std::strerror(errno)));
      case gp::compiler::DiskSourceTree::NO_MAPPING:
        break;
    }
    if (std::filesystem::exists(file))
      return local_error(fmt::format("proto file '{}' is not under any import path", file),
                         "add its directory (or a parent matching its imports) with -I");
    return local_error(fmt::format("cannot find proto file '{}'", file), search_hint());
  }

  gp::compiler::DiskSourceTree m_tree;
  ProtoErrors m_errors;
  gp::compiler::Importer m_importer;
  std::vector<std::string> m_searched;
  std::vector<const gp::FileDescriptor*> m_roots;
};

// Keeps the first error protobuf reports while building a protoset's files.
class PoolErrors final : public gp::DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string& filename, const std::string& element_name, const gp::Message*,
                ErrorLocation location, const std::string& message) override {
    if (!first.empty()) return;
    // For an import the element is the imported file, which the message names already.
    first = element_name.empty() || element_name == filename || location == IMPORT
                ? fmt::format("{}: {}", filename, message)
                : fmt::format("{}: {}: {}", filename, element_name, message);
  }
  std::string first;
};

class ProtosetSource final : public SchemaSource {
 public:
  ProtosetSource() : m_pool(&m_database, &m_errors) {}

  Result<void> load(const std::vector<std::string>& paths) {
    std::map<std::string, std::string> origin;  // file name -> protoset it came from
    std::vector<std::pair<std::string, gp::FileDescriptorSet>> sets;  // path, its files repaired
    SymbolTable symbols;  // what all of them define, for repair_references()
    for (const auto& path : paths) {
      TRY(auto bytes, net::read_file(path, "protoset"));
      gp::FileDescriptorSet set;
      if (!set.ParseFromString(bytes) || set.file_size() == 0 ||
          std::any_of(set.file().begin(), set.file().end(), [](const auto& f) { return f.name().empty(); }))
        return local_error(fmt::format("'{}' is not a protoset (a binary FileDescriptorSet)", path),
                           "write one with protoc --descriptor_set_out=FILE --include_imports");
      for (auto& file : *set.mutable_file()) {
        repair_file(file);
        drop_default_json_names(file);
        symbols.add(file);
      }
      sets.emplace_back(path, std::move(set));
    }
    for (auto& [path, set] : sets) {
      for (auto& file : *set.mutable_file()) {
        repair_references(file, symbols);
        auto [it, inserted] = origin.emplace(file.name(), path);
        if (!inserted) {
          gp::FileDescriptorProto known;
          m_database.FindFileByName(file.name(), &known);
          known.clear_source_code_info();
          file.clear_source_code_info();
          if (known.SerializeAsString() != file.SerializeAsString())
            return local_error(fmt::format("protosets '{}' and '{}' define '{}' differently", it->second,
                                           path, file.name()));
          continue;
        }
        m_names.push_back(file.name());
        m_database.Add(file);
      }
    }
    add_builtin_dependencies(origin);
    for (const auto& name : m_names) {
      m_errors.first.clear();
      const gp::FileDescriptor* fd = m_pool.FindFileByName(name);
      if (!fd) {
        std::string problem = m_errors.first.empty() ? name + ": cannot be built" : m_errors.first;
        return local_error(fmt::format("protoset '{}': {}", origin[name], problem),
                           "write it with protoc --descriptor_set_out=FILE --include_imports");
      }
      m_roots.push_back(fd);
    }
    return {};
  }

  Result<std::vector<std::string>> list_services() override { return services_of(m_roots); }
  const gp::DescriptorPool& pool() override { return m_pool; }
  std::optional<Error> last_error() const override { return std::nullopt; }

 private:
  // Adds the well-known-type files that a protoset written without --include_imports lacks.
  void add_builtin_dependencies(std::map<std::string, std::string>& origin) {
    std::vector<std::string> todo = m_names;
    while (!todo.empty()) {
      gp::FileDescriptorProto file;
      std::string name = todo.back();
      todo.pop_back();
      if (!m_database.FindFileByName(name, &file)) continue;
      for (const auto& dep : file.dependency()) {
        if (origin.count(dep)) continue;
        if (auto builtin = builtin_file(dep)) {
          origin.emplace(dep, origin[name]);
          m_database.Add(*builtin);
          todo.push_back(dep);
        }
      }
    }
  }

  gp::SimpleDescriptorDatabase m_database;
  PoolErrors m_errors;
  gp::DescriptorPool m_pool;
  std::vector<std::string> m_names;
  std::vector<const gp::FileDescriptor*> m_roots;
};

}  // namespace

Result<std::unique_ptr<SchemaSource>> open_proto_files(const std::vector<std::string>& files,
                                                       const std::vector<std::string>& import_paths) {
  auto source = std::make_unique<ProtoFileSource>(import_paths, files);
  TRY_VOID(source->load(files));
  return std::unique_ptr<SchemaSource>(std::move(source));
}

Result<std::unique_ptr<SchemaSource>> open_protosets(const std::vector<std::string>& files) {
  auto source = std::make_unique<ProtosetSource>();
  TRY_VOID(source->load(files));
  return std::unique_ptr<SchemaSource>(std::move(source));
}

}  // namespace grpcdx::schema
