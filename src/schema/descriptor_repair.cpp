// Repairs of odd FileDescriptorProtos, and the built-in well-known-type files.
#include "schema/descriptor_repair.hpp"

#include <google/protobuf/descriptor.pb.h>

#include <algorithm>
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

// "a, b, c and 4 more": the first few of `items`.
std::string some_of(const std::vector<std::string>& items) {
  constexpr std::size_t k_shown = 3;
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < k_shown; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > k_shown) out += fmt::format(" and {} more", items.size() - k_shown);
  return out;
}

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

std::string join_scope(std::string_view scope, std::string_view name) {
  return scope.empty() ? std::string(name) : fmt::format("{}.{}", scope, name);
}

// The index of the map entry message nested in `message` (full name `full_name`) that a map
// field's `type_name` names; -1 when none does. The name may be fully qualified, bare (as
// proto-loader sends it) or qualified relative to an enclosing scope.
int map_entry_of(const gp::DescriptorProto& message, const std::string& full_name, const std::string& type_name) {
  for (int i = 0; i < message.nested_type_size(); ++i) {
    const auto& nested = message.nested_type(i);
    if (!nested.options().map_entry()) continue;
    const std::string absolute = "." + full_name + "." + nested.name();
    if (type_name == absolute || type_name == nested.name() ||
        (type_name.front() != '.' && absolute.ends_with("." + type_name)))
      return i;
  }
  return -1;
}

// Renames map entry messages to "<CamelField>Entry", the only name protobuf C++ accepts for the
// entry of a map field, and points the field at it by its full name.
void repair_map_entries(gp::DescriptorProto& message, const std::string& full_name,
                        std::vector<std::string>& renamed) {
  std::set<int> claimed;
  for (auto& field : *message.mutable_field()) {
    if (field.label() != gp::FieldDescriptorProto::LABEL_REPEATED ||
        field.type() != gp::FieldDescriptorProto::TYPE_MESSAGE || field.type_name().empty())
      continue;
    const int index = map_entry_of(message, full_name, field.type_name());
    if (index < 0 || !claimed.insert(index).second) continue;
    const std::string wanted = camel_case(field.name()) + "Entry";
    const std::string& current = message.nested_type(index).name();
    if (current == wanted) continue;
    // A nested type of that name already: protobuf reports the clash better than a guess would.
    if (std::any_of(message.nested_type().begin(), message.nested_type().end(),
                    [&](const auto& nested) { return nested.name() == wanted; }))
      continue;
    renamed.push_back(fmt::format("{}.{} -> {}", full_name, current, wanted));
    message.mutable_nested_type(index)->set_name(wanted);
    field.set_type_name("." + full_name + "." + wanted);
  }
  for (auto& nested : *message.mutable_nested_type())
    repair_map_entries(nested, full_name + "." + nested.name(), renamed);
}

// Puts the synthetic oneofs (those of one proto3 `optional` field) after the real ones, as
// protobuf requires, renumbering the fields' oneof indexes.
void move_synthetic_oneofs_last(gp::DescriptorProto& message) {
  const int count = message.oneof_decl_size();
  std::vector<bool> synthetic(count, false);
  for (const auto& field : message.field())
    if (field.proto3_optional() && field.has_oneof_index() && field.oneof_index() >= 0 &&
        field.oneof_index() < count)
      synthetic[field.oneof_index()] = true;
  std::vector<int> order;  // new position -> old index
  for (int i = 0; i < count; ++i)
    if (!synthetic[i]) order.push_back(i);
  for (int i = 0; i < count; ++i)
    if (synthetic[i]) order.push_back(i);
  if (std::is_sorted(order.begin(), order.end())) return;
  std::vector<int> position(count);
  gp::RepeatedPtrField<gp::OneofDescriptorProto> reordered;
  for (int i = 0; i < count; ++i) {
    position[order[i]] = i;
    *reordered.Add() = message.oneof_decl(order[i]);
  }
  message.mutable_oneof_decl()->Swap(&reordered);
  for (auto& field : *message.mutable_field())
    if (field.has_oneof_index() && field.oneof_index() >= 0 && field.oneof_index() < count)
      field.set_oneof_index(position[field.oneof_index()]);
}

