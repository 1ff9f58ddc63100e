// Where descriptors come from: server reflection (v1, then v1alpha), .proto files, or a
// protoset. Every command asks a SchemaSource and behaves the same whatever is behind it.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <grpcpp/channel.h>

#include "core/error.hpp"
#include "net/channel.hpp"

namespace grpcdx::schema {

struct SchemaOptions {
  std::vector<std::string> proto_files;   // --proto
  std::vector<std::string> import_paths;  // -I/--import-path
  std::vector<std::string> protosets;     // --protoset
  bool use_reflection = false;            // --use-reflection: with files, reflection for the rest
  bool uses_files() const { return !proto_files.empty() || !protosets.empty(); }
  // Whether the schema needs the server: no files, or files with --use-reflection.
  bool uses_reflection() const { return !uses_files() || use_reflection; }
};

// A symbol found by name, for `describe`.
using Symbol = std::variant<const google::protobuf::ServiceDescriptor*,
                            const google::protobuf::MethodDescriptor*,
                            const google::protobuf::Descriptor*,
                            const google::protobuf::EnumDescriptor*>;

class SchemaSource {
 public:
  virtual ~SchemaSource() = default;

  // Every service the source knows, fully qualified, sorted. Reflection: the server's list.
  // Fails (rpc_status) when the server cannot be reached; (local) when it has no reflection.
  virtual Result<std::vector<std::string>> list_services() = 0;

  // The pool descriptors live in; for reflection it fetches files lazily as they are asked for.
  virtual const google::protobuf::DescriptorPool& pool() = 0;

  // The error that made the last lookup in pool() fail, if the source knows one (a reflection
  // RPC that failed, a file protobuf rejected); empty otherwise.
  virtual std::optional<Error> last_error() const = 0;

  // Number of requests sent to the server's reflection service so far (0 for files).
  virtual int reflection_requests() const { return 0; }

  // When the server's reflection answered a request for `symbol` with files none of which
  // defines it: their names ("a.proto, b.proto"); nullopt otherwise, and for files.
  virtual std::optional<std::string> answered_without(std::string_view) const { return std::nullopt; }

  // Which reflection service answered: "v1", "v1alpha", or empty (files, or nothing asked yet).
  virtual std::string reflection_version() const { return {}; }

  // Notes about repairs made to odd descriptors (a dependency the server could not send, a
  // file sent twice, a field fixed up so protobuf accepts it), one line each; for -v output.
  virtual std::vector<std::string> notes() const { return {}; }

  // A service by full name. Fails (local) naming the service when it does not exist, with the
  // closest names the source has ("; did you mean ...?").
  Result<const google::protobuf::ServiceDescriptor*> find_service(std::string_view name);

  // A method by "pkg.Service/Method" or "pkg.Service.Method" (a leading '/' is allowed).
  // Fails (local) naming the service or method when it does not exist, with the closest methods
  // (or services) the source has.
  Result<const google::protobuf::MethodDescriptor*> find_method(std::string_view name);

  // A service, method, message or enum by full name ("pkg.S/M" is also accepted for methods).
  // Fails (local) with "symbol 'X' not found" and the closest names when it is none of those.
  Result<Symbol> find_symbol(std::string_view name);

 protected:
  // Forgets the error last_error() reports, before a new lookup.
  virtual void clear_last_error() {}

 private:
  // The names a "did you mean" picks from: every service (at most 100), its methods as
  // "pkg.S/M" and, with `with_types`, the messages and enums of their files and imports.
  // Reflection: loads those files. Empty lists when the services cannot be listed.
  struct KnownNames {
    std::vector<std::string> services, methods, types;
  };
  KnownNames known_names(bool with_types);

  // The error a failed lookup of `what` reports: the source's own error when it has one
  // (an RPC that failed, a file protobuf rejected), otherwise "<what> not found" and the
  // closest names `suggest` returns ("; did you mean pkg.S/M?").
  // When reflection answered the request for `symbol` with a file that lacks it, the error
  // says that instead.
  Error lookup_error(const std::string& what, const std::string& symbol, const std::string& hint,
                     const std::function<std::vector<std::string>()>& suggest);
};

// The kind of a symbol as SPEC.md names it: "service", "method", "message" or "enum".
std::string symbol_kind(const Symbol& symbol);

// The fully-qualified name of a symbol (a method as "pkg.Service.Method").
std::string symbol_name(const Symbol& symbol);

// Opens the schema source the flags ask for: the files when any are given, otherwise
// reflection over `channel` (with the metadata and deadline of `conn`); both, files first, with
// use_reflection and a channel.
// Fails (local) when a file cannot be read or parsed, naming the file, line and problem.
Result<std::unique_ptr<SchemaSource>> open_schema(const SchemaOptions& options,
                                                  std::shared_ptr<grpc::Channel> channel,
                                                  const net::ConnectionOptions& conn);

// Fails (local) when the request or response type of `method`, or a type they reach, is only a
// placeholder: a file the server's reflection did not send, so messages would lose fields. The
// error names the missing file and the field that needs it, before any call is made.
Result<void> check_method_types(const google::protobuf::MethodDescriptor* method);

// open_schema for a command: with --proto/--protoset (and no --use-reflection) it does not
// connect at all; otherwise it
// makes the channel, waits for it (net::wait_for_connection) and returns reflection over it.
// Fails like make_channel / wait_for_connection / open_schema.
Result<std::unique_ptr<SchemaSource>> connect_schema(const SchemaOptions& options,
                                                     const net::ConnectionOptions& conn);

// A method found, with the channel and schema it was found through.
struct ResolvedMethod {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<SchemaSource> schema;
  const google::protobuf::MethodDescriptor* method = nullptr;
  Duration connect_time{};  // how long waiting for the connection took
};

// Makes the channel and finds `method_name`, in the order that needs the fewest round trips:
// with --proto/--protoset the method is checked before connecting at all; otherwise the channel
// is connected (net::wait_for_connection) and the method looked up through reflection.
// Fails like make_channel, wait_for_connection, open_schema and find_method.
Result<ResolvedMethod> resolve_method(const SchemaOptions& options, const net::ConnectionOptions& conn,
                                      std::string_view method_name);

}  // namespace grpcdx::schema
