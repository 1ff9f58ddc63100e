// `grpcdx health TARGET [--service NAME] [--watch]`: the serving status from
// grpc.health.v1.Health, once or as it changes.
#include <chrono>

#include <fmt/format.h>

#include "commands/command.hpp"
#include "commands/common_flags.hpp"
#include "core/keep_until_exit.hpp"
#include "core/stop_signals.hpp"
#include "health/health_client.hpp"
#include "report/health_report.hpp"
#include "rpc/exit_codes.hpp"

namespace grpcdx::commands {

struct HealthOptions {
  ConnectionFlags conn;
  OutputFlags output;
  std::string service;
  bool watch = false;
  int count = 0;  // --watch: stop after this many statuses (0: until interrupted)
};

namespace {

int exit_for(const health::HealthReply& reply) { return reply.serving() ? k_exit_ok : k_exit_not_serving; }

Result<int> run_check(const HealthOptions& opt, Io& io) {
  TRY(auto conn, to_connection_options(opt.conn, "10s"));
  auto start = std::chrono::steady_clock::now();
  TRY(auto channel, net::open_channel(conn));
  keep_until_exit(channel);  // main() exits without the channel's teardown (joining gRPC's threads)
  auto connected = std::chrono::steady_clock::now();
  auto reply = health::check(channel, conn, opt.service);
  if (opt.output.verbose) {
    auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
    auto end = std::chrono::steady_clock::now();
    io.err << fmt::format("Timing: connect {:.2f}ms, check {:.2f}ms, total {:.2f}ms\n", ms(connected - start),
                          ms(end - connected), ms(end - start));
  }
  if (!reply) return std::unexpected(reply.error());
  report::print_health(io, output_format(opt.output), *reply);
  return exit_for(*reply);
}

Result<int> run_watch(const HealthOptions& opt, Io& io) {
  // A watch runs until interrupted unless --timeout is given.
  TRY(auto conn, to_connection_options(opt.conn));
  grpc::ClientContext ctx;
  StopSignals stop([&ctx](int) { ctx.TryCancel(); });
  TRY(auto channel, net::open_channel(conn));
  net::prepare_context(ctx, conn);
  std::optional<health::HealthReply> last;
  int seen = 0;
  auto watched = health::watch(channel, ctx, opt.service, conn.plaintext, [&](const health::HealthReply& reply) {
    report::print_health(io, output_format(opt.output), reply);
    last = reply;
    ++seen;
    return opt.count <= 0 || seen < opt.count;
  });
  if (!watched && !(stop.stopped() && watched.error().grpc_code == 1)) return std::unexpected(watched.error());
  if (!last) return status_error(1, "stopped before the server sent a status");
  return exit_for(*last);
}

}  // namespace

void register_health(CLI::App& app, CommandSlot& slot) {
  auto opt = std::make_shared<HealthOptions>();
  auto* cmd = app.add_subcommand("health", "Check a server's health (grpc.health.v1.Health), once or as it changes");
  add_connection_flags(cmd, opt->conn);
  add_max_time_flag(cmd, opt->conn);
  cmd->add_option("--service", opt->service, "The service to ask about (default: the whole server)");
  cmd->add_flag("--watch", opt->watch, "Watch the status and print each change (until Ctrl-C, --count or --timeout)");
  cmd->add_option("--count", opt->count, "With --watch: stop after N statuses")
      ->transform(whole_number(1, INT_MAX));
  add_output_flags(cmd, opt->output);
  cmd->callback([opt, &slot] {
    slot.run = [opt](Io& io) { return opt->watch ? run_watch(*opt, io) : run_check(*opt, io); };
  });
}

}  // namespace grpcdx::commands
