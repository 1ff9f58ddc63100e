// `grpcdx serve`: run the built-in test server (TestService, health, reflection) until
// SIGINT/SIGTERM. The first line of stdout is the address it listens on.
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <string>

#include <fmt/format.h>

#include "commands/command.hpp"
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
};

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
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
  opt.server.health = !opt.no_health;

  // Block the stop signals before gRPC starts its threads (they inherit the mask), so only
  // sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigset_t old_mask;
  pthread_sigmask(SIG_BLOCK, &stop_signals, &old_mask);

  auto started = server::start_server(opt.server);
  if (!started) {
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    return std::unexpected(started.error());
  }
  auto& srv = **started;

  if (opt.output == "json") {
    std::string services;
    for (const auto& s : srv.services()) services += (services.empty() ? "" : ",") + json_string(s);
    io.out << fmt::format("{{\"address\":{},\"tls\":{},\"client_auth\":{},\"services\":[{}]}}",
                          json_string(srv.address()), srv.tls(), !opt.server.client_ca.empty(), services)
           << std::endl;
  } else {
    io.out << srv.address() << std::endl;
  }
  std::string names;
  for (const auto& s : srv.services()) names += (names.empty() ? "" : ", ") + s;
  io.err << fmt::format("grpcdx serve: listening on {} ({}); serving {}. Stop with Ctrl-C or SIGTERM.\n",
                        srv.address(), security_label(opt.server), names)
         << std::flush;

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  io.err << fmt::format("grpcdx serve: {} received, stopping\n", signal_number == SIGINT ? "SIGINT" : "SIGTERM")
         << std::flush;
  srv.shutdown(k_grace);
  srv.wait();
  started->reset();
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
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
  cmd->add_option("-o,--output", opt->output,
                  "Output format: text prints the address as the first line, json a JSON object")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->callback([&slot, opt] { slot.run = [opt](Io& io) { return run_serve(*opt, io); }; });
}

}  // namespace grpcdx::commands
