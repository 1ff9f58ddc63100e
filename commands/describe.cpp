// `grpcdx describe TARGET SYMBOL`: the .proto definition of a service, method, message or enum.
#include <fmt/format.h>

#include "commands/command.hpp"
#include "commands/common_flags.hpp"
#include "report/schema_report.hpp"
#include "core/keep_until_exit.hpp"
#include "schema/protoset_out.hpp"
#include "schema/schema_source.hpp"

namespace grpcdx::commands {

namespace {

struct DescribeOptions {
  ConnectionFlags conn;
  schema::SchemaOptions schema;
  OutputFlags output;
  std::string symbol;
  std::string protoset_out;
};

Result<int> run_describe(const DescribeOptions& opt, Io& io) {
  TRY(auto conn, to_connection_options(opt.conn, "10s"));
  conn.own_subchannels = false;  // the only channel
  TRY(std::shared_ptr<schema::SchemaSource> source, schema::connect_schema(opt.schema, conn));
  keep_until_exit(source);  // main() exits without tearing the channel and pool down
  auto symbol = source->find_symbol(opt.symbol);
  if (opt.output.verbose) {
    print_schema_notes(io, *source);
    if (int n = source->reflection_requests(); n > 0)
      io.err << fmt::format("reflection: {} request{} ({})\n", n, n == 1 ? "" : "s",
                            source->reflection_version().empty() ? "no answer" : source->reflection_version());
  }
  if (!symbol) return std::unexpected(symbol.error());
  if (!opt.protoset_out.empty()) TRY_VOID(schema::write_protoset(opt.protoset_out, {schema::file_of(*symbol)}));
  io.out << report::render_symbol(output_format(opt.output), *symbol) << std::flush;
  return 0;
}

}  // namespace

void register_describe(CLI::App& app, CommandSlot& slot) {
  auto* cmd = app.add_subcommand("describe", "Show the .proto definition of a service, method, message or enum");
  auto opt = std::make_shared<DescribeOptions>();
  add_connection_flags(cmd, opt->conn);
  cmd->add_option("symbol", opt->symbol, "pkg.Service, pkg.Service.Method (or pkg.Service/Method), pkg.Message or pkg.Enum")
      ->required();
  add_schema_flags(cmd, opt->schema);
  add_protoset_out_flag(cmd, opt->protoset_out);
  add_output_flags(cmd, opt->output);
  cmd->footer(
      "Examples:\n"
      "  grpcdx describe --plaintext localhost:50051 grpc.testing.TestService\n"
      "  grpcdx describe --plaintext localhost:50051 grpc.testing.TestService/UnaryCall\n"
      "  grpcdx describe --plaintext localhost:50051 grpc.testing.SimpleRequest -o json");
  cmd->callback([&slot, opt] { slot.run = [opt](Io& io) { return run_describe(*opt, io); }; });
}

}  // namespace grpcdx::commands
