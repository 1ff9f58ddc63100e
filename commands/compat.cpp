// `grpcdx compat TARGET --proto FILE ... | --protoset FILE`: is the server's schema (reflection, or
// --server-protoset) wire-compatible with the schema this client was built from? For CI gates.
#include <algorithm>
#include <chrono>
#include <optional>

#include <fmt/format.h>

#include "commands/command.hpp"
#include "commands/common_flags.hpp"
#include "compat/compare.hpp"
#include "core/current_step.hpp"
#include "core/duration.hpp"
#include "core/keep_until_exit.hpp"
#include "report/compat_report.hpp"
#include "rpc/exit_codes.hpp"
#include "schema/file_source.hpp"
#include "schema/schema_source.hpp"

namespace grpcdx::commands {

namespace {

struct CompatOptions {
  ConnectionFlags conn;
  schema::SchemaOptions schema;  // the client's schema
  std::vector<std::string> server_protosets;
  std::vector<std::string> services;
  bool json = false;
  std::string fail_on = "error";
  OutputFlags output;
};

// The client's services to check: every service of its files, or those --service names.
Result<std::vector<const google::protobuf::ServiceDescriptor*>> client_services(schema::SchemaSource& client,
                                                                               const CompatOptions& opt) {
  TRY(auto names, client.list_services());
  if (!opt.services.empty()) {
    for (const auto& name : opt.services)
      if (std::find(names.begin(), names.end(), name) == names.end())
        return local_error(fmt::format("service '{}' is not in the client's schema", name),
                           names.empty() ? std::string("the client's files define no service")
                                         : fmt::format("it defines: {}", fmt::join(names, ", ")));
    names = opt.services;
  }
  if (names.empty())
    return local_error("the client's schema defines no service", "give the .proto files that define the services");
  std::vector<const google::protobuf::ServiceDescriptor*> services;
  for (const auto& name : names) {
    TRY(auto service, client.find_service(name));
    services.push_back(service);
  }
  return services;
}

// The server's schema: from --server-protoset, or from reflection over a connection to TARGET.
Result<std::unique_ptr<schema::SchemaSource>> server_schema(const CompatOptions& opt,
                                                            const std::optional<net::ConnectionOptions>& conn) {
  if (!conn) return schema::open_protosets(opt.server_protosets);
  TRY(auto channel, net::open_channel(*conn));
  return schema::open_schema(schema::SchemaOptions{}, std::move(channel), *conn);
}

// The server's services of the same names as `wanted`, their files (and so every type they
// reach) loaded; a name the server does not list is left out. Listing first turns a server
// without reflection into one clear error. Fails on a reflection RPC that failed.
Result<std::vector<const google::protobuf::ServiceDescriptor*>> server_services(
    schema::SchemaSource& server, const std::vector<const google::protobuf::ServiceDescriptor*>& wanted) {
  auto listed = server.list_services();
  if (!listed) {
    Error e = listed.error();
    // The schema flags name the client's side here: the server's is --server-protoset.
    if (e.kind == ErrorKind::local) e.hint = "give the server's schema with --server-protoset FILE instead of TARGET";
    return std::unexpected(e);
  }
  std::vector<const google::protobuf::ServiceDescriptor*> found;
  for (const auto* service : wanted) {
    if (std::find(listed->begin(), listed->end(), service->full_name()) == listed->end()) continue;
    TRY(auto s, server.find_service(service->full_name()));
    found.push_back(s);
  }
  return found;
}

Result<int> run_compat(const CompatOptions& opt, Io& io) {
  if (opt.conn.target.empty() == opt.server_protosets.empty())
    return usage_error(opt.conn.target.empty() ? "compat needs the server: TARGET or --server-protoset FILE"
                                               : "give either TARGET or --server-protoset, not both");
  if (!opt.schema.uses_files())
    return usage_error("compat needs the client's schema: --proto FILE (with -I DIR) or --protoset FILE");
  if (opt.schema.use_reflection)
    return usage_error("--use-reflection does not apply to compat: the server's reflection is the other side");
  // The connection flags are checked (and --max-time armed) before anything is read, so that
  // --max-time bounds the whole command.
  std::optional<net::ConnectionOptions> conn;
  if (opt.server_protosets.empty()) {
    TRY(auto c, to_connection_options(opt.conn, "10s"));
    c.own_subchannels = false;  // the only channel
    conn = std::move(c);
  } else {
    TRY_VOID(arm_max_time_flag(opt.conn));
  }
  set_current_step("reading the client's schema");
  TRY(auto client, schema::open_schema(opt.schema, nullptr, net::ConnectionOptions{}));
  TRY(auto services, client_services(*client, opt));
  set_current_step("reading the server's schema");
  TRY(std::shared_ptr<schema::SchemaSource> server, server_schema(opt, conn));
  keep_until_exit(server);  // main() exits without tearing the channel and pool down
  TRY(auto on_server, server_services(*server, services));
  set_current_step("comparing the schemas");
  const auto start = std::chrono::steady_clock::now();
  const compat::Report report = compat::compare(services, on_server, {.json = opt.json});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  if (opt.output.verbose) {
    print_schema_notes(io, *server);
    if (int n = server->reflection_requests(); n > 0)
      io.err << fmt::format("reflection: {} request{} ({})\n", n, n == 1 ? "" : "s",
                            server->reflection_version().empty() ? "no answer" : server->reflection_version());
    io.err << fmt::format("compare: {:.2f}ms ({} services, {} methods, {} messages, {} enums checked)\n",
                          std::chrono::duration<double, std::milli>(elapsed).count(), report.checked.services,
                          report.checked.methods, report.checked.messages, report.checked.enums);
  }
  const bool compatible = report.compatible(opt.fail_on == "warning");
  report::print_compat(io, output_format(opt.output), report, compatible);
  return compatible ? k_exit_ok : k_exit_incompatible;
}

}  // namespace

void register_compat(CLI::App& app, CommandSlot& slot) {
  auto opt = std::make_shared<CompatOptions>();
  auto* cmd = app.add_subcommand(
      "compat", "Check that a server's schema is wire-compatible with the client's .proto files (for CI)");
  add_connection_flags(cmd, opt->conn);
  cmd->get_option("target")->required(false);
  add_max_time_flag(cmd, opt->conn);
  add_schema_flags(cmd, opt->schema);
  if (MentionedOptions::declares("--server-protoset"))
    cmd->add_option("--server-protoset", opt->server_protosets,
                    "Take the server's schema from this FileDescriptorSet instead of TARGET's reflection (repeatable)")
        ->expected(1)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  if (MentionedOptions::declares("--service"))
    cmd->add_option("--service", opt->services, "Check only this service of the client's schema (repeatable)")
        ->expected(1)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  if (MentionedOptions::declares("--json"))
    cmd->add_flag("--json", opt->json,
                  "Also check JSON compatibility (field and enum value names, json_name, JSON forms of types)");
  if (MentionedOptions::declares("--fail-on"))
    cmd->add_option("--fail-on", opt->fail_on, "Fail (exit 8) on errors only, or on warnings too")
        ->check(CLI::IsMember({"error", "warning"}))
        ->capture_default_str();
  add_output_flags(cmd, opt->output);
  cmd->footer(
      "Exit status: 0 compatible, 8 not compatible, 1 when a schema cannot be read.\n"
      "Examples:\n"
      "  grpcdx compat --plaintext localhost:50051 --proto api/orders.proto -I api\n"
      "  grpcdx compat --server-protoset deployed.protoset --protoset client.protoset --json\n"
      "  grpcdx compat api.example.com:443 --proto orders.proto --service shop.Orders --fail-on warning -o json");
  cmd->callback([&slot, opt] { slot.run = [opt](Io& io) { return run_compat(*opt, io); }; });
}

}  // namespace grpcdx::commands
