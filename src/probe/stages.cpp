// The probe stages: dns, tcp, tls, http2 and grpc, each timed and bounded by the stage timeout.
#include "probe/stages.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/un.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <grpcpp/client_context.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "grpc/health/v1/health.grpc.pb.h"
#include "h2/session.hpp"
#include "rpc/status_codes.hpp"
#include "probe/srv.hpp"
#include "schema/reflection_client.hpp"

namespace grpcdx::probe {

using json = nlohmann::ordered_json;

namespace {

// Times a stage: the duration is set when finish() is called.
class StageTimer {
 public:
  explicit StageTimer(std::string name) { m_result.name = std::move(name); }
  StageResult& result() { return m_result; }
  StageResult ok() {
    m_result.status = StageStatus::ok;
    return finish();
  }
  StageResult fail(Failure f) {
    m_result.status = StageStatus::fail;
    m_result.failure = std::move(f);
    return finish();
  }

 private:
  StageResult finish() {
    m_result.duration = Clock::now() - m_start;
    return std::move(m_result);
  }
  StageResult m_result;
  Clock::time_point m_start = Clock::now();
};

std::string endpoint_text(const sockaddr* sa) {
  char host[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    return fmt::format("{}:{}", host, ntohs(in->sin_port));
  }
  auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
  inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
  return fmt::format("[{}]:{}", host, ntohs(in6->sin6_port));
}

Endpoint from_addrinfo(const addrinfo* ai) {
  Endpoint ep;
  std::memcpy(&ep.addr, ai->ai_addr, ai->ai_addrlen);
  ep.addr_len = ai->ai_addrlen;
  ep.is_ipv6 = ai->ai_family == AF_INET6;
  ep.text = endpoint_text(ai->ai_addr);
  return ep;
}

// A numeric host:port (no DNS lookup); nullopt when `host` is not an IP literal.
std::optional<Endpoint> numeric_endpoint(const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || !res) return std::nullopt;
  Endpoint ep = from_addrinfo(res);
  freeaddrinfo(res);
  return ep;
}

Endpoint unix_endpoint(const std::string& path, bool abstract) {
  Endpoint ep;
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  size_t offset = abstract ? 1 : 0;
  size_t n = std::min(path.size(), sizeof un.sun_path - 1 - offset);
  std::memcpy(un.sun_path + offset, path.data(), n);
  std::memcpy(&ep.addr, &un, sizeof un);
  ep.addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + offset + n + (abstract ? 0 : 1));
  ep.text = (abstract ? "unix-abstract:" : "unix:") + path;
  return ep;
}

// The outcome of a getaddrinfo run in a worker thread that may outlive the stage.
struct Lookup {
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  int rc = 0;
  std::vector<Endpoint> endpoints;
};

// getaddrinfo of host:port into `found` (IPv4/IPv6 only, duplicates dropped); its return code.
int resolve(const std::string& host, const std::string& port, std::vector<Endpoint>& found) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
  for (addrinfo* ai = res; rc == 0 && ai; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    Endpoint ep = from_addrinfo(ai);
    bool seen = false;
    for (const auto& f : found) seen = seen || f.text == ep.text;
    if (!seen) found.push_back(std::move(ep));
  }
  if (res) freeaddrinfo(res);
  return rc;
}

// The outcome of an SRV lookup and of the lookups of its targets, run in a worker thread.
struct SrvResolution {
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  std::string error;                // the SRV query's failure
  json records = json::array();     // one object a record, with its addresses or error
  std::vector<Endpoint> endpoints;  // every address of every target, in record order
};

