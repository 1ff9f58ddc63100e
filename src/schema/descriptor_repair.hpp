// Repairs of FileDescriptorProtos that other protobuf implementations produce and protobuf C++
// rejects as they stand, and the well-known-type files that can stand in for missing ones.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/descriptor.pb.h>

namespace grpcdx::schema {

// Fixes what can be fixed in the file alone and returns one note per kind of repair (empty when
// the file was fine). Repairs: an import listed twice or a file importing itself (dropped, with
// the public/weak import indexes renumbered); map entry messages not named `<CamelField>Entry`
// (@grpc/proto-loader names the entry of `rpcs_by_peer` "Rpcs_by_peer"; renamed, and the map
// field pointed at the new name); proto3 `optional` fields sent as a plain one-field oneof
// `_<field>` with empty field options (proto-loader's form; marked proto3_optional, the empty
// options dropped, and the synthetic oneofs moved after the real ones); proto3 `optional`
// fields without their synthetic oneof (added, after the real oneofs, as protoc does). A
// descriptor protoc wrote is left as it is. Never fails.
std::vector<std::string> repair_file(google::protobuf::FileDescriptorProto& file);

// The names some files define, with the file of each, for resolving the type names of one of
// them as protoc would: packages (and every prefix of one), messages, enums and services.
class SymbolTable {
 public:
  // Adds what `file` defines. A name defined twice keeps its first file.
  void add(const google::protobuf::FileDescriptorProto& file);

  struct Symbol {
    bool is_type = false;       // a message or an enum: what a type name may name
    bool is_aggregate = false;  // a message, package or service: what may contain names
    std::string file;           // the defining file; empty for a package
  };
  // The symbol of a full name (no leading dot); nullptr when no file added defines it.
  const Symbol* find(std::string_view full_name) const;
  // The files `file` may use types from without importing more: itself, its imports, and what
  // they import publicly, transitively (as far as the files added tell).
  std::vector<std::string> visible_from(const google::protobuf::FileDescriptorProto& file) const;

 private:
  void add_message(const google::protobuf::DescriptorProto& message, const std::string& scope,
                   const std::string& file);
  void add_symbol(std::string full_name, Symbol symbol);

  std::map<std::string, Symbol, std::less<>> m_symbols;
  std::map<std::string, std::vector<std::string>, std::less<>> m_public_imports;  // file -> files
};

// Makes every type name in `file` (field types, extendees, method input and output types)
// fully qualified (".pkg.Msg"), resolving a relative one against its scopes as protoc does, over
// the names `symbols` knows (which should include `file` itself); and imports every file
// defining a type the file uses that it cannot see (@grpc/reflection sends proto-loader's
// files with no imports at all). Names that resolve to nothing known are left as they are, for
// the pool to resolve or report. Returns one note per kind of repair. Never fails.
std::vector<std::string> repair_references(google::protobuf::FileDescriptorProto& file,
                                           const SymbolTable& symbols);

// The UpperCamelCase name protobuf gives the entry message of a map field, without the "Entry"
// suffix ("rpcs_by_peer" -> "RpcsByPeer").
std::string camel_case(const std::string& field_name);

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
