// `grpcdx conn TARGET`: hold one HTTP/2 connection for --for and name what ends it (a refused
// keepalive, an idle or age limit, a close, a reset, a dead path), one line an event as it happens.
#include <cmath>

#include <fmt/format.h>

#include "commands/command.hpp"
#include "commands/common_flags.hpp"
#include "conn/hold.hpp"
#include "core/printable.hpp"
#include "core/stop_signals.hpp"
#include "h2/session.hpp"
#include "report/json_line.hpp"
#include "rpc/status_codes.hpp"

namespace grpcdx::commands {

namespace {

struct ConnOptions {
  ConnectionFlags conn;
  OutputFlags output;
  std::string hold_for = "5m";
  std::string keepalive_timeout = "20s";
  bool stream = false;
  std::string rpc_every;
};

using json = nlohmann::ordered_json;

double rounded_ms(Duration d) { return std::round(to_ms(d) * 1000) / 1000; }

json happening_json(const conn::Happening& h) {
  using K = conn::Happening::Kind;
  json j;
  switch (h.kind) {
    case K::connected:
      j = json{{"event", "connected"}, {"t_ms", 0}, {"address", h.address}, {"alpn", h.alpn}};
      break;
    case K::settings: {
      json settings = json::object();
      for (const auto& [name, value] : h.settings) settings[name] = value;
      j = json{{"event", "settings"}, {"t_ms", rounded_ms(h.t)}, {"settings", settings}};
      break;
    }
    case K::ping: j = json{{"event", "ping"}, {"t_ms", rounded_ms(h.t)}, {"rtt_ms", rounded_ms(h.rtt)}}; break;
    case K::server_ping: j = json{{"event", "server_ping"}, {"t_ms", rounded_ms(h.t)}}; break;
    case K::rpc:
      j = json{{"event", "rpc"}, {"t_ms", rounded_ms(h.t)}, {"code", h.code}, {"method", h.method}};
      if (!h.message.empty()) j["message"] = h.message;
      break;
    case K::goaway:
      j = json{{"event", "goaway"},
               {"t_ms", rounded_ms(h.t)},
               {"error_code", h2::error_code_name(h.error_code)},
               {"last_stream_id", h.last_stream_id},
               {"debug", h.debug}};
      break;
    case K::closed: j = json{{"event", "closed"}, {"t_ms", rounded_ms(h.t)}, {"how", h.how}}; break;
  }
  return j;
}

std::string happening_text(const conn::Happening& h, const std::string& keepalive_timeout) {
  using K = conn::Happening::Kind;
  std::string what;
  switch (h.kind) {
    case K::connected:
      what = fmt::format("connected to {} ({})", h.address, h.alpn == "h2c" ? "plaintext HTTP/2" : "TLS, ALPN h2");
      break;
    case K::settings: {
      for (const auto& [name, value] : h.settings) what += fmt::format(" {}={}", name, value);
      what = "SETTINGS" + (what.empty() ? std::string(" (defaults)") : what);
      break;
    }
    case K::ping: what = fmt::format("PING answered in {:.1f} ms", to_ms(h.rtt)); break;
    case K::server_ping: what = "the server sent a PING (answered)"; break;
    case K::rpc:
      what = fmt::format("{}: {}", h.method, rpc::status_name(h.code));
      if (!h.message.empty()) what += ": " + h.message;
      break;
    case K::goaway:
      what = fmt::format("GOAWAY {}, last stream {}", h2::error_code_name(h.error_code), h.last_stream_id);
      if (!h.debug.empty()) what += fmt::format(", debug \"{}\"", h.debug);
      break;
    case K::closed:
      what = h.how == "fin"     ? "closed by the peer (FIN)"
             : h.how == "reset" ? "reset (TCP RST)"
                                : fmt::format("no answer to the PING within {}", keepalive_timeout);
      break;
  }
  return fmt::format("{:>9.3f} s  {}", std::chrono::duration<double>(h.t).count(), printable_line(what));
}

Result<int> run_conn(const ConnOptions& opt, Io& io) {
  TRY(auto connection, to_connection_options(opt.conn, "", io.err));
  conn::HoldOptions h;
  h.probe.conn = connection;
  h.probe.stage_timeout = connection.connect_timeout;
  if (h.probe.stage_timeout.count() <= 0)
    return usage_error(fmt::format("invalid --connect-timeout '{}': must be more than 0", opt.conn.connect_timeout));
  TRY(h.plan.hold_for, parse_flag_duration(opt.hold_for, "--for"));
  if (connection.keepalive) {
    TRY(auto k, parse_flag_duration(opt.conn.keepalive, "--keepalive"));
    h.plan.keepalive = k;
  }
  TRY(h.plan.keepalive_timeout, parse_flag_duration(opt.keepalive_timeout, "--keepalive-timeout"));
  if (!opt.rpc_every.empty()) {
    TRY(auto every, parse_flag_duration(opt.rpc_every, "--rpc-every"));
    h.plan.rpc_every = every;
  }
  h.plan.stream = opt.stream;
  const bool as_json = output_format(opt.output) == report::OutputFormat::json;

  if (!as_json) {
    std::string plan = "for " + opt.hold_for;
    if (h.plan.keepalive) plan += fmt::format(", PING every {} (answer within {})", opt.conn.keepalive, opt.keepalive_timeout);
    if (h.plan.stream) plan += ", a Health/Watch stream open";
    if (h.plan.rpc_every) plan += ", a Health/Check every " + opt.rpc_every;
    io.out << fmt::format("conn {}: holding one connection {}\n", printable_line(connection.target.original), plan)
           << std::flush;
  }
  StopSignals stop([](int) {});
  auto emit = [&](const conn::Happening& e) {
    if (e.kind == conn::Happening::Kind::server_ping && !opt.output.verbose) return;
    if (as_json) io.out << report::json_line(happening_json(e)) << std::endl;
    else io.out << happening_text(e, opt.keepalive_timeout) << std::endl;
  };
  TRY(auto result, conn::hold(h, emit, [&] { return stop.stopped(); }));

  std::string cls, summary, hint;
  int code = 0;
  Duration held{};
  int pings = 0;
  if (result.connect_failure) {
    cls = probe::class_name(result.connect_failure->cls);
    code = probe::exit_code(result.connect_failure->cls);
    summary = result.connect_failure->summary;
    hint = result.connect_failure->hint;
  } else {
    const conn::Verdict& v = result.verdict;
    cls = conn::class_name(v.cls);
    code = v.exit_code();
    summary = v.summary;
    hint = v.hint;
    held = v.held;
    pings = v.pings_sent;
  }
  if (as_json) {
    io.out << report::json_line(json{{"event", "verdict"},
                                     {"class", cls},
                                     {"exit_code", code},
                                     {"held_ms", rounded_ms(held)},
                                     {"pings_sent", pings},
                                     {"summary", summary},
                                     {"hint", hint}})
           << std::endl;
    return code;
  }
  const bool color = io.color_out;
  if (code == 0) {
    io.out << fmt::format("{}: {}\n", color ? "\033[1;32mheld\033[0m" : "held", printable_line(summary));
  } else {
    io.out << fmt::format("{} (exit {}): {}\n", color ? fmt::format("\033[1;31m{}\033[0m", cls) : cls, code,
                          printable_line(summary));
  }
  if (!hint.empty()) io.out << "hint: " << printable_line(hint) << "\n";
  io.out << std::flush;
  return code;
}

}  // namespace

void register_conn(CLI::App& app, CommandSlot& slot) {
  auto opt = std::make_shared<ConnOptions>();
  auto* cmd = app.add_subcommand("conn", "Hold one HTTP/2 connection and name what ends it (GOAWAY, close, reset, "
                                         "silence)");
  add_connection_flags(cmd, opt->conn);
  if (auto* keepalive = cmd->get_option_no_throw("--keepalive"))
    keepalive->description("Send an HTTP/2 PING every DUR (default: none)");
  if (auto* connect = cmd->get_option_no_throw("--connect-timeout"))
    connect->description("Bound of each step of connecting (dns, tcp, tls, http2)");
  // Flags of the shared group that mean nothing here: no reflection, no deadline or message
  // size for the health calls, nothing secret printed.
  for (const char* unused : {"--reflect-header", "--timeout", "--max-msg-size", "--show-secrets"})
    if (auto* option = cmd->get_option_no_throw(unused)) cmd->remove_option(option);
  add_output_flags(cmd, opt->output);
  if (auto* verbose = cmd->get_option_no_throw("--verbose"))
    verbose->description("Also show the PINGs the server sends (answered at once)");
  cmd->add_option("--for", opt->hold_for, "How long to hold the connection")->type_name("DUR")->capture_default_str();
  cmd->add_option("--keepalive-timeout", opt->keepalive_timeout,
                  "How long a PING may wait for its answer before the path counts as dead")
      ->type_name("DUR")
      ->capture_default_str();
  cmd->add_flag("--stream", opt->stream,
                "Keep one long-lived call (grpc.health.v1.Health/Watch) open on the connection during the hold");
  cmd->add_option("--rpc-every", opt->rpc_every, "Make a grpc.health.v1.Health/Check on the connection every DUR")
      ->type_name("DUR");
  cmd->callback([opt, &slot] { slot.run = [opt](Io& io) { return run_conn(*opt, io); }; });
}

}  // namespace grpcdx::commands