// dns for `_service._proto.name`: the SRV records, then each target's addresses at the
// record's port, all within one stage timeout. The port written in the target is not used.
StageResult srv_dns_stage(const StageContext& c, std::vector<Endpoint>& endpoints) {
  const std::string& name = c.opt->conn.target.host;
  StageTimer timer("dns");
  auto res = std::make_shared<SrvResolution>();
  std::thread([res, name, bound = c.opt->stage_timeout] {
    SrvLookup srv = lookup_srv(name, bound);
    json records = json::array();
    std::vector<Endpoint> found;
    for (const auto& r : srv.records) {
      json j{{"priority", r.priority}, {"weight", r.weight}, {"port", r.port}, {"target", r.target}};
      std::vector<Endpoint> eps;
      int rc = resolve(r.target, std::to_string(r.port), eps);
      json addresses = json::array();
      for (auto& ep : eps) {
        addresses.push_back(ep.text);
        ep.name = r.target;
        bool seen = false;
        for (const auto& f : found) seen = seen || f.text == ep.text;
        if (!seen) found.push_back(std::move(ep));
      }
      j["addresses"] = addresses;
      if (rc != 0) j["error"] = gai_strerror(rc);
      else if (eps.empty()) j["error"] = "no IPv4 or IPv6 address";
      records.push_back(std::move(j));
    }
    std::lock_guard lock(res->mutex);
    res->error = srv.error;
    res->records = std::move(records);
    res->endpoints = std::move(found);
    res->done = true;
    res->done_cv.notify_all();
  }).detach();

  std::unique_lock lock(res->mutex);
  bool done = res->done_cv.wait_until(lock, c.deadline_from_now(), [&] { return res->done; });
  timer.result().detail["name"] = name;
  timer.result().detail["type"] = "SRV";
  if (!done)
    return timer.fail(classify_srv(name, fmt::format("no answer from the resolver within {}", c.timeout_text)));
  if (!res->error.empty()) return timer.fail(classify_srv(name, res->error));
  timer.result().detail["srv"] = res->records;
  if (res->endpoints.empty())
    return timer.fail(classify_srv(name, fmt::format("none of the {} SRV target{} resolves", res->records.size(),
                                                      res->records.size() == 1 ? "" : "s")));
  json addresses = json::array();
  for (const auto& ep : res->endpoints) addresses.push_back(ep.text);
  timer.result().detail["addresses"] = addresses;
  endpoints = res->endpoints;
  return timer.ok();
}

}  // namespace

StageResult skipped(std::string name, std::string reason) {
  StageResult r;
  r.name = std::move(name);
  r.status = StageStatus::skip;
  if (!reason.empty()) r.detail["reason"] = reason;
  return r;
}

Result<StageResult> dns_stage(const StageContext& c, std::vector<Endpoint>& endpoints) {
  const net::Target& t = c.opt->conn.target;
  if (t.kind == net::Target::Kind::unix_socket) {
    endpoints.push_back(unix_endpoint(t.host, t.grpc_uri.starts_with("unix-abstract:")));
    return skipped("dns", "unix socket");
  }
  if (t.kind == net::Target::Kind::uri) {
    std::string scheme = t.grpc_uri.substr(0, t.grpc_uri.find(':'));
    if (scheme != "dns" && scheme != "ipv4" && scheme != "ipv6")
      return usage_error(fmt::format("probe cannot dial '{}' targets itself", scheme),
                         "give the address as host:port, unix:/path, dns:///host:port, ipv4: or ipv6:");
    if (t.host.find(',') != std::string::npos || t.port.find(',') != std::string::npos)
      return usage_error(fmt::format("probe takes one address, not the list in '{}'", t.original),
                         "probe each address on its own");
  }
  if (auto literal = numeric_endpoint(t.host, t.port)) {
    endpoints.push_back(*literal);
    return skipped("dns", "IP literal");
  }

  if (is_srv_name(t.host)) return srv_dns_stage(c, endpoints);

  StageTimer timer("dns");
  auto lookup = std::make_shared<Lookup>();
  // getaddrinfo cannot be cancelled; the worker owns its share of the state, so a lookup that
  // outlives the stage finishes harmlessly in the background.
  std::thread([lookup, host = t.host, port = t.port] {
    std::vector<Endpoint> found;
    int rc = resolve(host, port, found);
    std::lock_guard lock(lookup->mutex);
    lookup->rc = rc;
    lookup->endpoints = std::move(found);
    lookup->done = true;
    lookup->done_cv.notify_all();
  }).detach();

  std::unique_lock lock(lookup->mutex);
  auto deadline = c.deadline_from_now();
  bool done = lookup->done_cv.wait_until(lock, deadline, [&] { return lookup->done; });
  timer.result().detail["name"] = t.host;
  if (!done) return timer.fail(classify_dns(t.host, fmt::format("no answer from the resolver within {}", c.timeout_text)));
  if (lookup->rc != 0) return timer.fail(classify_dns(t.host, gai_strerror(lookup->rc)));
  if (lookup->endpoints.empty()) return timer.fail(classify_dns(t.host, "no IPv4 or IPv6 address"));
  json addresses = json::array();
  for (const auto& ep : lookup->endpoints) addresses.push_back(ep.text);
  timer.result().detail["addresses"] = addresses;
  endpoints = lookup->endpoints;
  return timer.ok();
}

