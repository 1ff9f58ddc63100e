// Building and running the built-in test server: listen address checks, TLS credentials,
// service registration, and the reason an address could not be bound.
#include "server/server.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include "channelz/service.hpp"
#include "server/health_service.hpp"
#include "server/reflection_service.hpp"
#include "server/test_service.hpp"

namespace grpcdx::server {

namespace {

// A listen address split into its parts.
struct ListenAddress {
  bool unix_socket = false;
  std::string path;  // unix: the socket path (or abstract name)
  std::string host;  // TCP: the host, without brackets; may be empty (every interface)
  std::string port;  // TCP: the port
  bool bracketed = false;
};

Result<ListenAddress> parse_listen(const std::string& listen) {
  auto fail = [&](const std::string& why) {
    return local_error("cannot listen on " + (listen.empty() ? std::string("''") : listen) + ": " + why,
                       "use host:port, [v6addr]:port or unix:/path; port 0 picks a free port");
  };
  ListenAddress a;
  for (const char* prefix : {"unix:", "unix-abstract:"}) {
    if (listen.starts_with(prefix)) {
      a.unix_socket = true;
      a.path = listen.substr(std::strlen(prefix));
      if (a.path.empty()) return fail("empty socket path");
      return a;
    }
  }
  std::string rest;
  if (listen.starts_with("[")) {
    size_t close = listen.find(']');
    if (close == std::string::npos) return fail("missing ']' after the IPv6 address");
    a.host = listen.substr(1, close - 1);
    a.bracketed = true;
    rest = listen.substr(close + 1);
    if (!rest.starts_with(":")) return fail("expected ':PORT' after ']'");
    a.port = rest.substr(1);
  } else {
    size_t colon = listen.rfind(':');
    if (colon == std::string::npos) return fail("missing ':PORT'");
    a.host = listen.substr(0, colon);
    if (a.host.find(':') != std::string::npos) return fail("write an IPv6 address in brackets, like [::1]:50051");
    a.port = listen.substr(colon + 1);
  }
  if (a.port.empty() || a.port.size() > 5 ||
      !std::all_of(a.port.begin(), a.port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoi(a.port) > 65535)
    return fail("invalid port '" + a.port + "' (use 0-65535)");
  return a;
}

Result<std::string> read_pem(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return local_error("cannot read " + what + " " + path + ": it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return local_error("cannot read " + what + " " + path + ": " + std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (buf.str().empty()) return local_error("cannot read " + what + " " + path + ": the file is empty");
  return buf.str();
}

// Why gRPC could not bind `a`: repeats the bind with plain sockets to learn the errno, since
// gRPC only logs it.
std::string bind_failure_reason(const ListenAddress& a) {
  if (a.unix_socket) {
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    if (a.path.size() >= sizeof(sun.sun_path))
      return "socket path too long (at most " + std::to_string(sizeof(sun.sun_path) - 1) + " bytes)";
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) return std::strerror(errno);
    std::memcpy(sun.sun_path, a.path.data(), a.path.size());
    int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&sun), sizeof(sun));
    int err = errno;
    ::close(fd);
    if (rc != 0) return std::strerror(err);
    ::unlink(a.path.c_str());  // it did not exist before our bind succeeded
    return "the gRPC server could not bind it";
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  int gai = ::getaddrinfo(a.host.empty() ? nullptr : a.host.c_str(), a.port.c_str(), &hints, &found);
  if (gai != 0) return "cannot resolve '" + a.host + "': " + ::gai_strerror(gai);
  std::string reason;
  for (addrinfo* ai = found; ai && reason.empty(); ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) {
      reason = std::strerror(errno);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) reason = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return reason.empty() ? "the gRPC server could not bind it" : reason;
}

}  // namespace

Result<void> check_listen_address(const std::string& listen) {
  TRY(auto parsed, parse_listen(listen));
  (void)parsed;
  return {};
}

RunningServer::RunningServer() = default;

RunningServer::~RunningServer() {
  shutdown(std::chrono::milliseconds(0));
  m_server.reset();  // before the services it uses
}

void RunningServer::set_health(const std::string& service, ServingStatus status) {
  if (!m_health) return;
  HealthService::Status s = grpc::health::v1::HealthCheckResponse::UNKNOWN;
  if (status == ServingStatus::serving) s = grpc::health::v1::HealthCheckResponse::SERVING;
  if (status == ServingStatus::not_serving) s = grpc::health::v1::HealthCheckResponse::NOT_SERVING;
  m_health->set_status(service, s);
}

void RunningServer::shutdown(std::chrono::milliseconds grace) {
  if (m_shut_down.exchange(true)) return;
  // Open Watch streams never end by themselves; end them first so they do not use up the grace.
  if (m_health) m_health->shutdown();
  m_server->Shutdown(std::chrono::system_clock::now() + grace);
}

void RunningServer::wait() { m_server->Wait(); }

Result<std::unique_ptr<RunningServer>> start_server(const ServerOptions& options) {
  TRY(ListenAddress address, parse_listen(options.listen));
  if (options.tls_cert.empty() != options.tls_key.empty())
    return local_error("a TLS certificate and its key go together: give both tls_cert and tls_key");
  if (!options.client_ca.empty() && options.tls_cert.empty())
    return local_error("a client CA needs TLS: give the server certificate and key too");

  std::shared_ptr<grpc::ServerCredentials> creds = grpc::InsecureServerCredentials();
  if (!options.tls_cert.empty()) {
    grpc::SslServerCredentialsOptions ssl(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    TRY(std::string cert, read_pem(options.tls_cert, "TLS certificate"));
    TRY(std::string key, read_pem(options.tls_key, "TLS key"));
    ssl.pem_key_cert_pairs.push_back({key, cert});
    if (!options.client_ca.empty()) {
      TRY(ssl.pem_root_certs, read_pem(options.client_ca, "client CA"));
      ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    }
    creds = grpc::SslServerCredentials(ssl);
  }

  std::unique_ptr<RunningServer> server(new RunningServer());
  server->m_tls = !options.tls_cert.empty();
  grpc::ServerBuilder builder;
  int selected_port = 0;
  builder.AddListeningPort(options.listen, creds, &selected_port);
  builder.SetMaxReceiveMessageSize(-1);
  // gRPC sets SO_REUSEPORT by default, which would let a second server share a busy port
  // silently; a test server must say the port is taken instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  auto ms_arg = [&](const char* name, const std::optional<std::chrono::milliseconds>& value) {
    if (value) builder.AddChannelArgument(name, static_cast<int>(std::min<long long>(value->count(), INT_MAX)));
  };
  // A client PING sooner than this after the previous one is a strike; more than
  // GRPC_ARG_HTTP2_MAX_PING_STRIKES (2) strikes and C-core answers GOAWAY ENHANCE_YOUR_CALM
  // "too_many_pings". Without calls open and without PERMIT_WITHOUT_CALLS the interval is 2 hours.
  ms_arg(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, options.keepalive_min_time);
  if (options.keepalive_permit_without_stream) builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  ms_arg(GRPC_ARG_MAX_CONNECTION_IDLE_MS, options.max_connection_idle);
  ms_arg(GRPC_ARG_MAX_CONNECTION_AGE_MS, options.max_connection_age);
  ms_arg(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, options.max_connection_age_grace);

  server->m_test = std::make_unique<TestService>();
  builder.RegisterService(server->m_test.get());
  server->m_services.push_back("grpc.testing.TestService");
  if (options.health) {
    server->m_health = std::make_unique<HealthService>();
    builder.RegisterService(server->m_health.get());
    server->m_services.push_back("grpc.health.v1.Health");
  }
  if (options.channelz) {
    // On by default in gRPC 1.51; said here because the service is empty without it.
    builder.AddChannelArgument(GRPC_ARG_ENABLE_CHANNELZ, 1);
    server->m_channelz = std::make_unique<channelz::ChannelzService>();
    builder.RegisterService(server->m_channelz.get());
    server->m_services.push_back("grpc.channelz.v1.Channelz");
    // Registered with the generated pool now, so reflection finds it (served_pool's underlay).
    grpc::channelz::v1::GetServersRequest::descriptor();
  }
  if (options.reflection_v1) server->m_services.push_back("grpc.reflection.v1.ServerReflection");
  if (options.reflection_v1alpha) server->m_services.push_back("grpc.reflection.v1alpha.ServerReflection");
  std::sort(server->m_services.begin(), server->m_services.end());
  server->m_reflection_core =
      std::make_unique<ReflectionCore>(&served_pool(), server->m_services);
  if (options.reflection_v1) {
    server->m_reflection_v1 = std::make_unique<ReflectionV1Service>(*server->m_reflection_core);
    builder.RegisterService(server->m_reflection_v1.get());
  }
  if (options.reflection_v1alpha) {
    server->m_reflection_v1alpha = std::make_unique<ReflectionV1AlphaService>(*server->m_reflection_core);
    builder.RegisterService(server->m_reflection_v1alpha.get());
  }

  server->m_server = builder.BuildAndStart();
  if (!server->m_server || selected_port == 0) {
    server->m_shut_down = true;  // nothing to shut down
    return local_error("cannot listen on " + options.listen + ": " + bind_failure_reason(address));
  }

  if (address.unix_socket)
    server->m_address = options.listen;
  else if (address.bracketed)
    server->m_address = "[" + address.host + "]:" + std::to_string(selected_port);
  else
    server->m_address = address.host + ":" + std::to_string(selected_port);

  if (server->m_health) {
    server->m_health->set_status("", grpc::health::v1::HealthCheckResponse::SERVING);
    for (const auto& name : server->m_services)
      server->m_health->set_status(name, grpc::health::v1::HealthCheckResponse::SERVING);
  }
  return server;
}

}  // namespace grpcdx::server
