// The schema as the server's reflection service tells it: a DescriptorDatabase that fetches
// files lazily over one reflection stream and caches them, and the SchemaSource over it.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/descriptor_database.h>

#include "schema/descriptor_repair.hpp"
#include "schema/reflection_client.hpp"
#include "schema/schema_source.hpp"

namespace grpcdx::schema {

// Answers the DescriptorPool's questions by asking the server, once per file: every
// FileDescriptorProto received (the one asked for and the dependencies sent with it) is kept
// with the symbols it defines, so a file already received is never requested again.
// Tolerance: a file sent twice is kept once; files are repaired with repair_file() as they
// come and with repair_references() (over the names of all files kept) as the pool gets them; a
// dependency the server answers NOT_FOUND for is replaced by the built-in well-known-type file
// of that name when there is one (otherwise the pool's AllowUnknownDependencies makes a
// placeholder). An RPC failure is kept for error() and the lookup answers "not found".
class ReflectionDatabase final : public google::protobuf::DescriptorDatabase {
 public:
  explicit ReflectionDatabase(ReflectionClient& client) : m_client(client) {}

  bool FindFileByName(const std::string& filename,
                      google::protobuf::FileDescriptorProto* output) override;
  bool FindFileContainingSymbol(const std::string& symbol_name,
                                google::protobuf::FileDescriptorProto* output) override;
  bool FindFileContainingExtension(const std::string& containing_type, int field_number,
                                   google::protobuf::FileDescriptorProto* output) override;
  bool FindAllExtensionNumbers(const std::string& extendee_type, std::vector<int>* output) override;

  // The RPC failure of the last lookup, if any.
  const std::optional<Error>& error() const { return m_error; }
  void clear_error() { m_error.reset(); }

  // One line per repair or substitution made so far.
  const std::vector<std::string>& notes() const { return m_notes; }

  // The files the server sent for a request for `symbol` when none of them defines it (as
  // "a.proto" or "a.proto, b.proto"); nullopt when it was never so answered.
  std::optional<std::string> answered_without(std::string_view symbol) const;

 private:
  // A file received, repaired as the pool gets it. The pool builds a file once, so the first
  // hand-out moves the proto out instead of copying it (start-up: a copy of a big file costs as
  // much as building it); a file asked for again is made again from its bytes.
  struct StoredFile {
    google::protobuf::FileDescriptorProto proto;  // empty once handed out
    std::string bytes;                            // what it was made from
    bool handed_out = false;
  };

  // Asks the server; on success keeps every file of a file_descriptor_response and returns
  // the names of those files, in the server's order. nullopt when the server answered with an
  // error_response (its code goes to *not_found when NOT_FOUND) or the RPC failed.
  std::optional<std::vector<std::string>> fetch(
      const grpc::reflection::v1::ServerReflectionRequest& request, const std::string& what);
  // Keeps `file` (parsed from `bytes`) unless a file of that name is kept already.
  void add_file(google::protobuf::FileDescriptorProto file, std::string bytes);
  // Adds the symbols of every file kept since the last call to the index. Done when a lookup
  // needs the index, not as files come: a run that makes one lookup (call) never needs it.
  void index_new_files();
  void index_file(const google::protobuf::FileDescriptorProto& file, std::string_view name);
  void index_message(const google::protobuf::DescriptorProto& message, const std::string& scope,
                     std::string_view file);
  // The kept file as the pool gets it: parsed from `bytes`, repaired.
  static std::optional<google::protobuf::FileDescriptorProto> remake(const std::string& bytes);
  bool copy_file(std::string_view name, google::protobuf::FileDescriptorProto* output);

  ReflectionClient& m_client;
  std::map<std::string, StoredFile, std::less<>> m_files;
  std::map<std::string, std::string_view> m_symbol_file;  // symbol -> file name (a key of m_files)
  std::map<std::pair<std::string, int>, std::string_view> m_extension_file;
  std::vector<std::string_view> m_unindexed;  // files kept but not in the index yet
  std::set<std::string> m_missing_files, m_missing_symbols;
  SymbolTable m_symbols;  // what every kept file defines, for repair_references()
  std::map<std::string, std::string, std::less<>> m_answered_without;  // symbol -> files sent for it
  std::optional<Error> m_error;
  std::vector<std::string> m_notes;
};

class ReflectionSource final : public SchemaSource {
 public:
  // Does not connect until the first lookup.
  ReflectionSource(std::shared_ptr<grpc::Channel> channel, const net::ConnectionOptions& conn);

  Result<std::vector<std::string>> list_services() override;
  // Made on first use (`list` never needs it).
  const google::protobuf::DescriptorPool& pool() override;
  std::optional<Error> last_error() const override;
  int reflection_requests() const override { return m_client.requests(); }
  std::string reflection_version() const override { return m_client.version(); }
  std::vector<std::string> notes() const override { return m_database.notes(); }
  std::optional<std::string> answered_without(std::string_view symbol) const override {
    return m_database.answered_without(symbol);
  }

 protected:
  void clear_last_error() override;

 private:
  // Keeps the first error of each file the pool fails to build, naming the file.
  class Collector final : public google::protobuf::DescriptorPool::ErrorCollector {
   public:
    void AddError(const std::string& filename, const std::string& element_name,
                  const google::protobuf::Message* descriptor, ErrorLocation location,
                  const std::string& message) override;
    std::optional<Error> error;
  };

  ReflectionClient m_client;
  ReflectionDatabase m_database{m_client};
  Collector m_collector;
  std::optional<google::protobuf::DescriptorPool> m_pool;
};

}  // namespace grpcdx::schema
