// `grpcdx chaos --listen ADDR --target TARGET [--fault SPEC ...]`: the fault-injecting gRPC proxy,
// and `--emit istio|envoy` to print the same faults as mesh configuration.
#include <condition_variable>
#include <mutex>
#include <random>

#include <fmt/format.h>

#include "chaos/emit.hpp"
#include "chaos/fault_spec.hpp"
#include "chaos/proxy.hpp"
#include "commands/command.hpp"
#include "commands/common_flags.hpp"
#include "core/stop_signals.hpp"
#include "report/json_line.hpp"
#include "rpc/exit_codes.hpp"
#include "server/server.hpp"

namespace grpcdx::commands {

namespace {

// How long running calls may go on after a stop before they end with UNAVAILABLE.
constexpr std::chrono::milliseconds k_grace{1000};

struct ChaosOptions {
  ConnectionFlags conn;
  std::string output = "text";
  std::string listen;
  std::string listen_cert, listen_key;
  std::vector<std::string> faults;
  std::string rules;
  bool header_faults = false;
  uint64_t max_active = 0;  // 0: not given
  std::optional<uint64_t> seed;
  std::string duration;
  std::string emit;
};

// The faults of --fault (usage errors) and --rules (local errors: the file's content).
Result<std::vector<chaos::FaultSpec>> collect_faults(const ChaosOptions& opt) {
  std::vector<chaos::FaultSpec> specs;
  for (const auto& text : opt.faults) {
    auto spec = chaos::parse_fault_spec(text);
    if (!spec) return std::unexpected(spec.error().with_context(fmt::format("invalid --fault '{}'", text)));
    specs.push_back(std::move(*spec));
  }
  if (!opt.rules.empty()) {
    TRY(auto text, net::read_file(opt.rules, "rules file"));
    TRY(auto rules, chaos::parse_rules(text, opt.rules));
    for (auto& r : rules) specs.push_back(std::move(r));
  }
  return specs;
}

Result<int> run_emit(const ChaosOptions& opt, std::vector<chaos::FaultSpec> faults, Io& io) {
  chaos::EmitOptions e;
  e.faults = std::move(faults);
  e.header_faults = opt.header_faults;
  if (opt.max_active > 0) e.max_active = opt.max_active;
  if (!opt.conn.target.empty()) {
    TRY(auto target, net::parse_target(opt.conn.target));
    e.host = target.kind == net::Target::Kind::unix_socket ? "" : target.host;
  }
  TRY(auto emitted, chaos::emit_mesh_config(opt.emit == "istio" ? chaos::MeshFormat::istio : chaos::MeshFormat::envoy, e));
  io.out << emitted.config << std::flush;
  for (const auto& note : emitted.notes) io.err << "grpcdx chaos: note: " << note << "\n";
  io.err << std::flush;
  return k_exit_ok;
}

Result<int> run_chaos(const ChaosOptions& opt, Io& io) {
  TRY(auto faults, collect_faults(opt));
  if (!opt.emit.empty()) return run_emit(opt, std::move(faults), io);
  if (opt.listen.empty())
    return usage_error("--listen is required: the address to accept calls on (e.g. 127.0.0.1:0 picks a free port)");
  if (opt.conn.target.empty()) return usage_error("--target is required: the upstream server to forward calls to");
  if (opt.listen_cert.empty() != opt.listen_key.empty())
    return usage_error("--listen-cert and --listen-key go together: give both");
  if (auto checked = server::check_listen_address(opt.listen); !checked) {
    Error e = checked.error();
    e.kind = ErrorKind::usage;
    return std::unexpected(e);
  }
  TRY(auto upstream, to_connection_options(opt.conn));
  std::optional<Duration> duration;
  if (!opt.duration.empty()) {
    auto d = parse_duration(opt.duration);
    if (!d) return std::unexpected(d.error().with_context("invalid --duration"));
    duration = *d;
  }

  chaos::ProxyOptions p;
  p.listen = opt.listen;
  p.listen_cert = opt.listen_cert;
  p.listen_key = opt.listen_key;
  p.upstream = upstream;
  p.faults = faults;
  p.header_faults = opt.header_faults;
  if (opt.max_active > 0) p.max_active = opt.max_active;
  p.seed = opt.seed ? *opt.seed : std::random_device{}();

  // Stop signals are blocked before gRPC starts its threads (they inherit the mask).
  std::mutex mutex;
  std::condition_variable stop_cv;
  StopSignals stop([&](int) {
    std::lock_guard lock(mutex);
    stop_cv.notify_all();
  });
  TRY(auto proxy, chaos::Proxy::start(p));
  io.out << proxy->address() << std::endl;
  io.err << fmt::format("grpcdx chaos: listening on {}{}, forwarding to {}; {} fault{}{}, seed {}. Stop with Ctrl-C or "
                        "SIGTERM.\n",
                        proxy->address(), opt.listen_cert.empty() ? "" : " (TLS)", upstream.target.original,
                        faults.size(), faults.size() == 1 ? "" : "s",
                        opt.header_faults ? " (and header faults)" : "", p.seed)
         << std::flush;
  {
    // Wait for the stop, refreshing a one-line summary on stderr once a second when it is a
    // terminal (nothing is written there otherwise, so logs stay clean).
    std::unique_lock lock(mutex);
    auto stopped = [&] { return stop.stopped(); };
    auto until = duration ? std::chrono::steady_clock::now() + *duration
                          : std::chrono::steady_clock::time_point::max();
    while (!stopped() && std::chrono::steady_clock::now() < until) {
      auto next = std::min(until, std::chrono::steady_clock::now() + std::chrono::seconds(1));
      stop_cv.wait_until(lock, next, stopped);
      if (io.err_is_tty) io.err << "\r" << chaos::live_summary(proxy->counters()) << "\x1b[K" << std::flush;
    }
    if (io.err_is_tty) io.err << "\r\x1b[K" << std::flush;
  }
  proxy->stop(k_grace);
  auto counts = proxy->counters();
  proxy.reset();
  if (opt.output == "json")
    io.out << report::json_line(chaos::counters_json(counts)) << std::endl;
  else
    io.out << chaos::counters_table(counts) << std::flush;
  return k_exit_ok;
}

}  // namespace

void register_chaos(CLI::App& app, CommandSlot& slot) {
  auto opt = std::make_shared<ChaosOptions>();
  auto* cmd = app.add_subcommand("chaos", "Run a gRPC proxy that injects faults (delay, abort, cancel, reset, stall, drop)");
  cmd->add_option("--listen", opt->listen,
                  "Address to accept calls on: host:port ('127.0.0.1:0' picks a free port), [v6addr]:port or "
                  "unix:/path; printed as the first line of stdout");
  add_upstream_flags(cmd, opt->conn);
  cmd->add_option("--listen-cert", opt->listen_cert, "Serve TLS downstream with this certificate chain (PEM)");
  cmd->add_option("--listen-key", opt->listen_key, "Private key (PEM) of --listen-cert");
  cmd->add_option("--fault", opt->faults,
                  "A fault: delay=DUR[,jitter=DUR] | abort=CODE[,message=TEXT] | cancel[,after=N|DUR] | "
                  "reset[,after=N] | stall[,after=N] | drop; keys pct=P, method=GLOB, header=key:value, limit=N "
                  "(repeatable)")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--rules", opt->rules, "Read faults from this JSON file: {\"faults\": [{\"kind\": \"abort\", ...}]}");
  cmd->add_flag("--header-faults", opt->header_faults,
                "Let a call ask for its own fault with x-grpcdx-delay: DUR or x-grpcdx-abort: CODE metadata");
  cmd->add_option("--max-active", opt->max_active, "At most N calls under a fault at once")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seed", opt->seed, "Seed of the random choices, so a run repeats (default: random, printed)");
  cmd->add_option("--duration", opt->duration, "Stop after this long (default: until Ctrl-C or SIGTERM)");
  cmd->add_option("--emit", opt->emit,
                  "Print the delay/abort faults as an Istio VirtualService or Envoy fault filters and exit")
      ->check(CLI::IsMember({"istio", "envoy"}));
  cmd->add_option("-o,--output", opt->output, "Format of the counters printed at the end")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->callback([opt, &slot] { slot.run = [opt](Io& io) { return run_chaos(*opt, io); }; });
}

}  // namespace grpcdx::commands