// Marks as proto3 `optional` the fields proto-loader sends as the only member of a plain oneof
// named "_<field>", with an empty FieldOptions (where protobuf.js kept its proto3_optional flag,
// which its copy of descriptor.proto cannot write). protoc never writes empty options, so a
// descriptor it made is not touched; and for the wire and JSON the two forms are the same.
void repair_unmarked_proto3_optional(gp::DescriptorProto& message, const std::string& full_name,
                                     std::vector<std::string>& marked) {
  const int count = message.oneof_decl_size();
  std::vector<int> members(count, 0);
  for (const auto& field : message.field())
    if (field.has_oneof_index() && field.oneof_index() >= 0 && field.oneof_index() < count)
      ++members[field.oneof_index()];
  bool any = false;
  for (auto& field : *message.mutable_field()) {
    if (field.proto3_optional() || !field.has_oneof_index() ||
        field.label() != gp::FieldDescriptorProto::LABEL_OPTIONAL)
      continue;
    const int index = field.oneof_index();
    if (index < 0 || index >= count || members[index] != 1 || message.oneof_decl(index).name() != "_" + field.name() ||
        message.oneof_decl(index).has_options() || !field.has_options() || field.options().ByteSizeLong() != 0)
      continue;
    field.set_proto3_optional(true);
    field.clear_options();
    marked.push_back(full_name + "." + field.name());
    any = true;
  }
  if (any) move_synthetic_oneofs_last(message);
  for (auto& nested : *message.mutable_nested_type())
    repair_unmarked_proto3_optional(nested, full_name + "." + nested.name(), marked);
}

