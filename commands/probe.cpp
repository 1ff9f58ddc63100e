// `grpcdx probe TARGET`: walks dns, tcp, tls, http2 and grpc and says where the connection
// breaks; --all probes every address of the name, --watch repeats and prints verdict changes.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <mutex>

#include <fmt/format.h>

#include "commands/command.hpp"
#include "commands/common_flags.hpp"
#include "core/stop_signals.hpp"
#include "probe/probe.hpp"
#include "probe/srv.hpp"
#include "report/json_line.hpp"
#include "report/terminal.hpp"

namespace grpcdx::commands {

struct ProbeCommandOptions {
  ConnectionFlags conn;
  OutputFlags output;
  std::string service;
  bool all = false;
  std::string watch;  // empty: probe once
  int count = 0;      // 0: no bound (until SIGINT/SIGTERM)
};

namespace {

constexpr const char* k_default_stage_timeout = "5s";

std::string utc_now() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

Result<probe::ProbeOptions> to_probe_options(const ProbeCommandOptions& opt) {
  probe::ProbeOptions p;
  // An SRV name needs no port (each record carries its own): parse it with a placeholder one.
  ConnectionFlags flags = opt.conn;
  const bool portless_srv = probe::is_srv_name(flags.target) && flags.target.find(':') == std::string::npos;
  if (portless_srv) flags.target += ":0";
  TRY(p.conn, to_connection_options(flags, k_default_stage_timeout));
  if (portless_srv) {
    p.conn.target.original = opt.conn.target;
    p.conn.target.authority = opt.conn.target;
  }
  if (!p.conn.rpc_timeout)
    return usage_error("probe needs a positive --timeout: every stage is bounded (e.g. --timeout 2s)");
  p.stage_timeout = *p.conn.rpc_timeout;
  p.service = opt.service;
  return p;
}

// One probe (or one --all round): the exit code, the verdict line for --watch, and the output.
struct Round {
  int exit_code = 0;
  std::string verdict_key;   // what "the verdict changed" compares
  nlohmann::ordered_json json;
  std::string text;
  std::string line;          // the one-line form printed by --watch
};

Result<Round> probe_round(const ProbeCommandOptions& opt, const probe::ProbeOptions& p, bool color) {
  Round round;
  if (opt.all) {
    TRY(auto reports, probe::run_probe_all(p));
    const auto& w = probe::worst(reports);
    round.exit_code = w.verdict.exit_code();
    round.json = probe::to_json_all(p.conn.target.original, reports);
    round.text = probe::render_text_all(p.conn.target.original, reports, color);
    for (const auto& r : reports) {
      round.verdict_key += r.address + "=" + std::string(probe::class_name(r.verdict.cls)) + ";";
      round.line += fmt::format("{}{} {}", round.line.empty() ? "" : "  ", r.address, probe::class_name(r.verdict.cls));
    }
    return round;
  }
  TRY(auto report, probe::run_probe(p));
  round.exit_code = report.verdict.exit_code();
  round.json = probe::to_json(report);
  round.text = probe::render_text(report, color);
  round.verdict_key = std::string(probe::class_name(report.verdict.cls));
  round.line = fmt::format("{}  {} ({:.1f} ms)", probe::class_name(report.verdict.cls), report.verdict.summary,
                           to_ms(report.total));
  return round;
}

Result<int> run_watch(const ProbeCommandOptions& opt, const probe::ProbeOptions& p, Duration every, Io& io) {
  bool json = output_format(opt.output) == report::OutputFormat::json;
  std::mutex mutex;
  std::condition_variable wake;
  StopSignals stop([&](int) {
    std::lock_guard lock(mutex);
    wake.notify_all();
  });
  std::string last_key;
  int exit_code = 0;
  // On a terminal, a live line on stderr between probes: how many, the last verdict, the next.
  bool progress_shown = false;
  auto clear_progress = [&] {
    if (progress_shown) io.err << "\r\x1b[K" << std::flush;
    progress_shown = false;
  };
  for (int n = 0; (opt.count <= 0 || n < opt.count) && !stop.stopped(); ++n) {
    auto started = std::chrono::steady_clock::now();
    TRY(auto round, probe_round(opt, p, false));
    exit_code = round.exit_code;
    clear_progress();
    if (n == 0 || round.verdict_key != last_key) {
      if (json) {
        nlohmann::ordered_json line;
        line["time"] = utc_now();
        for (auto& [k, v] : round.json.items()) line[k] = v;
        io.out << report::json_line(line) << std::endl;
      } else {
        io.out << utc_now() << "  " << round.line << std::endl;
      }
      last_key = round.verdict_key;
    }
    if (opt.count > 0 && n + 1 >= opt.count) break;
    std::unique_lock lock(mutex);
    const auto next = started + every;
    while (!stop.stopped() && std::chrono::steady_clock::now() < next) {
      if (io.err_is_tty) {
        const double left = std::chrono::duration<double>(next - std::chrono::steady_clock::now()).count();
        io.err << "\r"
               << report::fit_width(fmt::format("probe: {} probe{}, next in {:.1f} s (Ctrl-C stops); last: {}", n + 1,
                                                n == 0 ? "" : "s", std::max(left, 0.0), round.line),
                                    io.err_columns)
               << "\x1b[K" << std::flush;
        progress_shown = true;
      }
      wake.wait_until(lock, std::min(next, std::chrono::steady_clock::now() + std::chrono::milliseconds(250)),
                      [&] { return stop.stopped(); });
    }
  }
  clear_progress();
  return exit_code;
}

Result<int> run_probe_command(const ProbeCommandOptions& opt, Io& io) {
  TRY(auto p, to_probe_options(opt));
  if (!opt.watch.empty()) {
    TRY(auto every, parse_duration(opt.watch));
    if (every.count() <= 0) return usage_error("--watch needs a positive interval, e.g. --watch 2s");
    return run_watch(opt, p, every, io);
  }
  if (opt.count > 0) return usage_error("--count goes with --watch: --watch 1s --count 5");
  TRY(auto round, probe_round(opt, p, io.color_out));
  if (output_format(opt.output) == report::OutputFormat::json) io.out << report::json_line(round.json) << "\n";
  else io.out << round.text;
  return round.exit_code;
}

}  // namespace

void register_probe(CLI::App& app, CommandSlot& slot) {
  auto opt = std::make_shared<ProbeCommandOptions>();
  auto* cmd = app.add_subcommand("probe", "Check dns, tcp, tls, http2 and grpc one layer at a time; say where it breaks");
  add_connection_flags(cmd, opt->conn);
  add_max_time_flag(cmd, opt->conn);
  if (auto* timeout = cmd->get_option_no_throw("--timeout"))
    timeout->description("Bound of each stage (default 5s)");
  add_output_flags(cmd, opt->output);
  cmd->add_option("--service", opt->service, "Health service to ask about (default: the whole server)");
  cmd->add_flag("--all", opt->all, "Probe every address the name resolves to; exit with the worst instance's code");
  cmd->add_option("--watch", opt->watch, "Repeat every DUR and print a line whenever the verdict changes");
  cmd->add_option("--count", opt->count, "With --watch: stop after N probes")
      ->transform(whole_number(1, INT_MAX));
  cmd->callback([opt, &slot] { slot.run = [opt](Io& io) { return run_probe_command(*opt, io); }; });
}

}  // namespace grpcdx::commands
