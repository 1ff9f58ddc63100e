// Name lookups shared by every schema source, and the choice of source from the flags.
#include "schema/schema_source.hpp"

#include <thread>

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>

#include "schema/combined_source.hpp"
#include "schema/file_source.hpp"
#include "schema/reflection_source.hpp"

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

}  // namespace

Error SchemaSource::lookup_error(const std::string& what, const std::string& hint) {
  if (auto e = last_error()) return *e;
  return Error{ErrorKind::local, fmt::format("{} not found", what), hint, 0};
}

Result<const gp::ServiceDescriptor*> SchemaSource::find_service(std::string_view name) {
  if (name.starts_with('.')) name.remove_prefix(1);
  if (name.empty()) return local_error("empty service name");
  clear_last_error();
  if (const auto* service = pool().FindServiceByName(std::string(name))) return service;
  return std::unexpected(lookup_error(fmt::format("service '{}'", name), "`grpcdx list` shows the services"));
}

Result<const gp::MethodDescriptor*> SchemaSource::find_method(std::string_view name) {
  auto parts = split_method(name);
  if (!parts)
    return local_error(fmt::format("invalid method name '{}'", name),
                       "write it as pkg.Service/Method or pkg.Service.Method");
  TRY(auto service, find_service(parts->first));
  if (const auto* method = service->FindMethodByName(parts->second)) return method;
  return local_error(fmt::format("method '{}' not found in service '{}'", parts->second, service->full_name()),
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
  return std::unexpected(lookup_error(fmt::format("symbol '{}'", full),
                                     "give the full name of a service, method, message or enum"));
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
  return r;
}

}  // namespace grpcdx::schema