StageResult tcp_stage(const StageContext& c, const std::vector<Endpoint>& endpoints, std::unique_ptr<Transport>& conn,
                      std::string& address) {
  StageTimer timer("tcp");
  auto deadline = c.deadline_from_now();
  json attempts = json::array();
  int last_err = ETIMEDOUT;
  std::string last_address = endpoints.empty() ? std::string() : endpoints.front().text;
  for (const auto& ep : endpoints) {
    auto start = Clock::now();
    int err = 0;
    int fd = connect_before(ep, deadline, err);
    double ms = to_ms(Clock::now() - start);
    if (fd >= 0) {
      conn = std::make_unique<Transport>(fd);
      address = ep.text;
      timer.result().detail["address"] = ep.text;
      timer.result().detail["connect_ms"] = ms;
      if (!attempts.empty()) timer.result().detail["failed_attempts"] = attempts;
      return timer.ok();
    }
    last_err = err;
    last_address = ep.text;
    attempts.push_back(json{{"address", ep.text}, {"error", err == ETIMEDOUT ? "timeout" : std::strerror(err)}, {"ms", ms}});
    if (Clock::now() >= deadline) break;
  }
  address = last_address;
  timer.result().detail["address"] = last_address;
  timer.result().detail["attempts"] = attempts;
  return timer.fail(classify_connect(last_err, last_address, c.timeout_text));
}

namespace {

std::string iso_time(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

json certificate_json(X509* cert, std::time_t now) {
  json j;
  j["subject"] = x509_name_text(X509_get_subject_name(cert));
  j["issuer"] = x509_name_text(X509_get_issuer_name(cert));
  json sans = json::array();
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_DNS) {
      sans.push_back(std::string("DNS:") + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName)),
                                                       static_cast<size_t>(ASN1_STRING_length(n->d.dNSName))));
    } else if (n->type == GEN_IPADD) {
      char text[INET6_ADDRSTRLEN] = {};
      int len = ASN1_STRING_length(n->d.iPAddress);
      if (len == 4) inet_ntop(AF_INET, ASN1_STRING_get0_data(n->d.iPAddress), text, sizeof text);
      if (len == 16) inet_ntop(AF_INET6, ASN1_STRING_get0_data(n->d.iPAddress), text, sizeof text);
      sans.push_back(std::string("IP:") + text);
    }
  }
  GENERAL_NAMES_free(names);
  j["sans"] = sans;
  std::time_t nb = x509_time(X509_get0_notBefore(cert));
  std::time_t na = x509_time(X509_get0_notAfter(cert));
  j["not_before"] = iso_time(nb);
  j["not_after"] = iso_time(na);
  j["days_left"] = days_between(now, na);
  return j;
}

}  // namespace

