// `grpcdx chaos --listen ADDR --target TARGET [--fault SPEC ...]`: the fault-injecting gRPC proxy,
// the byte-level TCP proxy with --tcp, and `--emit istio|envoy` to print the same faults as mesh
// configuration.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <random>

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include "chaos/admin_client.hpp"
#include "chaos/admin_service.hpp"
#include "chaos/emit.hpp"
#include "chaos/fault_spec.hpp"
#include "chaos/plan.hpp"
#include "chaos/proxy.hpp"
#include "chaos/tcp_proxy.hpp"
#include "commands/command.hpp"
#include "commands/common_flags.hpp"
#include "commands/error_output.hpp"
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
  std::string admin;
  std::string admin_token;
};

// The environment variable that gives the admin token when --admin-token does not.
constexpr const char* k_admin_token_env = "GRPCDX_ADMIN_TOKEN";

std::string admin_token(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv(k_admin_token_env);
  return env ? env : "";
}

// The faults of --rules (local errors: the file's content).
Result<std::vector<chaos::FaultSpec>> read_rules(const ChaosOptions& opt) {
  const auto mode = opt.tcp ? chaos::ProxyMode::tcp : chaos::ProxyMode::grpc;
  TRY(auto text, net::read_file(opt.rules, "rules file"));
  return chaos::parse_rules(text, opt.rules, mode);
}

// The faults of --fault (usage errors) and --rules, each list on its own (a SIGHUP replaces the
// second).
Result<std::pair<std::vector<chaos::FaultSpec>, std::vector<chaos::FaultSpec>>> collect_faults(const ChaosOptions& opt) {
  const auto mode = opt.tcp ? chaos::ProxyMode::tcp : chaos::ProxyMode::grpc;
  std::vector<chaos::FaultSpec> specs;
  for (const auto& text : opt.faults) {
    auto spec = chaos::parse_fault_spec(text, mode);
    if (!spec) return std::unexpected(spec.error().with_context(fmt::format("invalid --fault '{}'", text)));
    specs.push_back(std::move(*spec));
  }
  std::vector<chaos::FaultSpec> rules;
  if (!opt.rules.empty()) {
    TRY(auto read, read_rules(opt));
    rules = std::move(read);
  }
  return std::pair{std::move(specs), std::move(rules)};
}

// What a running proxy needs besides itself: the admin server (--admin) and the rules reload on
// SIGHUP. Lives while the proxy runs.
class Control {
 public:
  Control(const ChaosOptions& opt, Io& io) : m_opt(opt), m_io(io) {}

  // Starts the admin server over `injector` when --admin is given, and says where on stderr.
  Result<void> start(chaos::Injector& injector) {
    m_injector = &injector;
    if (m_opt.admin.empty()) return {};
    const chaos::AdminOptions admin{m_opt.admin, admin_token(m_opt.admin_token), /*proxy_polls=*/!m_opt.tcp};
    TRY(m_admin, chaos::AdminServer::start(admin, injector));
    m_io.err << fmt::format("grpcdx chaos: admin service grpcdx.chaos.v1.ChaosAdmin on {}{}\n", m_admin->address(),
                            admin_token(m_opt.admin_token).empty() ? "" : " (token required)")
             << std::flush;
    return {};
  }

  // Asks for the rules to be re-read on the next turn of the wait loop (from the signal thread).
  void request_reload() { m_reload = true; }

  // Re-reads --rules when asked: on success the rules' faults are replaced; on failure the faults
  // in force stay and one error line says why.
  void reload_if_requested() {
    if (!m_reload.exchange(false) || !m_injector) return;
    auto rules = read_rules(m_opt);
    if (!rules) {
      Error e = rules.error();
      e.message += " (kept the faults in force)";
      print_error(m_io.err, e);
      m_io.err << std::flush;
      return;
    }
    size_t n = rules->size();
    if (auto replaced = m_injector->replace_faults(chaos::FaultOrigin::rules, std::move(*rules)); !replaced) {
      Error e = replaced.error().with_context(fmt::format("cannot apply {}", m_opt.rules));
      e.message += " (kept the faults in force)";
      print_error(m_io.err, e);
      m_io.err << std::flush;
      return;
    }
    m_io.err << fmt::format("grpcdx chaos: re-read {}: {} fault{}\n", m_opt.rules, n, n == 1 ? "" : "s") << std::flush;
  }

  bool reload_pending() const { return m_reload.load(); }

  void stop() {
    if (m_admin) m_admin->stop();
  }

 private:
  const ChaosOptions& m_opt;
  Io& m_io;
  chaos::Injector* m_injector = nullptr;
  std::unique_ptr<chaos::AdminServer> m_admin;
  std::atomic<bool> m_reload{false};
};

