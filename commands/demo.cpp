// `grpcdx demo`: starts the built-in server in-process on a free loopback port and walks
// through the commands against it, printing each equivalent command line before its output.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <fmt/format.h>

#include <vector>

#include "chaos/admin_service.hpp"
#include "chaos/fault_spec.hpp"
#include "chaos/proxy.hpp"
#include "chaos/tcp_proxy.hpp"
#include "commands/command.hpp"
#include "commands/common_flags.hpp"
#include "commands/error_output.hpp"
#include "rpc/exit_codes.hpp"
#include "net/target.hpp"
#include "schema/protoset_out.hpp"
#include "server/reflection_service.hpp"
#include "server/server.hpp"

namespace grpcdx::commands {

namespace {

struct DemoStep {
  std::string title;
  std::vector<std::string> args;  // after "grpcdx"
  int expected_exit = 0;
  std::string note = {};  // printed before the command line
};

// Runs one grpcdx command line in this process, through the same CLI definition as main().
int run_command_line(const std::vector<std::string>& args, Io& io) {
  CLI::App app{"grpcdx", "grpcdx"};
  CommandSlot slot;
  register_all(app, slot);
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    io.err << "error: " << e.what() << std::endl;
    return k_exit_usage;
  }
  if (!slot.run) return k_exit_usage;
  auto result = slot.run(io);
  io.out.flush();
  if (!result) return print_error(io.err, result.error());
  return *result;
}

// A loopback address where nothing listens: a port the kernel just handed out and took back.
Result<std::string> closed_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return local_error(fmt::format("cannot create a socket: {}", std::strerror(errno)));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0)
    port = ntohs(sa.sin_port);
  ::close(fd);
  if (port == 0) return local_error("cannot find a free loopback port");
  return fmt::format("127.0.0.1:{}", port);
}

