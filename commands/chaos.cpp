// `grpcdx chaos --listen ADDR --target TARGET [--fault SPEC ...]`: the fault-injecting gRPC proxy,
// the byte-level TCP proxy with --tcp, and `--emit istio|envoy` to print the same faults as mesh
// configuration.
#include <sys/resource.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <random>

#include <fmt/format.h>

#include "chaos/emit.hpp"
#include "chaos/fault_spec.hpp"
#include "chaos/proxy.hpp"
#include "chaos/tcp_proxy.hpp"
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
  bool tcp = false;
};

// The faults of --fault (usage errors) and --rules (local errors: the file's content).
Result<std::vector<chaos::FaultSpec>> collect_faults(const ChaosOptions& opt) {
  const auto mode = opt.tcp ? chaos::ProxyMode::tcp : chaos::ProxyMode::grpc;
  std::vector<chaos::FaultSpec> specs;
  for (const auto& text : opt.faults) {
    auto spec = chaos::parse_fault_spec(text, mode);
    if (!spec) return std::unexpected(spec.error().with_context(fmt::format("invalid --fault '{}'", text)));
    specs.push_back(std::move(*spec));
  }
  if (!opt.rules.empty()) {
    TRY(auto text, net::read_file(opt.rules, "rules file"));
    TRY(auto rules, chaos::parse_rules(text, opt.rules, mode));
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

// Waits until a stop signal or the end of `duration`, refreshing a one-line summary on stderr
// once a second when it is a terminal (nothing is written there otherwise, so logs stay clean).
void wait_for_stop(StopSignals& stop, std::mutex& mutex, std::condition_variable& stop_cv,
                   std::optional<Duration> duration, Io& io, const std::function<chaos::CountersSnapshot()>& counters) {
  std::unique_lock lock(mutex);
  auto stopped = [&] { return stop.stopped(); };
  auto until = duration ? std::chrono::steady_clock::now() + *duration : std::chrono::steady_clock::time_point::max();
  while (!stopped() && std::chrono::steady_clock::now() < until) {
    auto next = std::min(until, std::chrono::steady_clock::now() + std::chrono::seconds(1));
    stop_cv.wait_until(lock, next, stopped);
    if (io.err_is_tty) io.err << "\r" << chaos::live_summary(counters()) << "\x1b[K" << std::flush;
  }
  if (io.err_is_tty) io.err << "\r\x1b[K" << std::flush;
}

void print_counters(const ChaosOptions& opt, const chaos::CountersSnapshot& counts, Io& io) {
  if (opt.output == "json")
    io.out << report::json_line(chaos::counters_json(counts)) << std::endl;
  else
    io.out << chaos::counters_table(counts) << std::flush;
}

// The flags of the gRPC proxy that mean nothing to a byte-level proxy: refused under --tcp, so a
// run never silently ignores what the user asked for. --plaintext is accepted: it is what the
// TCP proxy does anyway (TLS, if any, passes through it end to end).
Result<void> check_tcp_flags(const ChaosOptions& opt) {
  const auto& c = opt.conn;
  const std::pair<bool, const char*> l7_only[] = {
      {!opt.listen_cert.empty(), "--listen-cert"}, {!opt.listen_key.empty(), "--listen-key"},
      {opt.header_faults, "--header-faults"},      {c.insecure, "--insecure"},
      {!c.cacert.empty(), "--cacert"},             {!c.cert.empty(), "--cert"},
      {!c.key.empty(), "--key"},                   {!c.servername.empty(), "--servername"},
      {!c.authority.empty(), "--authority"},       {!c.headers.empty(), "--header"},
      {!c.timeout.empty(), "--timeout"},           {!c.keepalive.empty(), "--keepalive"},
      {!c.max_msg_size.empty(), "--max-msg-size"}, {!opt.emit.empty(), "--emit"}};
  for (const auto& [given, flag] : l7_only)
    if (given)
      return usage_error(fmt::format("{} does not apply to --tcp: the TCP proxy forwards bytes without looking at "
                                     "them (TLS passes through it end to end)",
                                     flag));
  return {};
}

// A proxy holding a thousand connections needs two descriptors each: raise the soft limit to the
// hard one (best effort; accept() backs off when it still runs out).
void raise_descriptor_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

Result<int> run_tcp(const ChaosOptions& opt, std::vector<chaos::FaultSpec> faults, Io& io) {
  chaos::TcpProxyOptions p;
  p.listen = opt.listen;
  p.target = opt.conn.target;
  TRY(p.connect_timeout, parse_flag_duration(opt.conn.connect_timeout, "--connect-timeout"));
  std::optional<Duration> duration;
  if (!opt.duration.empty()) {
    TRY(duration, parse_flag_duration(opt.duration, "--duration"));
  }
  p.faults = std::move(faults);
  if (opt.max_active > 0) p.max_active = opt.max_active;
  p.seed = opt.seed ? *opt.seed : std::random_device{}();
  raise_descriptor_limit();

  // Stop signals are blocked before the proxy starts its thread (it inherits the mask).
  std::mutex mutex;
  std::condition_variable stop_cv;
  StopSignals stop([&](int) {
    std::lock_guard lock(mutex);
    stop_cv.notify_all();
  });
  TRY(auto proxy, chaos::TcpProxy::start(p));
  io.out << proxy->address() << std::endl;
  io.err << fmt::format("grpcdx chaos: TCP proxy listening on {}, forwarding to {}; {} fault{}, seed {}. Stop with "
                        "Ctrl-C or SIGTERM.\n",
                        proxy->address(), opt.conn.target, p.faults.size(), p.faults.size() == 1 ? "" : "s", p.seed)
         << std::flush;
  wait_for_stop(stop, mutex, stop_cv, duration, io, [&] { return proxy->counters(); });
  proxy->stop();
  print_counters(opt, proxy->counters(), io);
  return k_exit_ok;
}

Result<int> run_chaos(const ChaosOptions& opt, Io& io) {
  if (opt.tcp) TRY_VOID(check_tcp_flags(opt));
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
  if (opt.tcp) return run_tcp(opt, std::move(faults), io);
  TRY(auto upstream, to_connection_options(opt.conn));
  std::optional<Duration> duration;
  if (!opt.duration.empty()) {
    TRY(duration, parse_flag_duration(opt.duration, "--duration"));
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
  wait_for_stop(stop, mutex, stop_cv, duration, io, [&] { return proxy->counters(); });
  proxy->stop(k_grace);
  auto counts = proxy->counters();
  proxy.reset();
  print_counters(opt, counts, io);
  return k_exit_ok;
}

}  // namespace

void register_chaos(CLI::App& app, CommandSlot& slot) {
  auto opt = std::make_shared<ChaosOptions>();
  opt->conn.default_max_msg_size = 0;  // the proxy passes what its two ends accept
  auto* cmd = app.add_subcommand("chaos",
                                 "Run a gRPC proxy that injects faults (delay, abort, cancel, reset, stall, drop), or "
                                 "with --tcp a TCP proxy (latency, bandwidth, reset, blackhole, slice, close)");
  cmd->add_option("--listen", opt->listen,
                  "Address to accept calls on: host:port ('127.0.0.1:0' picks a free port), [v6addr]:port or "
                  "unix:/path; printed as the first line of stdout");
  add_upstream_flags(cmd, opt->conn);
  cmd->add_option("--listen-cert", opt->listen_cert, "Serve TLS downstream with this certificate chain (PEM)");
  cmd->add_option("--listen-key", opt->listen_key, "Private key (PEM) of --listen-cert");
  cmd->add_option("--fault", opt->faults,
                  "A fault: delay=DUR[,jitter=DUR] | abort=CODE[,message=TEXT] | cancel[,after=N|DUR] | "
                  "reset[,after=N] | stall[,after=N] | drop; keys pct=P, method=GLOB, header=key:value, limit=N. "
                  "Under --tcp: latency=DUR[,jitter=DUR] | bandwidth=BYTES/s | reset[,after=BYTES] | blackhole | "
                  "slice=BYTES[,delay=DUR] | close[,after=DUR]; keys pct=P, dir=up|down|both, limit=N (repeatable)")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--rules", opt->rules, "Read faults from this JSON file: {\"faults\": [{\"kind\": \"abort\", ...}]}");
  cmd->add_flag("--header-faults", opt->header_faults,
                "Let a call ask for its own fault with x-grpcdx-delay: DUR or x-grpcdx-abort: CODE metadata");
  cmd->add_flag("--tcp", opt->tcp,
                "Be a byte-level TCP proxy (no gRPC parsing; TLS passes through) with connection faults, decided "
                "per connection");
  cmd->add_option("--max-active", opt->max_active, "At most N calls (--tcp: connections) under a fault at once")
      ->transform(whole_number(1, 1'000'000));
  cmd->add_option("--seed", opt->seed, "Seed of the random choices, so a run repeats (default: random, printed)")
      ->transform(whole_number(0, UINT64_MAX));
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
