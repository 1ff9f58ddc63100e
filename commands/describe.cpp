// `grpcdx describe TARGET [SYMBOL]`: the .proto definition of a service, method, message or enum
// (every service without SYMBOL), and with --msg-template an example request for a message.
#include <fmt/format.h>

#include "commands/command.hpp"
#include "commands/common_flags.hpp"
#include "codec/message_template.hpp"
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
  std::string symbol;  // empty: every service
  std::string protoset_out;
  bool msg_template = false;
  bool proto_names = false;
};

// Every service the source lists, as symbols (describe without SYMBOL, as grpcurl does).
Result<std::vector<schema::Symbol>> every_service(schema::SchemaSource& source) {
  TRY(auto names, source.list_services());
  std::vector<schema::Symbol> symbols;
  for (const auto& name : names) {
    TRY(auto service, source.find_service(name));
    symbols.push_back(service);
  }
  return symbols;
}

Result<int> run_describe(const DescribeOptions& opt, Io& io) {
  TRY(auto conn, to_connection_options(opt.conn, "10s"));
  conn.own_subchannels = false;  // the only channel
  TRY(std::shared_ptr<schema::SchemaSource> source, schema::connect_schema(opt.schema, conn));
  keep_until_exit(source);  // main() exits without tearing the channel and pool down
  Result<std::vector<schema::Symbol>> symbols = opt.symbol.empty() ? every_service(*source) : [&] {
    auto found = source->find_symbol(opt.symbol);
    return found ? Result<std::vector<schema::Symbol>>(std::vector{*found})
                 : Result<std::vector<schema::Symbol>>(std::unexpected(found.error()));
  }();
  if (opt.output.verbose) {
    print_schema_notes(io, *source);
    if (int n = source->reflection_requests(); n > 0)
      io.err << fmt::format("reflection: {} request{} ({})\n", n, n == 1 ? "" : "s",
                            source->reflection_version().empty() ? "no answer" : source->reflection_version());
  }
  if (!symbols) return std::unexpected(symbols.error());
  if (opt.msg_template && (symbols->size() != 1 || schema::symbol_kind(symbols->front()) != "message"))
    return usage_error("--msg-template needs a message type as SYMBOL (e.g. grpc.testing.SimpleRequest)",
                       "`grpcdx describe TARGET pkg.Service/Method` names a method's request type");
  if (!opt.protoset_out.empty()) {
    std::vector<const google::protobuf::FileDescriptor*> files;
    for (const auto& symbol : *symbols) files.push_back(schema::file_of(symbol));
    TRY_VOID(schema::write_protoset(opt.protoset_out, files));
  }
  const auto format = output_format(opt.output);
  for (size_t i = 0; i < symbols->size(); ++i) {
    std::optional<std::string> example;
    if (opt.msg_template) {
      TRY(example, codec::message_template(*std::get<const google::protobuf::Descriptor*>((*symbols)[i]), opt.proto_names));
    }
    if (i > 0 && format == report::OutputFormat::text) io.out << "\n";
    io.out << report::render_symbol(format, (*symbols)[i], example);
  }
  io.out << std::flush;
  return 0;
}

}  // namespace

void register_describe(CLI::App& app, CommandSlot& slot) {
  auto* cmd = app.add_subcommand("describe", "Show the .proto definition of a service, method, message or enum");
  auto opt = std::make_shared<DescribeOptions>();
  add_connection_flags(cmd, opt->conn);
  add_max_time_flag(cmd, opt->conn);
  cmd->add_option("symbol", opt->symbol,
                  "pkg.Service, pkg.Service.Method (or pkg.Service/Method), pkg.Message or pkg.Enum; "
                  "without it, every service");
  if (MentionedOptions::declares("--msg-template"))
    cmd->add_flag("--msg-template", opt->msg_template,
                  "For a message: also print a JSON request template with every field set (for -d)");
  if (MentionedOptions::declares("--proto-names"))
    cmd->add_flag("--proto-names", opt->proto_names, "In --msg-template, use .proto field names, not lowerCamelCase");
  add_schema_flags(cmd, opt->schema);
  add_protoset_out_flag(cmd, opt->protoset_out);
  add_output_flags(cmd, opt->output);
  cmd->footer(
      "Examples:\n"
      "  grpcdx describe --plaintext localhost:50051 grpc.testing.TestService\n"
      "  grpcdx describe --plaintext localhost:50051 grpc.testing.TestService/UnaryCall\n"
      "  grpcdx describe --plaintext localhost:50051 grpc.testing.SimpleRequest -o json\n"
      "  grpcdx describe --plaintext localhost:50051 grpc.testing.SimpleRequest --msg-template\n"
      "  grpcdx describe --plaintext localhost:50051");
  cmd->callback([&slot, opt] { slot.run = [opt](Io& io) { return run_describe(*opt, io); }; });
}

}  // namespace grpcdx::commands