Result<StageResult> tls_stage(const StageContext& c, Transport& conn, std::string& early) {
  StageTimer timer("tls");
  const auto& o = c.opt->conn;
  auto deadline = c.deadline_from_now();
  TlsSettings settings;
  settings.verify = !o.insecure;
  settings.cacert = o.cacert;
  settings.cert = o.cert;
  settings.key = o.key;
  settings.name = !o.servername.empty() ? o.servername
                  : o.target.kind == net::Target::Kind::unix_socket ? std::string("localhost")
                                                                    : o.target.host;
  TlsOutcome outcome;
  TRY_VOID(conn.start_tls(settings, deadline, outcome));
  json& d = timer.result().detail;
  d["servername"] = settings.name;
  d["verify"] = settings.verify;
  if (outcome.alert_received >= 0) d["alert"] = outcome.alert_text;
  if (outcome.cert_requested) d["client_cert_requested"] = true;

  if (outcome.handshake_done) {
    SSL* ssl = conn.ssl();
    // A TLS 1.3 server judges the client certificate after our side of the handshake is done:
    // wait briefly for its verdict (an alert, or anything else meaning it accepted).
    if (outcome.cert_requested && SSL_version(ssl) == TLS1_3_VERSION) {
      auto wait_until = std::min(deadline, Clock::now() + std::chrono::milliseconds(300));
      IoStatus st = conn.read_some(early, wait_until);
      if (conn.late_alert() > 0) {
        outcome.alert_received = conn.late_alert();
        outcome.alert_text = conn.late_alert_text();
        d["alert"] = outcome.alert_text;
      } else if (st == IoStatus::closed || st == IoStatus::error) {
        outcome.closed_after_handshake = true;
        d["closed_after_handshake"] = true;
      }
    }
    d["version"] = SSL_get_version(ssl);
    d["cipher"] = SSL_get_cipher_name(ssl);
    d["alpn"] = outcome.alpn;
    json chain = json::array();
    if (STACK_OF(X509)* certs = SSL_get_peer_cert_chain(ssl)) {
      for (int i = 0; i < sk_X509_num(certs); ++i) chain.push_back(certificate_json(sk_X509_value(certs, i), outcome.now));
    }
    d["chain"] = chain;
  } else if (!outcome.first_bytes.empty()) {
    d["first_bytes"] = printable_bytes(outcome.first_bytes);
  }
  if (!outcome.verify_errors.empty()) {
    json errors = json::array();
    for (const auto& e : outcome.verify_errors)
      errors.push_back(json{{"code", e.code}, {"depth", e.depth}, {"reason", e.reason}});
    d["verify_errors"] = errors;
  }
  if (auto failure = classify_tls(outcome)) return timer.fail(std::move(*failure));
  return timer.ok();
}

namespace {

constexpr std::string_view k_preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr unsigned char k_settings = 4;

std::string frame(unsigned char type, unsigned char flags, std::string_view payload) {
  std::string f;
  auto n = payload.size();
  f += static_cast<char>((n >> 16) & 0xff);
  f += static_cast<char>((n >> 8) & 0xff);
  f += static_cast<char>(n & 0xff);
  f += static_cast<char>(type);
  f += static_cast<char>(flags);
  f.append(4, '\0');
  f += payload;
  return f;
}


}  // namespace

bool answers_tls(const Endpoint& ep, Clock::time_point deadline) {
  int err = 0;
  int fd = connect_before(ep, deadline, err);
  if (fd < 0) return false;
  Transport t(fd);
  TlsOutcome outcome;
  TlsSettings settings;
  settings.verify = false;
  settings.name = "localhost";
  if (!t.start_tls(settings, deadline, outcome)) return false;
  return outcome.handshake_done || looks_like_tls_record(outcome.first_bytes);
}

StageResult http2_stage(const StageContext& c, Transport& conn, const Endpoint& endpoint, bool tls, std::string early) {
  StageTimer timer("http2");
  auto deadline = c.deadline_from_now();
  Http2Outcome h2;
  h2.tls = tls;
  json& d = timer.result().detail;
  IoStatus st = conn.write_all(std::string(k_preface) + frame(k_settings, 0, {}), deadline);
  std::string first;
  // Read frames until the server's SETTINGS (or a GOAWAY, or something that is not HTTP/2).
  Http2FrameScanner scanner;
  auto state = scanner.feed(early);
  while (st == IoStatus::ok && state == Http2FrameScanner::State::need_more) {
    std::string chunk;
    st = conn.read_some(chunk, deadline);
    if (st == IoStatus::ok) {
      if (first.size() < 16) first += chunk.substr(0, 16 - first.size());
      state = scanner.feed(chunk);
    }
  }
  if (state == Http2FrameScanner::State::settings) {
    json settings = json::object();
    for (auto [id, value] : scanner.settings()) settings[h2::setting_name(static_cast<std::uint16_t>(id))] = value;
    d["settings"] = settings;
    h2.got_settings = true;
    (void)conn.write_all(frame(k_settings, 1, {}), deadline);
  }
  if (state == Http2FrameScanner::State::goaway) h2.goaway_error = scanner.goaway_error();
  h2.first_bytes = tls ? first : conn.first_raw_bytes();
  h2.timed_out = st == IoStatus::timeout;
  h2.peer_closed = st == IoStatus::closed || st == IoStatus::error;
  if (!h2.got_settings && !h2.first_bytes.empty()) d["first_bytes"] = printable_bytes(h2.first_bytes);
  if (h2.goaway_error) d["goaway_error"] = *h2.goaway_error;
  if (!tls && !h2.got_settings && h2.first_bytes.empty() && h2.peer_closed) {
    h2.tls_server_detected = answers_tls(endpoint, deadline);
    d["tls_check"] = h2.tls_server_detected ? "the port answers a TLS ClientHello" : "no TLS answer either";
  }
  if (auto failure = classify_http2(h2, c.timeout_text)) return timer.fail(std::move(*failure));
  return timer.ok();
}

