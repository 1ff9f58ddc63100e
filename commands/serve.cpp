// `grpcdx serve`: run the built-in test server (TestService, health, reflection) until
// SIGINT/SIGTERM. The first line of stdout is the address it listens on.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "commands/command.hpp"
#include "commands/common_flags.hpp"
#include "core/duration.hpp"
#include "core/stop_signals.hpp"
#include "report/json_line.hpp"
#include "server/server.hpp"

namespace grpcdx::commands {

namespace {

// How long running calls may go on after a stop signal before they are cancelled.
constexpr std::chrono::milliseconds k_grace{1000};

struct ServeOptions {
  server::ServerOptions server;
  std::string reflection = "v1,v1alpha";
  bool no_health = false;
  std::string output = "text";
  std::vector<std::string> health_statuses;  // SERVICE=STATUS
  std::string keepalive_min_time, max_connection_idle, max_connection_age, max_connection_age_grace;
};

// A connection-management duration flag as whole milliseconds; empty leaves gRPC's default.
// Fails (usage) on a bad or zero duration.
Result<std::optional<std::chrono::milliseconds>> connection_limit(const char* flag, const std::string& text) {
  if (text.empty()) return std::nullopt;
  TRY(auto d, parse_flag_duration(text, flag));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d);
  if (ms.count() <= 0) return usage_error(fmt::format("invalid {} '{}': must be at least 1ms", flag, text));
  return ms;
}

// Parses --health-status SERVICE=STATUS ("=NOT_SERVING" is the whole server). Fails (usage).
Result<std::pair<std::string, server::ServingStatus>> parse_health_status(const std::string& text) {
  auto eq = text.find('=');
  std::string status = eq == std::string::npos ? "" : text.substr(eq + 1);
  if (status == "SERVING") return std::pair{text.substr(0, eq), server::ServingStatus::serving};
  if (status == "NOT_SERVING") return std::pair{text.substr(0, eq), server::ServingStatus::not_serving};
  if (status == "UNKNOWN") return std::pair{text.substr(0, eq), server::ServingStatus::unknown};
  return usage_error(fmt::format("invalid --health-status '{}': expected SERVICE=SERVING|NOT_SERVING|UNKNOWN "
                                 "(an empty SERVICE is the whole server)",
                                 text));
}

// Turns the --reflection value into the two switches. Fails (usage) on anything else.
Result<void> apply_reflection(const std::string& value, server::ServerOptions& o) {
  o.reflection_v1 = o.reflection_v1alpha = false;
  if (value == "none") return {};
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    std::string part = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (part == "v1")
      o.reflection_v1 = true;
    else if (part == "v1alpha")
      o.reflection_v1alpha = true;
    else
      return usage_error(fmt::format("invalid --reflection '{}': use v1,v1alpha, v1, v1alpha or none", value));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return {};
}

std::string security_label(const server::ServerOptions& o) {
  if (o.tls_cert.empty()) return "plaintext";
  return o.client_ca.empty() ? "TLS" : "TLS, client certificates required";
}

}  // namespace