// `name` with its underscores dropped and the letter after each one upper-cased (the first
// letter too when `upper_first`), as protobuf derives map entry and JSON names.
std::string join_words(const std::string& name, bool upper_first) {
  std::string out;
  bool upper_next = upper_first;
  for (char c : name) {
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

}  // namespace

std::string camel_case(const std::string& field_name) { return join_words(field_name, true); }

std::vector<std::string> repair_file(gp::FileDescriptorProto& file) {
  std::vector<std::string> notes;
  repair_dependencies(file, notes);
  std::vector<std::string> renamed;
  for (auto& message : *file.mutable_message_type())
    repair_map_entries(message, join_scope(file.package(), message.name()), renamed);
  if (!renamed.empty())
    notes.push_back(fmt::format("{}: renamed {} to the <Field>Entry names protobuf requires: {}", file.name(),
                                plural(renamed.size(), "map entry message", "map entry messages"), some_of(renamed)));
  if (file.syntax() == "proto3") {
    std::vector<std::string> marked;
    for (auto& message : *file.mutable_message_type())
      repair_unmarked_proto3_optional(message, join_scope(file.package(), message.name()), marked);
    if (!marked.empty())
      notes.push_back(fmt::format("{}: marked {} as proto3 optional: {}", file.name(),
                                  plural(marked.size(), "field sent as a one-field oneof _<field>",
                                         "fields sent as one-field oneofs _<field>"),
                                  some_of(marked)));
    for (auto& message : *file.mutable_message_type())
      repair_proto3_optional(message, file.package(), notes, file.name());
  }
  return notes;
}

// --- SymbolTable and repair_references ---------------------------------------------------

void SymbolTable::add_symbol(std::string full_name, Symbol symbol) {
  m_symbols.try_emplace(std::move(full_name), std::move(symbol));
}

void SymbolTable::add_message(const gp::DescriptorProto& message, const std::string& scope, const std::string& file) {
  const std::string full = join_scope(scope, message.name());
  add_symbol(full, Symbol{true, true, file});
  for (const auto& nested : message.nested_type()) add_message(nested, full, file);
  for (const auto& e : message.enum_type()) add_symbol(full + "." + e.name(), Symbol{true, false, file});
}

void SymbolTable::add(const gp::FileDescriptorProto& file) {
  const std::string& package = file.package();
  for (std::size_t dot = 0; !package.empty(); ++dot) {
    dot = package.find('.', dot);
    add_symbol(package.substr(0, dot), Symbol{false, true, ""});
    if (dot == std::string::npos) break;
  }
  for (const auto& message : file.message_type()) add_message(message, package, file.name());
  for (const auto& e : file.enum_type()) add_symbol(join_scope(package, e.name()), Symbol{true, false, file.name()});
  for (const auto& service : file.service())
    add_symbol(join_scope(package, service.name()), Symbol{false, true, file.name()});
  auto& public_imports = m_public_imports[file.name()];
  for (int index : file.public_dependency())
    if (index >= 0 && index < file.dependency_size()) public_imports.push_back(file.dependency(index));
}

const SymbolTable::Symbol* SymbolTable::find(std::string_view full_name) const {
  auto it = m_symbols.find(full_name);
  return it == m_symbols.end() ? nullptr : &it->second;
}

std::vector<std::string> SymbolTable::visible_from(const gp::FileDescriptorProto& file) const {
  std::vector<std::string> visible{file.name()};
  std::vector<std::string> to_visit(file.dependency().begin(), file.dependency().end());
  while (!to_visit.empty()) {
    std::string name = std::move(to_visit.back());
    to_visit.pop_back();
    if (std::find(visible.begin(), visible.end(), name) != visible.end()) continue;
    if (auto it = m_public_imports.find(name); it != m_public_imports.end())
      to_visit.insert(to_visit.end(), it->second.begin(), it->second.end());
    visible.push_back(std::move(name));
  }
  return visible;
}

namespace {

// The full name (no leading dot) protoc gives the relative type name `name` used in `scope` (the
// full name of the enclosing message, service or package): the first component of `name` is
// looked up in `scope`, then in each enclosing scope; the first match that is a type (for a
// one-component name) or may contain names (for a longer one) decides. nullopt when no known
// name matches, or the match does not lead to a type.
std::optional<std::string> resolve_relative(const SymbolTable& symbols, std::string_view name, std::string_view scope) {
  const std::string_view first = name.substr(0, name.find('.'));
  while (true) {
    if (const auto* found = symbols.find(join_scope(scope, first))) {
      if (first.size() < name.size() && found->is_aggregate) {
        std::string full = join_scope(scope, name);
        const auto* target = symbols.find(full);
        if (target && target->is_type) return full;
        return std::nullopt;
      }
      if (first.size() == name.size() && found->is_type) return join_scope(scope, first);
    }
    if (scope.empty()) return std::nullopt;
    const auto dot = scope.rfind('.');
    scope = dot == std::string_view::npos ? std::string_view() : scope.substr(0, dot);
  }
}

// Qualifies the type names of a file and collects the files it needs to import.
class ReferenceRepair {
 public:
  ReferenceRepair(const SymbolTable& symbols, const gp::FileDescriptorProto& file)
      : m_symbols(symbols), m_visible(symbols.visible_from(file)) {}

  void fix(std::string& name, std::string_view scope) {
    if (name.empty()) return;
    std::string full;
    if (name.front() == '.') {
      full = name.substr(1);
    } else {
      auto resolved = resolve_relative(m_symbols, name, scope);
      if (!resolved) return;
      full = std::move(*resolved);
      std::string change = fmt::format("{} -> .{}", name, full);
      if (std::find(m_qualified.begin(), m_qualified.end(), change) == m_qualified.end())
        m_qualified.push_back(std::move(change));
      ++m_qualified_count;
      name = "." + full;
    }
    const auto* symbol = m_symbols.find(full);
    if (!symbol || !symbol->is_type || symbol->file.empty()) return;
    if (std::find(m_visible.begin(), m_visible.end(), symbol->file) != m_visible.end()) return;
    m_visible.push_back(symbol->file);
    m_imports.push_back(symbol->file);
  }

  void field(gp::FieldDescriptorProto& field, std::string_view scope) {
    // Only names that are set: mutable_*() would mark an absent one present (and empty).
    if (field.has_type_name()) fix(*field.mutable_type_name(), scope);
    if (field.has_extendee()) fix(*field.mutable_extendee(), scope);
  }

  void message(gp::DescriptorProto& message, const std::string& full_name) {
    for (auto& field : *message.mutable_field()) this->field(field, full_name);
    for (auto& ext : *message.mutable_extension()) field(ext, full_name);
    for (auto& nested : *message.mutable_nested_type()) this->message(nested, full_name + "." + nested.name());
  }

  // Adds the imports found missing to `file`; returns the notes of what was repaired.
  std::vector<std::string> finish(gp::FileDescriptorProto& file) {
    std::vector<std::string> notes;
    if (m_qualified_count > 0)
      notes.push_back(fmt::format("{}: made {} fully qualified: {}", file.name(),
                                  plural(m_qualified_count, "relative type name", "relative type names"),
                                  some_of(m_qualified)));
    for (const auto& name : m_imports) file.add_dependency(name);
    if (!m_imports.empty())
      notes.push_back(fmt::format("{}: added the missing {} of {}", file.name(),
                                  m_imports.size() == 1 ? "import" : "imports", some_of(m_imports)));
    return notes;
  }

 private:
  const SymbolTable& m_symbols;
  std::vector<std::string> m_visible;
  std::vector<std::string> m_qualified;  // distinct "name -> .full.name" changes
  std::size_t m_qualified_count = 0;
  std::vector<std::string> m_imports;
};

}  // namespace

std::vector<std::string> repair_references(gp::FileDescriptorProto& file, const SymbolTable& symbols) {
  ReferenceRepair repair(symbols, file);
  const std::string& package = file.package();
  for (auto& message : *file.mutable_message_type()) repair.message(message, join_scope(package, message.name()));
  for (auto& ext : *file.mutable_extension()) repair.field(ext, package);
  for (auto& service : *file.mutable_service()) {
    const std::string scope = join_scope(package, service.name());
    for (auto& method : *service.mutable_method()) {
      if (method.has_input_type()) repair.fix(*method.mutable_input_type(), scope);
      if (method.has_output_type()) repair.fix(*method.mutable_output_type(), scope);
    }
  }
  return repair.finish(file);
}

std::string default_json_name(const std::string& field_name) { return join_words(field_name, false); }

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