// The SIGHUP handler: with --rules, ask for a reload and wake the wait loop; without, none (a
// SIGHUP then stops the proxy as SIGTERM does: StopSignals::Hangup::stops).
std::function<void()> on_hangup(const ChaosOptions& opt, Control& control, const std::function<void()>& wake) {
  if (opt.rules.empty()) return {};
  return [&control, wake] {
    control.request_reload();
    wake();
  };
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
// once a second when it is a terminal (nothing is written there otherwise, so logs stay clean),
// and re-reading the rules when a SIGHUP asked for it.
void wait_for_stop(StopSignals& stop, std::mutex& mutex, std::condition_variable& stop_cv,
                   std::optional<Duration> duration, Io& io, const std::function<chaos::CountersSnapshot()>& counters,
                   Control& control) {
  std::unique_lock lock(mutex);
  auto woken = [&] { return stop.stopped() || control.reload_pending(); };
  auto until = duration ? std::chrono::steady_clock::now() + *duration : std::chrono::steady_clock::time_point::max();
  while (!stop.stopped() && std::chrono::steady_clock::now() < until) {
    auto next = std::min(until, std::chrono::steady_clock::now() + std::chrono::seconds(1));
    stop_cv.wait_until(lock, next, woken);
    if (control.reload_pending()) {
      if (io.err_is_tty) io.err << "\r\x1b[K";
      control.reload_if_requested();
    }
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

Result<int> run_tcp(const ChaosOptions& opt, std::vector<chaos::FaultSpec> faults, std::vector<chaos::FaultSpec> rules,
                    Io& io) {
  chaos::TcpProxyOptions p;
  p.listen = opt.listen;
  p.target = opt.conn.target;
  TRY(p.connect_timeout, parse_flag_duration(opt.conn.connect_timeout, "--connect-timeout"));
  std::optional<Duration> duration;
  if (!opt.duration.empty()) {
    TRY(duration, parse_flag_duration(opt.duration, "--duration"));
  }
  p.faults = std::move(faults);
  p.rules = std::move(rules);
  if (opt.max_active > 0) p.max_active = opt.max_active;
  p.seed = opt.seed ? *opt.seed : std::random_device{}();
  const size_t fault_count = p.faults.size() + p.rules.size();
  raise_descriptor_limit();

  // Stop signals are blocked before the proxy starts its thread (it inherits the mask).
  std::mutex mutex;
  std::condition_variable stop_cv;
  Control control(opt, io);
  auto wake = [&] {
    std::lock_guard lock(mutex);
    stop_cv.notify_all();
  };
  StopSignals stop([&](int) { wake(); }, on_hangup(opt, control, wake), StopSignals::Hangup::stops);
  TRY(auto proxy, chaos::TcpProxy::start(p));
  io.out << proxy->address() << std::endl;
  io.err << fmt::format("grpcdx chaos: TCP proxy listening on {}, forwarding to {}; {} fault{}, seed {}. Stop with "
                        "Ctrl-C or SIGTERM.\n",
                        proxy->address(), opt.conn.target, fault_count, fault_count == 1 ? "" : "s", p.seed)
         << std::flush;
  TRY_VOID(control.start(proxy->injector()));
  wait_for_stop(stop, mutex, stop_cv, duration, io, [&] { return proxy->counters(); }, control);
  control.stop();
  proxy->stop();
  print_counters(opt, proxy->counters(), io);
  return k_exit_ok;
}

Result<int> run_chaos(const ChaosOptions& opt, Io& io) {
  if (opt.tcp) TRY_VOID(check_tcp_flags(opt));
  TRY(auto collected, collect_faults(opt));
  auto [faults, rules] = std::move(collected);
  if (!opt.emit.empty()) {
    for (auto& r : rules) faults.push_back(std::move(r));
    return run_emit(opt, std::move(faults), io);
  }
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
  if (!opt.admin.empty()) {
    if (auto checked = server::check_listen_address(opt.admin); !checked) {
      Error e = checked.error().with_context("invalid --admin");
      e.kind = ErrorKind::usage;
      return std::unexpected(e);
    }
    if (!chaos::is_local_admin_address(opt.admin) && admin_token(opt.admin_token).empty())
      return usage_error(
          fmt::format("--admin {} is reachable from other machines: give --admin-token TOKEN (or set {}), or use a "
                      "loopback or unix: address",
                      opt.admin, k_admin_token_env),
          "whoever reaches the admin port can break every call through the proxy");
  } else if (!opt.admin_token.empty()) {
    return usage_error("--admin-token needs --admin ADDR (the admin service's address)");
  }
  if (opt.tcp) return run_tcp(opt, std::move(faults), std::move(rules), io);
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
  const size_t fault_count = faults.size() + rules.size();
  p.faults = std::move(faults);
  p.rules = std::move(rules);
  p.header_faults = opt.header_faults;
  if (opt.max_active > 0) p.max_active = opt.max_active;
  p.seed = opt.seed ? *opt.seed : std::random_device{}();

  // Stop signals are blocked before gRPC starts its threads (they inherit the mask).
  std::mutex mutex;
  std::condition_variable stop_cv;
  Control control(opt, io);
  auto wake = [&] {
    std::lock_guard lock(mutex);
    stop_cv.notify_all();
  };
  StopSignals stop([&](int) { wake(); }, on_hangup(opt, control, wake), StopSignals::Hangup::stops);
  TRY(auto proxy, chaos::Proxy::start(p));
  io.out << proxy->address() << std::endl;
  io.err << fmt::format("grpcdx chaos: listening on {}{}, forwarding to {}; {} fault{}{}, seed {}. Stop with Ctrl-C or "
                        "SIGTERM.\n",
                        proxy->address(), opt.listen_cert.empty() ? "" : " (TLS)", upstream.target.original,
                        fault_count, fault_count == 1 ? "" : "s",
                        opt.header_faults ? " (and header faults)" : "", p.seed)
         << std::flush;
  TRY_VOID(control.start(proxy->injector()));
  wait_for_stop(stop, mutex, stop_cv, duration, io, [&] { return proxy->counters(); }, control);
  control.stop();
  proxy->stop(k_grace);
  auto counts = proxy->counters();
  proxy.reset();
  print_counters(opt, counts, io);
  return k_exit_ok;
}

// `grpcdx chaos ctl ADMIN_ADDR list|add SPEC|rm ID|clear|counters [--reset]`.
struct CtlOptions {
  std::string admin;
  std::string verb;
  std::string arg;
  bool reset = false;
  std::string admin_token;
  std::string output = "text";
  std::string timeout = "10s";
};

Result<int> run_ctl(const CtlOptions& opt, Io& io) {
  chaos::AdminRequest req;
  const bool takes_arg = opt.verb == "add" || opt.verb == "rm";
  if (takes_arg && opt.arg.empty())
    return usage_error(opt.verb == "add" ? "chaos ctl add needs a fault SPEC (e.g. 'abort=UNAVAILABLE,pct=30')"
                                         : "chaos ctl rm needs a fault ID (see chaos ctl ADDR list)");
  if (!takes_arg && !opt.arg.empty())
    return usage_error(fmt::format("chaos ctl {} takes no argument (got '{}')", opt.verb, opt.arg));
  if (opt.reset && opt.verb != "counters") return usage_error("--reset goes with chaos ctl counters");
  if (opt.verb == "list") req.verb = chaos::AdminVerb::list;
  else if (opt.verb == "add") req.verb = chaos::AdminVerb::add;
  else if (opt.verb == "rm") req.verb = chaos::AdminVerb::remove;
  else if (opt.verb == "clear") req.verb = chaos::AdminVerb::clear;
  else req.verb = opt.reset ? chaos::AdminVerb::reset_counters : chaos::AdminVerb::counters;
  req.arg = opt.arg;
  req.token = admin_token(opt.admin_token);
  ConnectionFlags flags;
  flags.target = opt.admin;
  flags.plaintext = true;
  flags.timeout = opt.timeout;
  TRY(req.conn, to_connection_options(flags, "10s"));
  req.conn.own_subchannels = false;
  TRY(auto answer, chaos::call_admin(req));

  if (opt.output == "json") {
    if (req.verb == chaos::AdminVerb::counters || req.verb == chaos::AdminVerb::reset_counters) {
      io.out << answer.counters_json << std::endl;
      return k_exit_ok;
    }
    std::string json;
    google::protobuf::util::JsonPrintOptions print;
    print.always_print_primitive_fields = true;
    (void)google::protobuf::util::MessageToJsonString(*answer.message, &json, print);
    io.out << json << std::endl;
    return k_exit_ok;
  }
  switch (req.verb) {
    case chaos::AdminVerb::list: {
      if (answer.faults.empty()) {
        io.out << "no faults\n";
        break;
      }
      size_t width = 2;
      for (const auto& f : answer.faults) width = std::max(width, f.id.size());
      io.out << fmt::format("{:<{}}  {:>8}  {:>8}  {}\n", "id", width, "matched", "injected", "spec");
      for (const auto& f : answer.faults)
        io.out << fmt::format("{:<{}}  {:>8}  {:>8}  {}\n", f.id, width, f.matched, f.injected, f.spec);
      break;
    }
    case chaos::AdminVerb::add: io.out << fmt::format("{}  {}\n", answer.faults.at(0).id, answer.faults.at(0).spec); break;
    case chaos::AdminVerb::remove: io.out << fmt::format("removed {}\n", opt.arg); break;
    case chaos::AdminVerb::clear: io.out << "cleared\n"; break;
    case chaos::AdminVerb::counters:
    case chaos::AdminVerb::reset_counters: {
      auto parsed = nlohmann::ordered_json::parse(answer.counters_json, nullptr, false);
      io.out << (parsed.is_discarded() ? answer.counters_json : parsed.dump(2)) << "\n";
      break;
    }
  }
  io.out << std::flush;
  return k_exit_ok;
}

}  // namespace

void register_chaos(CLI::App& app, CommandSlot& slot) {
  auto opt = std::make_shared<ChaosOptions>();
  opt->conn.default_max_msg_size = 0;  // the proxy passes what its two ends accept
  auto* cmd = app.add_subcommand("chaos",
                                 "Run a gRPC proxy that injects faults (delay, abort, cancel, reset, stall, drop), or "
                                 "with --tcp a TCP proxy (latency, bandwidth, reset, blackhole, slice, close, slow_close, loss); --admin changes "
                                 "faults while it runs");
  cmd->add_option("--listen", opt->listen,
                  "Address to accept calls on: host:port ('127.0.0.1:0' picks a free port), [v6addr]:port or "
                  "unix:/path; printed as the first line of stdout");
  add_upstream_flags(cmd, opt->conn);
  cmd->add_option("--listen-cert", opt->listen_cert, "Serve TLS downstream with this certificate chain (PEM)");
  cmd->add_option("--listen-key", opt->listen_key, "Private key (PEM) of --listen-cert");
  cmd->add_option("--fault", opt->faults,
                  "A fault: delay=DUR[,jitter=DUR] | abort=CODE[,message=TEXT] | cancel[,after=N|DUR] | "
                  "reset[,after=N] | stall[,after=N] | drop; keys pct=P, method=GLOB, header=key:value, limit=N. "
                  "Under --tcp: latency=DUR[,jitter=DUR] | bandwidth=BYTES/s | reset[,after=BYTES|DUR] | "
                  "blackhole[,after=DUR] | slice=BYTES[,delay=DUR] | close[,after=DUR|BYTES] | slow_close=DUR | loss=P "
                  "(kernel packet loss: needs CAP_NET_ADMIN); keys pct=P, dir=up|down|both (default down for latency, "
                  "bandwidth and slice), limit=N (repeatable)")
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
  cmd->add_option("--admin", opt->admin,
                  "Serve grpcdx.chaos.v1.ChaosAdmin (with reflection and health) on this address, to list, add and "
                  "remove faults while the proxy runs; a non-loopback address needs --admin-token");
  cmd->add_option("--admin-token", opt->admin_token,
                  "Admin calls must send 'authorization: Bearer TOKEN' (default: $GRPCDX_ADMIN_TOKEN)");

  auto ctl = std::make_shared<CtlOptions>();
  auto* ctl_cmd = cmd->add_subcommand(
      "ctl", "Change a running proxy's faults through its --admin service: list, add SPEC, rm ID, clear, counters");
  ctl_cmd->add_option("admin", ctl->admin, "The proxy's --admin address")->required();
  ctl_cmd->add_option("verb", ctl->verb, "list | add SPEC | rm ID | clear | counters [--reset]")
      ->required()
      ->check(CLI::IsMember({"list", "add", "rm", "clear", "counters"}));
  ctl_cmd->add_option("arg", ctl->arg, "add: the fault SPEC (the --fault form); rm: the fault ID");
  ctl_cmd->add_flag("--reset", ctl->reset, "counters: set them to zero, printing them as they were");
  ctl_cmd->add_option("--admin-token", ctl->admin_token,
                      "Send 'authorization: Bearer TOKEN' (default: $GRPCDX_ADMIN_TOKEN)");
  ctl_cmd->add_option("--timeout", ctl->timeout, "Deadline of the call")->capture_default_str();
  ctl_cmd->add_option("-o,--output", ctl->output, "text, or json: the answer in protobuf's JSON mapping")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  ctl_cmd->callback([ctl, &slot] { slot.run = [ctl](Io& io) { return run_ctl(*ctl, io); }; });

  cmd->callback([opt, ctl_cmd, &slot] {
    if (ctl_cmd->parsed()) return;  // `chaos ctl` set its own run
    slot.run = [opt](Io& io) { return run_chaos(*opt, io); };
  });
}

}  // namespace grpcdx::commands