Result<StageResult> grpc_stage(const StageContext& c, const Endpoint* endpoint) {
  StageTimer timer("grpc");
  net::ConnectionOptions conn = c.opt->conn;
  if (endpoint) {
    // Pin the channel to the one address; keep the name for :authority and the certificate.
    if (conn.authority.empty()) conn.authority = conn.target.authority;
    if (conn.servername.empty() && !numeric_endpoint(conn.target.host, "0")) conn.servername = conn.target.host;
    conn.target.grpc_uri = (endpoint->is_ipv6 ? "ipv6:" : "ipv4:") + endpoint->text;
  }
  conn.rpc_timeout = c.opt->stage_timeout;
  TRY(auto channel, net::make_channel(conn));
  auto deadline = std::chrono::system_clock::now() +
                  std::chrono::duration_cast<std::chrono::system_clock::duration>(c.opt->stage_timeout);
  GrpcOutcome g;
  g.service = c.opt->service;
  json& d = timer.result().detail;
  {
    grpc::ClientContext ctx;
    net::prepare_context(ctx, conn);
    ctx.set_deadline(deadline);
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(c.opt->service);
    grpc::health::v1::HealthCheckResponse resp;
    auto stub = grpc::health::v1::Health::NewStub(channel);
    grpc::Status status = stub->Check(&ctx, req, &resp);
    g.health_code = status.error_code();
    g.health_message = status.error_message();
    d["method"] = "grpc.health.v1.Health/Check";
    d["code"] = rpc::status_name(g.health_code);
    if (!g.health_message.empty()) d["message"] = g.health_message;
    if (status.ok()) {
      g.serving_status = grpc::health::v1::HealthCheckResponse_ServingStatus_Name(resp.status());
      d["serving_status"] = g.serving_status;
    }
  }
  if (g.health_code == grpc::StatusCode::UNIMPLEMENTED) {
    // Reflection's deadline is the rest of the stage.
    auto left = std::chrono::duration_cast<Duration>(deadline - std::chrono::system_clock::now());
    conn.rpc_timeout = std::max(left, Duration(std::chrono::milliseconds(1)));
    schema::ReflectionClient client(channel, conn);
    grpc::reflection::v1::ServerReflectionRequest request;
    request.set_list_services("*");
    auto answer = client.ask(request);
    json r;
    r["method"] = "grpc.reflection/ServerReflectionInfo list_services";
    if (answer) {
      g.reflection_code = 0;
      json services = json::array();
      for (const auto& s : answer->list_services_response().service()) services.push_back(s.name());
      r["code"] = "OK";
      r["services"] = services;
    } else {
      const Error& e = answer.error();
      g.reflection_code = e.kind == ErrorKind::rpc_status ? e.grpc_code : int(grpc::StatusCode::UNIMPLEMENTED);
      g.reflection_message = e.message;
      r["code"] = rpc::status_name(*g.reflection_code);
      r["message"] = e.message;
    }
    d["reflection"] = r;
  }
  if (auto failure = classify_grpc(g, c.timeout_text)) return timer.fail(std::move(*failure));
  return timer.ok();
}

}  // namespace grpcdx::probe
