// Name lookups shared by every schema source, and the choice of source from the flags.
#include "schema/schema_source.hpp"

#include <functional>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>

#include "schema/combined_source.hpp"
#include "schema/file_source.hpp"
#include "schema/reflection_source.hpp"
#include "schema/suggest.hpp"

namespace grpcdx::schema {

namespace gp = google::protobuf;

namespace {

// "pkg.S/M", "/pkg.S/M" or "pkg.S.M" split into service and method; nullopt when either
// part would be empty.
std::optional<std::pair<std::string, std::string>> split_method(std::string_view name) {
  if (name.starts_with('/')) name.remove_prefix(1);
  size_t cut = name.rfind('/');
  if (cut == std::string_view::npos) cut = name.rfind('.');
  if (cut == std::string_view::npos || cut == 0 || cut + 1 >= name.size()) return std::nullopt;
  std::string service(name.substr(0, cut));
  if (service.starts_with('.')) service.erase(0, 1);
  if (service.empty()) return std::nullopt;
  return std::pair(service, std::string(name.substr(cut + 1)));
}

// Suggestions look at no more services than this, so a huge server costs a bounded number of
// reflection requests on the way to an error.
constexpr size_t k_max_suggestion_services = 100;

// Every message and enum of `file` and of the files it imports, fully qualified, into `out`.
void collect_types(const gp::FileDescriptor* file, std::set<const gp::FileDescriptor*>& seen,
                   std::vector<std::string>& out) {
  if (!file || !seen.insert(file).second) return;
  std::function<void(const gp::Descriptor*)> message = [&](const gp::Descriptor* m) {
    out.push_back(m->full_name());
    for (int i = 0; i < m->nested_type_count(); ++i) message(m->nested_type(i));
    for (int i = 0; i < m->enum_type_count(); ++i) out.push_back(m->enum_type(i)->full_name());
  };
  for (int i = 0; i < file->message_type_count(); ++i) message(file->message_type(i));
  for (int i = 0; i < file->enum_type_count(); ++i) out.push_back(file->enum_type(i)->full_name());
  for (int i = 0; i < file->dependency_count(); ++i) collect_types(file->dependency(i), seen, out);
}

}  // namespace

Error SchemaSource::lookup_error(const std::string& what, const std::string& symbol, const std::string& hint,
                                 const std::function<std::vector<std::string>()>& suggest) {
  if (auto e = last_error()) return *e;
  if (auto sent = answered_without(symbol))
    return Error{ErrorKind::local,
                 fmt::format("the server's reflection answered with {}, which does not define {}", *sent, symbol),
                 "the server's reflection is inconsistent: pass the schema with --proto or --protoset", 0};
  Error e{ErrorKind::local, fmt::format("{} not found", what), hint, 0};
  // Computed after the error is known: suggesting may ask reflection for more files.
  e.message += did_you_mean(suggest());
  clear_last_error();
  return e;
}

SchemaSource::KnownNames SchemaSource::known_names(bool with_types) {
  KnownNames known;
  auto services = list_services();
  if (!services) return known;
  std::set<const gp::FileDescriptor*> seen;
  for (const auto& name : *services) {
    if (known.services.size() >= k_max_suggestion_services) break;
    known.services.push_back(name);
    const gp::ServiceDescriptor* service = pool().FindServiceByName(name);
    if (!service) continue;
    for (int i = 0; i < service->method_count(); ++i)
      known.methods.push_back(name + "/" + service->method(i)->name());
    if (with_types) collect_types(service->file(), seen, known.types);
  }
  return known;
}

Result<const gp::ServiceDescriptor*> SchemaSource::find_service(std::string_view name) {
  if (name.starts_with('.')) name.remove_prefix(1);
  if (name.empty()) return local_error("empty service name");
  clear_last_error();
  if (const auto* service = pool().FindServiceByName(std::string(name))) return service;
  if (auto e = last_error()) return std::unexpected(*e);
  return std::unexpected(lookup_error(fmt::format("service '{}'", name), std::string(name), "`grpcdx list` shows the services",
                                      [&] { return closest_names(name, known_names(false).services); }));
}

Result<const gp::MethodDescriptor*> SchemaSource::find_method(std::string_view name) {
  auto parts = split_method(name);
  if (!parts)
    return local_error(fmt::format("invalid method name '{}'", name),
                       "write it as pkg.Service/Method or pkg.Service.Method");
  clear_last_error();
  const auto* service = pool().FindServiceByName(parts->first);
  if (!service) {
    if (auto e = last_error()) return std::unexpected(*e);
    // The closest methods of any service, else the closest services.
    return std::unexpected(lookup_error(fmt::format("service '{}'", parts->first), parts->first,
                                        "`grpcdx list` shows the services",
                                        [&] {
                                          auto known = known_names(false);
                                          auto methods = closest_names(parts->first + "/" + parts->second, known.methods);
                                          return methods.empty() ? closest_names(parts->first, known.services) : methods;
                                        }));
  }
  if (const auto* method = service->FindMethodByName(parts->second)) return method;
  std::vector<std::string> methods;
  for (int i = 0; i < service->method_count(); ++i)
    methods.push_back(service->full_name() + "/" + service->method(i)->name());
  return local_error(fmt::format("method '{}' not found in service '{}'{}", parts->second, service->full_name(),
                                 did_you_mean(closest_names(service->full_name() + "/" + parts->second, methods))),
                     fmt::format("`grpcdx list TARGET {}` shows its methods", service->full_name()));
}

Result<Symbol> SchemaSource::find_symbol(std::string_view name) {
  if (name.find('/') != std::string_view::npos) {
    TRY(auto method, find_method(name));
    return Symbol{method};
  }
  if (name.starts_with('.')) name.remove_prefix(1);
  if (name.empty()) return local_error("empty symbol name");
  const std::string full(name);
  clear_last_error();
  const gp::DescriptorPool& p = pool();
  auto lookup = [&]() -> std::optional<Symbol> {
    // The first lookup fetches the file (for reflection); the others are answered from it.
    if (const auto* s = p.FindServiceByName(full)) return Symbol{s};
    if (const auto* m = p.FindMethodByName(full)) return Symbol{m};
    if (const auto* m = p.FindMessageTypeByName(full)) return Symbol{m};
    if (const auto* e = p.FindEnumTypeByName(full)) return Symbol{e};
    return std::nullopt;
  };
  if (auto found = lookup()) return *found;
  if (auto e = last_error()) return std::unexpected(*e);
  // Some reflection servers only know top-level names: load the file of the enclosing
  // service or message (pkg.S for pkg.S.M, pkg.Outer for pkg.Outer.Inner) and look again.
  for (size_t cut = full.rfind('.'); cut != std::string::npos && cut > 0; cut = full.rfind('.', cut - 1)) {
    const std::string parent = full.substr(0, cut);
    if (p.FindServiceByName(parent) || p.FindMessageTypeByName(parent)) {
      if (auto found = lookup()) return *found;
      break;
    }
    if (last_error()) break;
  }
  return std::unexpected(lookup_error(fmt::format("symbol '{}'", full), full,
                                     "give the full name of a service, method, message or enum", [&] {
                                       auto known = known_names(true);
                                       std::vector<std::string> all = known.services;
                                       for (const auto& m : known.methods) all.push_back(m);
                                       for (const auto& t : known.types) all.push_back(t);
                                       return closest_names(full, all);
                                     }));
}

std::string symbol_kind(const Symbol& symbol) {
  switch (symbol.index()) {
    case 0: return "service";
    case 1: return "method";
    case 2: return "message";
    default: return "enum";
  }
}

std::string symbol_name(const Symbol& symbol) {
  return std::visit([](const auto* d) { return d->full_name(); }, symbol);
}

Result<void> check_method_types(const gp::MethodDescriptor* method) {
  const std::string method_name = method->service()->full_name() + "/" + method->name();
  // `type_name`, a placeholder used in `file`, as the error puts it.
  auto missing = [&](const gp::FileDescriptor* file, const std::string& type_name, const std::string& use) {
    std::string files;
    for (int i = 0; i < file->dependency_count(); ++i)
      if (file->dependency(i)->is_placeholder()) files += (files.empty() ? "" : ", ") + file->dependency(i)->name();
    const std::string what = files.empty() ? "the schema has no definition of " + type_name
                                           : fmt::format("the server's reflection did not send {}", files);
    return local_error(fmt::format("{}, which {} needs ({})", what, method_name, use),
                       "pass the schema with --proto or --protoset");
  };
  const gp::FileDescriptor* service_file = method->service()->file();
  for (const gp::Descriptor* type : {method->input_type(), method->output_type()})
    if (type->is_placeholder())
      return missing(service_file, type->full_name(),
                     fmt::format("its {} type {}", type == method->input_type() ? "request" : "response",
                                 type->full_name()));
  std::vector<const gp::Descriptor*> queue = {method->input_type(), method->output_type()};
  std::set<const gp::Descriptor*> seen(queue.begin(), queue.end());
  while (!queue.empty()) {
    const gp::Descriptor* message = queue.back();
    queue.pop_back();
    for (int i = 0; i < message->field_count(); ++i) {
      const gp::FieldDescriptor* field = message->field(i);
      const bool placeholder = (field->message_type() && field->message_type()->is_placeholder()) ||
                               (field->enum_type() && field->enum_type()->is_placeholder());
      if (placeholder) {
        const std::string type_name =
            field->message_type() ? field->message_type()->full_name() : field->enum_type()->full_name();
        return missing(message->file(), type_name, fmt::format("{} has type {}", field->full_name(), type_name));
      }
      if (field->message_type() && seen.insert(field->message_type()).second) queue.push_back(field->message_type());
    }
  }
  return {};
}

Result<std::unique_ptr<SchemaSource>> open_schema(const SchemaOptions& options,
                                                  std::shared_ptr<grpc::Channel> channel,
                                                  const net::ConnectionOptions& conn) {
  if (!options.proto_files.empty() && !options.protosets.empty())
    return usage_error("use either --proto or --protoset, not both");
  if (options.use_reflection && !options.uses_files())
    return usage_error("--use-reflection goes with --proto or --protoset (reflection is the default without them)");
  std::unique_ptr<SchemaSource> files;
  if (!options.proto_files.empty()) {
    TRY(files, open_proto_files(options.proto_files, options.import_paths));
  } else if (!options.protosets.empty()) {
    TRY(files, open_protosets(options.protosets));
  }
  if (files && !(options.use_reflection && channel)) return files;
  if (files)
    return combine_sources(std::move(files), std::make_unique<ReflectionSource>(std::move(channel), conn));
  if (!channel) return local_error("no schema: no server connection and no --proto or --protoset");
  return std::unique_ptr<SchemaSource>(std::make_unique<ReflectionSource>(std::move(channel), conn));
}

Result<std::unique_ptr<SchemaSource>> connect_schema(const SchemaOptions& options,
                                                     const net::ConnectionOptions& conn) {
  if (!options.uses_reflection()) return open_schema(options, nullptr, conn);
  TRY(auto channel, net::open_channel(conn));
  return open_schema(options, std::move(channel), conn);
}

Result<ResolvedMethod> resolve_method(const SchemaOptions& options, const net::ConnectionOptions& conn,
                                      std::string_view method_name) {
  ResolvedMethod r;
  // Protobuf's JSON conversion, which the caller needs next, first builds descriptor.proto in
  // the generated pool (a third of a millisecond); do that on a second core while this thread
  // waits for the connection and the schema. Joined before returning.
  std::jthread warm_json([] { google::protobuf::DescriptorPool::generated_pool(); });
  TRY(r.channel, net::make_channel(conn));
  auto connect_and_time = [&]() -> Result<void> {
    auto start = std::chrono::steady_clock::now();
    TRY_VOID(net::wait_for_connection(*r.channel, conn));
    r.connect_time = std::chrono::steady_clock::now() - start;
    return {};
  };
  if (!options.uses_reflection()) {
    TRY(r.schema, open_schema(options, nullptr, conn));
    TRY(r.method, r.schema->find_method(method_name));
    TRY_VOID(connect_and_time());
  } else {
    TRY_VOID(connect_and_time());
    TRY(r.schema, open_schema(options, r.channel, conn));
    TRY(r.method, r.schema->find_method(method_name));
  }
  TRY_VOID(check_method_types(r.method));
  return r;
}

}  // namespace grpcdx::schema
