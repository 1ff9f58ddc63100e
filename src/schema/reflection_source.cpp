// Reflection-backed schema: lazy file fetching with a cache, tolerant of odd server answers.
#include "schema/reflection_source.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "rpc/status_codes.hpp"
#include "schema/descriptor_repair.hpp"

namespace grpcdx::schema {

namespace gp = google::protobuf;
namespace v1 = grpc::reflection::v1;

namespace {

std::string join_scope(const std::string& scope, const std::string& name) {
  return scope.empty() ? name : scope + "." + name;
}

std::string strip_dot(const std::string& name) {
  return !name.empty() && name.front() == '.' ? name.substr(1) : name;
}

// `rest` with "`name`." taken off its front; nullopt when it does not start so.
std::optional<std::string_view> below(std::string_view rest, std::string_view name) {
  if (rest.size() <= name.size() || !rest.starts_with(name) || rest[name.size()] != '.')
    return std::nullopt;
  return rest.substr(name.size() + 1);
}

// Whether `message` (or what it nests) defines `rest`, a name relative to the message's scope,
// as ReflectionDatabase's index records names (messages, enums, enum values in the enclosing
// scope, extensions), or as a field or oneof.
bool message_defines(const gp::DescriptorProto& message, std::string_view rest) {
  if (rest == message.name()) return true;
  auto inner = below(rest, message.name());
  if (!inner) return false;
  for (const auto& nested : message.nested_type())
    if (message_defines(nested, *inner)) return true;
  for (const auto& e : message.enum_type()) {
    if (*inner == e.name()) return true;
    for (const auto& value : e.value())
      if (*inner == value.name()) return true;
  }
  for (const auto& ext : message.extension())
    if (*inner == ext.name()) return true;
  for (const auto& field : message.field())
    if (*inner == field.name()) return true;
  for (const auto& oneof : message.oneof_decl())
    if (*inner == oneof.name()) return true;
  return false;
}

// Whether the index would map `symbol` to `file` (see ReflectionDatabase::index_file).
bool defines(const gp::FileDescriptorProto& file, std::string_view symbol) {
  std::string_view rest = symbol;
  if (!file.package().empty()) {
    auto in_package = below(symbol, file.package());
    if (!in_package) return false;
    rest = *in_package;
  }
  for (const auto& message : file.message_type())
    if (message_defines(message, rest)) return true;
  for (const auto& e : file.enum_type()) {
    if (rest == e.name()) return true;
    for (const auto& value : e.value())
      if (rest == value.name()) return true;
  }
  for (const auto& service : file.service()) {
    if (rest == service.name()) return true;
    if (auto method = below(rest, service.name()))
      for (const auto& m : service.method())
        if (*method == m.name()) return true;
  }
  for (const auto& ext : file.extension())
    if (rest == ext.name()) return true;
  return false;
}

}  // namespace

// --- ReflectionDatabase ------------------------------------------------------------------

std::optional<std::vector<std::string>> ReflectionDatabase::fetch(const v1::ServerReflectionRequest& request,
                                                                  const std::string& what) {
  auto answer = m_client.ask(request);
  if (!answer) {
    m_error = answer.error();
    return std::nullopt;
  }
  if (answer->has_error_response()) {
    const auto& e = answer->error_response();
    if (e.error_code() != grpc::StatusCode::NOT_FOUND) {
      m_error = Error{ErrorKind::local,
                      fmt::format("server reflection could not send {}: {}: {}", what,
                                  rpc::status_name(e.error_code()), e.error_message()),
                      "", 0};
    }
    return std::nullopt;
  }
  if (!answer->has_file_descriptor_response()) {
    m_error = Error{ErrorKind::local,
                    fmt::format("server reflection answered the request for {} with something "
                                "other than file descriptors", what),
                    "", 0};
    return std::nullopt;
  }
  std::vector<std::string> names;
  auto& files = *answer->mutable_file_descriptor_response()->mutable_file_descriptor_proto();
  for (std::string& bytes : files) {
    gp::FileDescriptorProto file;
    if (!file.ParseFromString(bytes) || file.name().empty()) {
      m_notes.push_back(fmt::format("skipped a file descriptor sent for {} that does not parse", what));
      continue;
    }
    names.push_back(file.name());
    add_file(std::move(file), std::move(bytes));
  }
  return names;
}

std::optional<gp::FileDescriptorProto> ReflectionDatabase::remake(const std::string& bytes) {
  gp::FileDescriptorProto file;
  if (!file.ParseFromString(bytes)) return std::nullopt;
  repair_file(file);  // its notes were taken when the file first came
  drop_default_json_names(file);
  return file;
}

void ReflectionDatabase::add_file(gp::FileDescriptorProto file, std::string bytes) {
  for (auto& note : repair_file(file)) m_notes.push_back(std::move(note));
  drop_default_json_names(file);
  auto existing = m_files.find(file.name());
  if (existing != m_files.end()) {
    if (existing->second.bytes == bytes) return;  // the same bytes: the same file
    std::optional<gp::FileDescriptorProto> kept =
        existing->second.handed_out ? remake(existing->second.bytes) : existing->second.proto;
    if (!kept || kept->SerializeAsString() != file.SerializeAsString())
      m_notes.push_back(fmt::format("{}: the server sent two different versions; kept the first",
                                    file.name()));
    return;
  }
  const auto slot = m_files.try_emplace(file.name()).first;
  m_unindexed.push_back(slot->first);
  m_missing_files.erase(file.name());
  m_symbols.add(file);
  slot->second.proto = std::move(file);
  slot->second.bytes = std::move(bytes);
}

void ReflectionDatabase::index_new_files() {
  for (std::string_view name : m_unindexed) {
    const StoredFile& stored = m_files.find(name)->second;
    if (!stored.handed_out) {
      index_file(stored.proto, name);
    } else if (auto again = remake(stored.bytes)) {
      index_file(*again, name);
    }
  }
  m_unindexed.clear();
}

void ReflectionDatabase::index_file(const gp::FileDescriptorProto& file, std::string_view name) {
  const std::string& package = file.package();
  for (const auto& message : file.message_type()) index_message(message, package, name);
  for (const auto& e : file.enum_type()) {
    m_symbol_file.emplace(join_scope(package, e.name()), name);
    for (const auto& value : e.value()) m_symbol_file.emplace(join_scope(package, value.name()), name);
  }
  for (const auto& service : file.service()) {
    const std::string full = join_scope(package, service.name());
    m_symbol_file.emplace(full, name);
    for (const auto& method : service.method()) m_symbol_file.emplace(full + "." + method.name(), name);
  }
  for (const auto& ext : file.extension()) {
    m_symbol_file.emplace(join_scope(package, ext.name()), name);
    m_extension_file.emplace(std::pair(strip_dot(ext.extendee()), ext.number()), name);
  }
}

void ReflectionDatabase::index_message(const gp::DescriptorProto& message, const std::string& scope,
                                       std::string_view file) {
  const std::string full = join_scope(scope, message.name());
  m_symbol_file.emplace(full, file);
  for (const auto& nested : message.nested_type()) index_message(nested, full, file);
  for (const auto& e : message.enum_type()) {
    m_symbol_file.emplace(full + "." + e.name(), file);
    for (const auto& value : e.value()) m_symbol_file.emplace(full + "." + value.name(), file);
  }
  for (const auto& ext : message.extension()) {
    m_symbol_file.emplace(full + "." + ext.name(), file);
    m_extension_file.emplace(std::pair(strip_dot(ext.extendee()), ext.number()), file);
  }
}

bool ReflectionDatabase::copy_file(std::string_view name, gp::FileDescriptorProto* output) {
  auto it = m_files.find(name);
  if (it == m_files.end()) return false;
  StoredFile& stored = it->second;
  // Type names are repaired on the way out, when the files sent with this one are kept too.
  if (!stored.handed_out) {
    stored.handed_out = true;
    *output = std::move(stored.proto);
    for (auto& note : repair_references(*output, m_symbols)) m_notes.push_back(std::move(note));
    return true;
  }
  auto again = remake(stored.bytes);
  if (!again) return false;
  *output = std::move(*again);
  repair_references(*output, m_symbols);  // its notes were taken at the first hand-out
  return true;
}

bool ReflectionDatabase::FindFileByName(const std::string& filename, gp::FileDescriptorProto* output) {
  if (copy_file(filename, output)) return true;
  if (m_missing_files.count(filename)) return false;
  v1::ServerReflectionRequest request;
  request.set_file_by_filename(filename);
  auto names = fetch(request, fmt::format("file '{}'", filename));
  if (copy_file(filename, output)) return true;
  if (!names && m_error && m_error->kind == ErrorKind::rpc_status) return false;  // transport failure
  // The server cannot send it: a built-in copy of a well-known type stands in, otherwise the
  // pool makes placeholders for what the file would have defined.
  if (auto builtin = builtin_file(filename)) {
    m_notes.push_back(fmt::format("{}: not sent by the server; used the built-in copy", filename));
    std::string bytes = builtin->SerializeAsString();
    add_file(std::move(*builtin), std::move(bytes));
    return copy_file(filename, output);
  }
  m_notes.push_back(fmt::format("{}: not sent by the server; its types are unknown placeholders", filename));
  m_missing_files.insert(filename);
  return false;
}

bool ReflectionDatabase::FindFileContainingSymbol(const std::string& symbol_name,
                                                  gp::FileDescriptorProto* output) {
  index_new_files();
  if (auto it = m_symbol_file.find(symbol_name); it != m_symbol_file.end())
    return copy_file(it->second, output);
  if (m_missing_symbols.count(symbol_name)) return false;
  v1::ServerReflectionRequest request;
  request.set_file_containing_symbol(symbol_name);
  auto names = fetch(request, fmt::format("symbol '{}'", symbol_name));
  if (!names) {
    if (!m_error || m_error->kind != ErrorKind::rpc_status) m_missing_symbols.insert(symbol_name);
    return false;
  }
  // The index holds every file kept before this answer, and the symbol is in none of them: the
  // file is among those just received, which a lookup in the first of them that defines it
  // finds without indexing them all, as the index would (its first entry for a name wins).
  for (const std::string& name : *names) {
    auto it = m_files.find(name);
    if (it != m_files.end() && !it->second.handed_out && defines(it->second.proto, symbol_name))
      return copy_file(name, output);
  }
  // A symbol kind this index does not track (e.g. a field): the first file is the one asked for.
  // Kept in case the symbol was a service, method, message or enum after all: then the server
  // answered with the wrong file, and the error says so.
  if (!names->empty()) {
    std::string sent;
    for (const auto& name : *names) sent += (sent.empty() ? "" : ", ") + name;
    m_answered_without.insert_or_assign(symbol_name, std::move(sent));
    return copy_file(names->front(), output);
  }
  m_missing_symbols.insert(symbol_name);
  return false;
}

bool ReflectionDatabase::FindFileContainingExtension(const std::string& containing_type, int field_number,
                                                     gp::FileDescriptorProto* output) {
  index_new_files();
  if (auto it = m_extension_file.find({containing_type, field_number}); it != m_extension_file.end())
    return copy_file(it->second, output);
  v1::ServerReflectionRequest request;
  auto* ext = request.mutable_file_containing_extension();
  ext->set_containing_type(containing_type);
  ext->set_extension_number(field_number);
  auto names = fetch(request, fmt::format("extension {} of '{}'", field_number, containing_type));
  if (!names) return false;
  index_new_files();
  if (auto it = m_extension_file.find({containing_type, field_number}); it != m_extension_file.end())
    return copy_file(it->second, output);
  return !names->empty() && copy_file(names->front(), output);
}

bool ReflectionDatabase::FindAllExtensionNumbers(const std::string& extendee_type, std::vector<int>* output) {
  v1::ServerReflectionRequest request;
  request.set_all_extension_numbers_of_type(extendee_type);
  auto answer = m_client.ask(request);
  if (!answer) {
    m_error = answer.error();
    return false;
  }
  if (!answer->has_all_extension_numbers_response()) return false;
  const auto& numbers = answer->all_extension_numbers_response().extension_number();
  output->insert(output->end(), numbers.begin(), numbers.end());
  return true;
}

std::optional<std::string> ReflectionDatabase::answered_without(std::string_view symbol) const {
  auto it = m_answered_without.find(symbol);
  if (it == m_answered_without.end()) return std::nullopt;
  return it->second;
}

// --- ReflectionSource --------------------------------------------------------------------

void ReflectionSource::Collector::AddError(const std::string& filename, const std::string& element_name,
                                           const gp::Message*, ErrorLocation location,
                                           const std::string& message) {
  if (error) return;
  const bool plain = element_name.empty() || element_name == filename || location == IMPORT;
  std::string where = plain ? "" : element_name + ": ";
  error = Error{ErrorKind::local,
                fmt::format("cannot use '{}' from the server's reflection: {}{}", filename, where, message),
                "pass the schema with --proto or --protoset", 0};
}

ReflectionSource::ReflectionSource(std::shared_ptr<grpc::Channel> channel, const net::ConnectionOptions& conn)
    : m_client(std::move(channel), conn) {}

const gp::DescriptorPool& ReflectionSource::pool() {
  if (!m_pool) {
    m_pool.emplace(&m_database, &m_collector);
    // Types from a dependency the server cannot send become placeholders instead of making the
    // whole file unusable (grpcurl is as lenient).
    m_pool->AllowUnknownDependencies();
  }
  return *m_pool;
}

std::optional<Error> ReflectionSource::last_error() const {
  if (m_database.error()) return m_database.error();
  return m_collector.error;
}

void ReflectionSource::clear_last_error() {
  m_database.clear_error();
  m_collector.error.reset();
}

Result<std::vector<std::string>> ReflectionSource::list_services() {
  v1::ServerReflectionRequest request;
  request.set_list_services("*");
  TRY(auto answer, m_client.ask(request));
  if (answer.has_error_response()) {
    const auto& e = answer.error_response();
    return local_error(fmt::format("server reflection could not list the services: {}: {}",
                                   rpc::status_name(e.error_code()), e.error_message()));
  }
  if (!answer.has_list_services_response())
    return local_error("server reflection answered the request to list services with something else");
  std::vector<std::string> names;
  for (const auto& service : answer.list_services_response().service()) names.push_back(service.name());
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace grpcdx::schema
