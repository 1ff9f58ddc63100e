// `grpcdx list TARGET [SERVICE]`: the services a server (or schema files) define, or the
// methods of one service.
#include <fmt/format.h>

#include "commands/command.hpp"
#include "commands/common_flags.hpp"
#include "report/schema_report.hpp"
#include "core/keep_until_exit.hpp"
#include "schema/protoset_out.hpp"
#include "schema/schema_source.hpp"

namespace grpcdx::commands {

namespace {

struct ListOptions {
  ConnectionFlags conn;
  schema::SchemaOptions schema;
  OutputFlags output;
  std::string service;  // empty: list the services
  std::string protoset_out;
};

// With -v: how the schema was obtained, on stderr.
void print_schema_stats(Io& io, const schema::SchemaSource& source) {
  print_schema_notes(io, source);
  if (source.reflection_requests() > 0) {
    int n = source.reflection_requests();
    std::string version = source.reflection_version();
    io.err << fmt::format("reflection: {} request{}{}\n", n, n == 1 ? "" : "s",
                          version.empty() ? "" : " (" + version + ")");
  }
}

// --protoset-out: the files of the listed services (or of the one service), with their imports.
Result<void> save_listed_schema(schema::SchemaSource& source, const std::vector<std::string>& names,
                                const std::string& path) {
  std::vector<const google::protobuf::FileDescriptor*> files;
  for (const auto& name : names) {
    auto service = source.find_service(name);
    if (!service) return std::unexpected(service.error().with_context("--protoset-out '" + path + "'"));
    files.push_back((*service)->file());
  }
  return schema::write_protoset(path, files);
}

Result<int> run_list(const ListOptions& opt, Io& io) {
  TRY(auto conn, to_connection_options(opt.conn, "10s"));
  conn.own_subchannels = false;  // the only channel
  TRY(std::shared_ptr<schema::SchemaSource> source, schema::connect_schema(opt.schema, conn));
  keep_until_exit(source);  // main() exits without tearing the channel and pool down
  const auto format = output_format(opt.output);
  Result<std::string> text;
  std::vector<std::string> listed{opt.service};  // the services --protoset-out saves
  if (opt.service.empty()) {
    auto services = source->list_services();
    if (services) text = report::render_services(format, *services);
    else text = std::unexpected(services.error());
    if (services) listed = std::move(*services);
  } else {
    auto service = source->find_service(opt.service);
    if (service) text = report::render_methods(format, **service);
    else text = std::unexpected(service.error());
  }
  if (opt.output.verbose) print_schema_stats(io, *source);
  if (!text) return std::unexpected(text.error());
  if (!opt.protoset_out.empty()) TRY_VOID(save_listed_schema(*source, listed, opt.protoset_out));
  io.out << *text << std::flush;
  return 0;
}

}  // namespace

void register_list(CLI::App& app, CommandSlot& slot) {
  auto* cmd = app.add_subcommand("list", "List the services of a server, or the methods of one service");
  auto opt = std::make_shared<ListOptions>();
  add_connection_flags(cmd, opt->conn);
  add_max_time_flag(cmd, opt->conn);
  cmd->add_option("service", opt->service, "A fully-qualified service name: list its methods");
  add_schema_flags(cmd, opt->schema);
  add_protoset_out_flag(cmd, opt->protoset_out);
  add_output_flags(cmd, opt->output);
  cmd->footer(
      "Examples:\n"
      "  grpcdx list --plaintext localhost:50051\n"
      "  grpcdx list --plaintext localhost:50051 grpc.testing.TestService -o json\n"
      "  grpcdx list -I protos --proto shop/v1/shop.proto localhost:50051");
  cmd->callback([&slot, opt] { slot.run = [opt](Io& io) { return run_list(*opt, io); }; });
}

}  // namespace grpcdx::commands
