// Repairs of odd FileDescriptorProtos, and the built-in well-known-type files.
#include "schema/descriptor_repair.hpp"

#include <google/protobuf/descriptor.pb.h>

#include <cctype>
#include <map>
#include <set>

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>

namespace grpcdx::schema {

namespace gp = google::protobuf;

namespace {

// Drops duplicate and self imports, keeping the public/weak index lists pointing at the same
// files.
void repair_dependencies(gp::FileDescriptorProto& file, std::vector<std::string>& notes) {
  std::vector<std::string> kept;
  std::map<int, int> new_index;  // old index -> new index
  std::map<std::string, int> seen;
  for (int i = 0; i < file.dependency_size(); ++i) {
    const std::string& dep = file.dependency(i);
    if (dep == file.name()) {
      notes.push_back(fmt::format("{}: dropped an import of the file itself", file.name()));
      new_index[i] = -1;
      continue;
    }
    auto [it, inserted] = seen.emplace(dep, static_cast<int>(kept.size()));
    if (!inserted) {
      notes.push_back(fmt::format("{}: dropped a second import of \"{}\"", file.name(), dep));
      new_index[i] = it->second;
      continue;
    }
    new_index[i] = static_cast<int>(kept.size());
    kept.push_back(dep);
  }
  if (static_cast<int>(kept.size()) == file.dependency_size()) return;

  auto renumber = [&](gp::RepeatedField<int32_t>* indexes) {
    std::set<int> out;
    for (int old : *indexes) {
      auto it = new_index.find(old);
      if (it != new_index.end() && it->second >= 0) out.insert(it->second);
    }
    indexes->Clear();
    for (int i : out) indexes->Add(i);
  };
  file.clear_dependency();
  for (auto& dep : kept) file.add_dependency(dep);
  renumber(file.mutable_public_dependency());
  renumber(file.mutable_weak_dependency());
}

// Adds the synthetic oneof protoc gives every proto3 `optional` field, when it is missing.
void repair_proto3_optional(gp::DescriptorProto& message, const std::string& scope,
                            std::vector<std::string>& notes, const std::string& file_name) {
  const std::string full_name = scope.empty() ? message.name() : scope + "." + message.name();
  for (auto& field : *message.mutable_field()) {
    if (!field.proto3_optional() || field.has_oneof_index()) continue;
    std::set<std::string> taken;
    for (const auto& f : message.field()) taken.insert(f.name());
    for (const auto& o : message.oneof_decl()) taken.insert(o.name());
    std::string name = "_" + field.name();
    while (taken.count(name)) name = "X" + name;
    field.set_oneof_index(message.oneof_decl_size());
    message.add_oneof_decl()->set_name(name);
    notes.push_back(fmt::format("{}: added the missing synthetic oneof of optional field {}.{}",
                                file_name, full_name, field.name()));
  }
  for (auto& nested : *message.mutable_nested_type())
    repair_proto3_optional(nested, full_name, notes, file_name);
}

}  // namespace

std::vector<std::string> repair_file(gp::FileDescriptorProto& file) {
  std::vector<std::string> notes;
  repair_dependencies(file, notes);
  if (file.syntax() == "proto3") {
    for (auto& message : *file.mutable_message_type())
      repair_proto3_optional(message, file.package(), notes, file.name());
  }
  return notes;
}

std::string default_json_name(const std::string& field_name) {
  std::string out;
  bool upper_next = false;
  for (char c : field_name) {
    if (c == '_') {
      upper_next = true;
    } else if (upper_next) {
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      upper_next = false;
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

void drop_json_names(gp::RepeatedPtrField<gp::FieldDescriptorProto>& fields) {
  for (auto& field : fields)
    if (field.has_json_name() && field.json_name() == default_json_name(field.name())) field.clear_json_name();
}

void drop_json_names(gp::DescriptorProto& message) {
  drop_json_names(*message.mutable_field());
  drop_json_names(*message.mutable_extension());
  for (auto& nested : *message.mutable_nested_type()) drop_json_names(nested);
}

}  // namespace

void drop_default_json_names(gp::FileDescriptorProto& file) {
  for (auto& message : *file.mutable_message_type()) drop_json_names(message);
  drop_json_names(*file.mutable_extension());
}

// The serialized FileDescriptorSet of google/protobuf/*.proto, embedded at build time
// (CMakeLists.txt, cmake/embed_file.cmake).
extern const unsigned char k_well_known_types_protoset[];
extern const std::size_t k_well_known_types_protoset_size;

std::optional<gp::FileDescriptorProto> builtin_file(const std::string& name) {
  if (!name.starts_with("google/protobuf/")) return std::nullopt;
  // Parsed once, on first use: most runs never need it.
  static const gp::FileDescriptorSet* const set = [] {
    auto* s = new gp::FileDescriptorSet;
    s->ParseFromArray(k_well_known_types_protoset, static_cast<int>(k_well_known_types_protoset_size));
    return s;
  }();
  for (const auto& file : set->file()) {
    if (file.name() == name) return file;
  }
  return std::nullopt;
}

}  // namespace grpcdx::schema