// Runs the server until SIGINT/SIGTERM, then stops it gracefully. Fails (usage) on bad flag
// combinations, (local) when a TLS file cannot be read or the address cannot be bound.
Result<int> run_serve(const ServeOptions& options, Io& io) {
  ServeOptions opt = options;
  if (opt.server.tls_cert.empty() != opt.server.tls_key.empty())
    return usage_error("--tls-cert and --tls-key go together: give both");
  if (!opt.server.client_ca.empty() && opt.server.tls_cert.empty())
    return usage_error("--client-ca needs TLS: give --tls-cert and --tls-key too");
  TRY_VOID(apply_reflection(opt.reflection, opt.server));
  TRY(opt.server.keepalive_min_time, connection_limit("--keepalive-min-time", opt.keepalive_min_time));
  TRY(opt.server.max_connection_idle, connection_limit("--max-connection-idle", opt.max_connection_idle));
  TRY(opt.server.max_connection_age, connection_limit("--max-connection-age", opt.max_connection_age));
  TRY(opt.server.max_connection_age_grace,
      connection_limit("--max-connection-age-grace", opt.max_connection_age_grace));
  opt.server.health = !opt.no_health;
  std::vector<std::pair<std::string, server::ServingStatus>> health_statuses;
  for (const auto& h : opt.health_statuses) {
    TRY(auto parsed, parse_health_status(h));
    health_statuses.push_back(parsed);
  }
  if (!health_statuses.empty() && opt.no_health)
    return usage_error("--health-status needs the health service: drop --no-health");
  if (auto checked = server::check_listen_address(opt.server.listen); !checked) {
    Error e = checked.error();
    e.kind = ErrorKind::usage;
    return std::unexpected(e);
  }

  // Stop signals are blocked before gRPC starts its threads (they inherit the mask).
  std::mutex mutex;
  std::condition_variable stop_cv;
  StopSignals stop([&](int) {
    std::lock_guard lock(mutex);
    stop_cv.notify_all();
  });

  TRY(auto started, server::start_server(opt.server));
  auto& srv = *started;
  for (const auto& [service, status] : health_statuses) srv.set_health(service, status);

  if (opt.output == "json") {
    io.out << report::json_line({{"address", srv.address()},
                                 {"tls", srv.tls()},
                                 {"client_auth", !opt.server.client_ca.empty()},
                                 {"services", srv.services()}})
           << std::endl;
  } else {
    io.out << srv.address() << std::endl;
  }
  std::string names;
  for (const auto& s : srv.services()) names += (names.empty() ? "" : ", ") + s;
  io.err << fmt::format("grpcdx serve: listening on {} ({}); serving {}. Stop with Ctrl-C or SIGTERM.\n",
                        srv.address(), security_label(opt.server), names)
         << std::flush;

  {
    std::unique_lock lock(mutex);
    stop_cv.wait(lock, [&] { return stop.stopped(); });
  }
  io.err << fmt::format("grpcdx serve: {} received, stopping\n", stop.signal_number() == SIGINT ? "SIGINT" : "SIGTERM")
         << std::flush;
  srv.shutdown(k_grace);
  srv.wait();
  started.reset();
  return 0;
}

void register_serve(CLI::App& app, CommandSlot& slot) {
  auto opt = std::make_shared<ServeOptions>();
  auto* cmd = app.add_subcommand(
      "serve", "Run the built-in test server: grpc.testing.TestService, health and reflection");
  cmd->add_option("--listen", opt->server.listen,
                  "Address to listen on: host:port ('127.0.0.1:0' picks a free port), [v6addr]:port or unix:/path")
      ->capture_default_str();
  cmd->add_option("--tls-cert", opt->server.tls_cert, "Serve TLS with this certificate chain (PEM)");
  cmd->add_option("--tls-key", opt->server.tls_key, "Private key (PEM) of --tls-cert");
  cmd->add_option("--client-ca", opt->server.client_ca,
                  "Demand client certificates and verify them against this CA bundle (PEM)");
  cmd->add_option("--reflection", opt->reflection, "Reflection versions to serve: v1,v1alpha, v1, v1alpha or none")
      ->capture_default_str();
  cmd->add_flag("--no-health", opt->no_health, "Do not serve grpc.health.v1.Health");
  cmd->add_option("--health-status", opt->health_statuses,
                  "Start with this health status: SERVICE=SERVING|NOT_SERVING|UNKNOWN ('=NOT_SERVING' is the "
                  "whole server; repeatable)")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--keepalive-min-time", opt->keepalive_min_time,
                  "Refuse client PINGs more often than this (GOAWAY ENHANCE_YOUR_CALM too_many_pings after 2 "
                  "strikes; default 5m, 2h with no call open unless --keepalive-permit-without-stream)")
      ->type_name("DUR");
  cmd->add_flag("--keepalive-permit-without-stream", opt->server.keepalive_permit_without_stream,
                "Take client PINGs while no call is open, at --keepalive-min-time");
  cmd->add_option("--max-connection-idle", opt->max_connection_idle,
                  "Close a connection with no call open for this long (GOAWAY)")
      ->type_name("DUR");
  cmd->add_option("--max-connection-age", opt->max_connection_age,
                  "Close every connection at this age (GOAWAY), whatever runs on it")
      ->type_name("DUR");
  cmd->add_option("--max-connection-age-grace", opt->max_connection_age_grace,
                  "After --max-connection-age, give open calls this long before the connection is closed")
      ->type_name("DUR");
  cmd->add_option("-o,--output", opt->output,
                  "Output format: text prints the address as the first line, json a JSON object")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->callback([&slot, opt] { slot.run = [opt](Io& io) { return run_serve(*opt, io); }; });
}

}  // namespace grpcdx::commands
