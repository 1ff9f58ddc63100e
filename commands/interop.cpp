// `grpcdx interop TARGET [--cases a,b,...]`: the standard gRPC interop cases against any server
// that implements grpc.testing.TestService.
#include "commands/command.hpp"
#include "commands/common_flags.hpp"
#include "interop/cases.hpp"
#include "report/interop_report.hpp"
#include "rpc/exit_codes.hpp"

namespace grpcdx::commands {

struct InteropOptions {
  ConnectionFlags conn;
  OutputFlags output;
  std::string cases;
};

namespace {

Result<int> run_interop(const InteropOptions& opt, Io& io) {
  TRY(auto conn, to_connection_options(opt.conn, "10s"));
  std::vector<std::string> names = interop::case_names();
  if (!opt.cases.empty()) {
    TRY(names, interop::parse_cases(opt.cases));
  }
  TRY(auto channel, net::open_channel(conn));
  std::vector<interop::CaseResult> results;
  for (const auto& name : names) {
    results.push_back(interop::run_case(name, channel, conn));
    report::interop_case(io, output_format(opt.output), results.back());
  }
  report::interop_summary(io, output_format(opt.output), results);
  for (const auto& r : results)
    if (!r.passed) return k_exit_local;
  return k_exit_ok;
}

}  // namespace

void register_interop(CLI::App& app, CommandSlot& slot) {
  auto opt = std::make_shared<InteropOptions>();
  auto* cmd = app.add_subcommand("interop", "Run the standard gRPC interop cases against a grpc.testing.TestService server");
  add_connection_flags(cmd, opt->conn);
  add_max_time_flag(cmd, opt->conn);
  cmd->add_option("--cases", opt->cases,
                  "Comma-separated cases to run (default: all): empty_unary, large_unary, client_streaming, "
                  "server_streaming, ping_pong, empty_stream, timeout_on_sleeping_server, cancel_after_begin, "
                  "cancel_after_first_response, status_code_and_message, special_status_message, "
                  "unimplemented_method, unimplemented_service, custom_metadata");
  add_output_flags(cmd, opt->output);
  cmd->callback([opt, &slot] { slot.run = [opt](Io& io) { return run_interop(*opt, io); }; });
}

}  // namespace grpcdx::commands