Result<int> run_demo(Io& io) {
  server::ServerOptions options;
  options.listen = "127.0.0.1:0";
  TRY(auto srv, server::start_server(options));
  const std::string addr = srv->address();
  TRY(const std::string closed, closed_loopback_port());
  // A second server that closes connections idle for 1 s, for the conn steps (`serve
  // --max-connection-idle 1s`); like every gRPC server, it refuses keepalive PINGs on a
  // connection with no call open.
  server::ServerOptions idle_options;
  idle_options.listen = "127.0.0.1:0";
  idle_options.max_connection_idle = std::chrono::seconds(1);
  TRY(auto idle_srv, server::start_server(idle_options));
  const std::string idle_addr = idle_srv->address();

  // A chaos proxy in front of the server, in-process, with the faults the chaos steps show.
  const std::vector<std::string> fault_texts = {
      "cancel,after=2,method=grpc.testing.TestService/StreamingOutputCall",
      "abort=UNAVAILABLE,pct=10,method=grpc.testing.TestService/EmptyCall",
      "abort=RESOURCE_EXHAUSTED,retry_after=1500ms,message=slow down,method=grpc.testing.*/*,"
      "header=x-demo:rate-limited"};
  chaos::ProxyOptions proxy_options;
  proxy_options.listen = "127.0.0.1:0";
  TRY(proxy_options.upstream.target, net::parse_target(addr));
  proxy_options.upstream.plaintext = true;
  proxy_options.header_faults = true;
  proxy_options.seed = 1;
  for (const auto& text : fault_texts) {
    TRY(auto spec, chaos::parse_fault_spec(text));
    proxy_options.faults.push_back(std::move(spec));
  }
  TRY(auto proxy, chaos::Proxy::start(proxy_options));
  const std::string via = proxy->address();
  // Its admin service, to change the faults while it runs (chaos --admin).
  TRY(auto admin, chaos::AdminServer::start(chaos::AdminOptions{"127.0.0.1:0", "", /*proxy_polls=*/true}, proxy->injector()));
  const std::string admin_addr = admin->address();
  const std::string runtime_fault = "abort=DEADLINE_EXCEEDED,method=grpc.testing.TestService/UnaryCall";
  std::string chaos_line = fmt::format("$ grpcdx chaos --listen {} --target {} --plaintext --header-faults --seed 1 "
                                       "--admin {}",
                                       via, addr, admin_addr);
  for (const auto& text : fault_texts) chaos_line += " --fault '" + text + "'";

  // Two byte-level proxies (chaos --tcp), in-process too: one adds latency, one resets.
  auto start_tcp_proxy = [&](const std::string& fault) -> Result<std::unique_ptr<chaos::TcpProxy>> {
    chaos::TcpProxyOptions o;
    o.listen = "127.0.0.1:0";
    o.target = addr;
    o.seed = 1;
    TRY(auto spec, chaos::parse_fault_spec(fault, chaos::ProxyMode::tcp));
    o.faults.push_back(std::move(spec));
    return chaos::TcpProxy::start(o);
  };
  const std::string tcp_latency_fault = "latency=100ms", tcp_reset_fault = "reset";
  TRY(auto tcp_latency, start_tcp_proxy(tcp_latency_fault));
  TRY(auto tcp_reset, start_tcp_proxy(tcp_reset_fault));
  auto tcp_line = [&](const chaos::TcpProxy& p, const std::string& fault) {
    return fmt::format("$ grpcdx chaos --tcp --listen {} --target {} --seed 1 --fault '{}'", p.address(), addr, fault);
  };
  // The client's schema for the compat step: TestService's file with its imports, as
  // `describe --protoset-out` saves it; removed when the demo ends.
  const std::string protoset = (std::filesystem::temp_directory_path() / fmt::format("grpcdx-demo-{}.protoset", ::getpid())).string();
  const auto* test_service = server::served_pool().FindServiceByName("grpc.testing.TestService");
  if (!test_service) return local_error("the built-in server's schema lacks grpc.testing.TestService");
  TRY_VOID(schema::write_protoset(protoset, {test_service->file()}));
  std::shared_ptr<void> remove_protoset(nullptr, [&](void*) { std::filesystem::remove(protoset); });
  const bool color = io.color_out;
  auto bold = [&](const std::string& s) { return color ? "\x1b[1m" + s + "\x1b[0m" : s; };
  auto dim = [&](const std::string& s) { return color ? "\x1b[2m" + s + "\x1b[0m" : s; };

  io.out << bold("grpcdx demo") << ": a built-in test server is listening on " << addr
         << " (grpc.testing.TestService, health, reflection).\n"
         << "Each step prints the command you can run yourself against any server.\n";

  const std::vector<DemoStep> steps = {
      {"List the services, through server reflection", {"list", addr, "--plaintext"}},
      {"List one service's methods", {"list", addr, "grpc.testing.TestService", "--plaintext"}},
      {"Describe a method and a message", {"describe", addr, "grpc.testing.TestService.StreamingOutputCall", "--plaintext"}},
      {"", {"describe", addr, "grpc.testing.SimpleRequest", "--plaintext"}},
      {"A unary call with JSON in and out", {"call", addr, "grpc.testing.TestService/UnaryCall", "--plaintext", "-d", R"({"responseSize": 8})"}},
      {"A server-streaming call: three responses as they arrive",
       {"call", addr, "grpc.testing.TestService/StreamingOutputCall", "--plaintext", "-d",
        R"({"responseParameters": [{"size": 1}, {"size": 2, "intervalUs": 100000}, {"size": 3, "intervalUs": 100000}]})"}},
      {"A client-streaming call: several request messages, one answer",
       {"call", addr, "grpc.testing.TestService/StreamingInputCall", "--plaintext", "-d",
        R"({"payload": {"body": "AAAA"}} {"payload": {"body": "AAAAAAAA"}})"}},
      {"Events as JSON lines, for scripts", {"call", addr, "grpc.testing.TestService/EmptyCall", "--plaintext", "-o", "json"}},
      {"Health: the server's grpc.health.v1.Health status (exit 0 SERVING, 4 otherwise)",
       {"health", addr, "--plaintext"}},
      {"", {"health", addr, "--plaintext", "--service", "grpc.testing.TestService", "-o", "json"}},
      {"Probe: walk the layers (dns, tcp, tls, http2, grpc) and name where a connection breaks",
       {"probe", addr, "--plaintext"}},
      {"", {"probe", closed, "--plaintext", "--timeout", "1s"}, 11},
      {"Conn: hold one connection and name what ends it. Keepalive PINGs every 100 ms on an idle connection: "
       "the server refuses them (GOAWAY ENHANCE_YOUR_CALM, exit 50)",
       {"conn", idle_addr, "--plaintext", "--keepalive", "100ms", "--for", "3s"},
       50,
       fmt::format("$ grpcdx serve --listen {} --max-connection-idle 1s", idle_addr)},
      {"Conn: no PINGs, nothing to do: the server closes the idle connection after 1 s (exit 51)",
       {"conn", idle_addr, "--plaintext", "--for", "3s"},
       51},
      {"Interop: the standard gRPC interop cases", {"interop", addr, "--plaintext"}},
      {"Compat: is the server's schema (its reflection) wire-compatible with the client's .proto files? "
       "For CI after a deploy (exit 8 when not)",
       {"compat", addr, "--plaintext", "--protoset", protoset, "--service", "grpc.testing.TestService"},
       0,
       fmt::format("$ grpcdx describe {} grpc.testing.TestService --plaintext --protoset-out {} > /dev/null", addr,
                   protoset)},
      {"A stalled stream caught: the server answers 2 messages, then goes silent with the stream open "
       "(exit 5); the server's own view of the connection (channelz) says which side stopped",
       {"call", addr, "grpc.testing.TestService/StreamingOutputCall", "--plaintext", "-H", "x-grpcdx-stall-after: 2",
        "--stall-timeout", "500ms", "-d", R"({"responseParameters": [{"size": 1}, {"size": 2}, {"size": 3}]})"},
       k_exit_stall},
      {"Channelz: the server's own view of its connections (grpc.channelz.v1.Channelz): streams, messages "
       "and the last message each way, per socket",
       {"channelz", addr, "--plaintext"}},
      {"Bench: 2000 unary calls, 20 in flight: throughput, latency percentiles, status counts",
       {"bench", addr, "grpc.testing.TestService/UnaryCall", "--plaintext", "-n", "2000", "-c", "20", "-d",
        R"({"responseSize": 16})"}},
      {"Chaos: a fault-injecting proxy in front of the server (running in this process, as below); "
       "a call asks for its own fault with a header",
       {"call", via, "grpc.testing.TestService/UnaryCall", "--plaintext", "-H", "x-grpcdx-abort: UNAVAILABLE"},
       exit_code_for_status(14),
       chaos_line},
      {"", {"call", via, "grpc.testing.TestService/EmptyCall", "--plaintext", "-H", "x-grpcdx-delay: 300ms", "-v"}},
      {"Chaos: a rate limiter's answer, with the retry delay it asks for as a rich error detail "
       "(google.rpc.RetryInfo; exit 64 + 8 RESOURCE_EXHAUSTED)",
       {"call", via, "grpc.testing.TestService/UnaryCall", "--plaintext", "-H", "x-demo: rate-limited"},
       exit_code_for_status(8)},
      {"Chaos: a server stream cancelled after 2 messages (exit 64 + 1 CANCELLED)",
       {"call", via, "grpc.testing.TestService/StreamingOutputCall", "--plaintext", "-d",
        R"({"responseParameters": [{"size": 1}, {"size": 1}, {"size": 1}, {"size": 1}, {"size": 1}]})"},
       exit_code_for_status(1)},
      {"Chaos: bench through the proxy, 10% of EmptyCalls aborted with UNAVAILABLE",
       {"bench", via, "grpc.testing.TestService/EmptyCall", "--plaintext", "-n", "1000", "-c", "10"}},
      {"Chaos at run time: add a fault through the proxy's admin service (f4: the three above are f1-f3), "
       "see it hit (exit 64 + 4 DEADLINE_EXCEEDED), remove it",
       {"chaos", "ctl", admin_addr, "add", runtime_fault}},
      {"", {"call", via, "grpc.testing.TestService/UnaryCall", "--plaintext"}, exit_code_for_status(4)},
      {"", {"chaos", "ctl", admin_addr, "rm", "f4"}},
      {"Chaos --tcp: a byte-level proxy that holds every byte from the server 100 ms: connecting and each "
       "round trip take 100 ms longer (see the timings)",
       {"call", tcp_latency->address(), "grpc.testing.TestService/EmptyCall", "--plaintext", "-v"},
       0,
       tcp_line(*tcp_latency, tcp_latency_fault)},
      {"Chaos --tcp: a proxy that resets every connection it accepts: the client sees UNAVAILABLE (exit 78)",
       {"call", tcp_reset->address(), "grpc.testing.TestService/EmptyCall", "--plaintext", "--timeout", "5s"},
       exit_code_for_status(14),
       tcp_line(*tcp_reset, tcp_reset_fault)},
      {"A call that fails: the exit code is 64 + the status code (14 UNAVAILABLE -> 78)",
       {"call", addr, "grpc.testing.TestService/UnaryCall", "--plaintext", "-d",
        R"({"responseStatus": {"code": 14, "message": "backend overloaded"}})"},
       exit_code_for_status(14)},
  };

  int unexpected = 0;
  for (const auto& step : steps) {
    if (!step.title.empty()) io.out << "\n" << bold("## " + step.title) << "\n";
    if (!step.note.empty()) io.out << dim(step.note) << "\n";
    std::string line = "$ grpcdx";
    for (const auto& a : step.args) line += " " + shell_quote(a);
    io.out << dim(line) << std::endl;
    int rc = run_command_line(step.args, io);
    io.err.flush();
    if (rc != 0) io.out << dim(fmt::format("(exit {})", rc)) << "\n";
    if (rc != step.expected_exit) {
      ++unexpected;
      io.out << fmt::format("unexpected exit code {} (expected {})\n", rc, step.expected_exit);
    }
    io.out.flush();
  }
  admin->stop();
  proxy->stop(std::chrono::milliseconds(200));
  idle_srv->shutdown(std::chrono::milliseconds(0));
  idle_srv->wait();
  tcp_latency->stop();
  tcp_reset->stop();
  srv->shutdown(std::chrono::milliseconds(500));
  io.out << "\n" << (unexpected == 0 ? "Demo finished: every step behaved as expected.\n"
                                      : fmt::format("Demo finished with {} unexpected results.\n", unexpected));
  return unexpected == 0 ? 0 : k_exit_local;
}

}  // namespace

void register_demo(CLI::App& app, CommandSlot& slot) {
  auto* cmd = app.add_subcommand("demo", "Start a built-in server and walk through the commands against it");
  cmd->callback([&slot] { slot.run = [](Io& io) { return run_demo(io); }; });
}

}  // namespace grpcdx::commands
