// Pure classification of probe stage outcomes into SPEC.md's classes, summaries and hints.
#include "probe/classify.hpp"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <openssl/x509_vfy.h>

#include "rpc/status_codes.hpp"
#include "rpc/status_hints.hpp"

namespace grpcdx::probe {

std::string day_count(long days) { return fmt::format("{} day{}", days, days == 1 || days == -1 ? "" : "s"); }

namespace {

// TLS alert descriptions (RFC 8446 section 6) the classification looks at.
constexpr int k_alert_handshake_failure = 40;
constexpr int k_alert_bad_certificate = 42;
constexpr int k_alert_unsupported_certificate = 43;
constexpr int k_alert_certificate_revoked = 44;
constexpr int k_alert_certificate_expired = 45;
constexpr int k_alert_certificate_unknown = 46;
constexpr int k_alert_unknown_ca = 48;
constexpr int k_alert_access_denied = 49;
constexpr int k_alert_certificate_required = 116;
constexpr int k_alert_no_application_protocol = 120;

bool is_hostname_error(int code) {
  return code == X509_V_ERR_HOSTNAME_MISMATCH || code == X509_V_ERR_IP_ADDRESS_MISMATCH ||
         code == X509_V_ERR_EMAIL_MISMATCH;
}

bool is_validity_error(int code) {
  return code == X509_V_ERR_CERT_HAS_EXPIRED || code == X509_V_ERR_CERT_NOT_YET_VALID ||
         code == X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD ||
         code == X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD;
}

std::string alert_label(const TlsOutcome& tls) {
  return tls.alert_text.empty() ? fmt::format("alert {}", tls.alert_received)
                                : fmt::format("alert {} ({})", tls.alert_received, tls.alert_text);
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}


Failure validity_failure(const VerifyError& e, std::time_t now) {
  std::string which = e.depth == 0 ? "the server certificate" : fmt::format("a CA certificate in the chain ({})", e.subject);
  if (e.code == X509_V_ERR_CERT_NOT_YET_VALID) {
    long days = days_between(now, e.not_before);
    std::string when = days <= 0 ? "later today" : "in " + day_count(days);
    return {ProbeClass::tls_expired,
            fmt::format("{} is not valid yet (notBefore {})", which, format_date(e.not_before)),
            fmt::format("certificate becomes valid {} (notBefore {}): check the clocks of this machine and of "
                        "the server, or reissue the certificate",
                        when, format_date(e.not_before))};
  }
  if (e.code == X509_V_ERR_CERT_HAS_EXPIRED) {
    long days = days_between(e.not_after, now);
    std::string when = days <= 0 ? "today" : day_count(days) + " ago";
    return {ProbeClass::tls_expired,
            fmt::format("{} has expired (notAfter {})", which, format_date(e.not_after)),
            fmt::format("certificate expired {} (notAfter {}): renew the server certificate (or check this "
                        "machine's clock)",
                        when, format_date(e.not_after))};
  }
  return {ProbeClass::tls_expired, fmt::format("{} has an invalid validity period: {}", which, e.reason),
          "reissue the server certificate with a valid notBefore/notAfter"};
}

}  // namespace

std::string_view class_name(ProbeClass c) {
  switch (c) {
    case ProbeClass::ok: return "ok";
    case ProbeClass::dns: return "dns";
    case ProbeClass::tcp_refused: return "tcp_refused";
    case ProbeClass::tcp_timeout: return "tcp_timeout";
    case ProbeClass::unreachable: return "unreachable";
    case ProbeClass::tls_handshake: return "tls_handshake";
    case ProbeClass::tls_untrusted: return "tls_untrusted";
    case ProbeClass::tls_expired: return "tls_expired";
    case ProbeClass::tls_hostname: return "tls_hostname";
    case ProbeClass::server_plaintext: return "server_plaintext";
    case ProbeClass::server_tls: return "server_tls";
    case ProbeClass::no_h2: return "no_h2";
    case ProbeClass::tls_client_cert: return "tls_client_cert";
    case ProbeClass::not_http2: return "not_http2";
    case ProbeClass::grpc_deadline: return "grpc_deadline";
    case ProbeClass::grpc_error: return "grpc_error";
    case ProbeClass::not_serving: return "not_serving";
  }
  return "unknown";
}

int exit_code(ProbeClass c) {
  switch (c) {
    case ProbeClass::ok: return 0;
    case ProbeClass::dns: return 10;
    case ProbeClass::tcp_refused: return 11;
    case ProbeClass::tcp_timeout: return 12;
    case ProbeClass::unreachable: return 13;
    case ProbeClass::tls_handshake: return 20;
    case ProbeClass::tls_untrusted: return 21;
    case ProbeClass::tls_expired: return 22;
    case ProbeClass::tls_hostname: return 23;
    case ProbeClass::server_plaintext: return 24;
    case ProbeClass::server_tls: return 25;
    case ProbeClass::no_h2: return 26;
    case ProbeClass::tls_client_cert: return 27;
    case ProbeClass::not_http2: return 30;
    case ProbeClass::grpc_deadline: return 40;
    case ProbeClass::grpc_error: return 41;
    case ProbeClass::not_serving: return 42;
  }
  return 1;
}

Failure classify_dns(std::string_view host, std::string_view reason) {
  return {ProbeClass::dns, fmt::format("the name '{}' does not resolve: {}", host, reason),
          fmt::format("check the spelling of '{}' and the resolver (`getent hosts {}` shows what this machine "
                      "resolves it to)",
                      host, host)};
}

Failure classify_srv(std::string_view name, std::string_view reason) {
  return {ProbeClass::dns, fmt::format("the service name '{}' has no usable SRV record: {}", name, reason),
          fmt::format("check the service name (_service._proto.domain) and the resolver: `host -t SRV {}` shows the "
                      "records; give host:port instead to probe one address",
                      name)};
}

Failure classify_connect(int err, std::string_view address, std::string_view timeout_text) {
  switch (err) {
    case ECONNREFUSED:
    case ENOENT:  // a unix socket path with no socket: nothing listens there either
      return {ProbeClass::tcp_refused, fmt::format("connection to {} refused", address),
              fmt::format("nothing listens on {}: is the server running, on this {}?", address,
                          address.starts_with("unix") ? "socket path" : "port")};
    case ETIMEDOUT:
      return {ProbeClass::tcp_timeout, fmt::format("no answer from {} within {}", address, timeout_text),
              fmt::format("the connection attempt to {} got no answer: a firewall dropping packets, a wrong "
                          "address, or a server too busy to accept; try a longer --timeout",
                          address)};
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENETDOWN:
    case EHOSTDOWN:
    case EADDRNOTAVAIL:
      return {ProbeClass::unreachable, fmt::format("{} is unreachable: {}", address, std::strerror(err)),
              fmt::format("no route to {}: check the address, this machine's network interfaces and routes "
                          "(a VPN that is down?)",
                          address)};
    default:
      return {ProbeClass::unreachable, fmt::format("cannot connect to {}: {}", address, std::strerror(err)),
              fmt::format("the connection to {} failed before reaching a server: check the address and "
                          "permissions",
                          address)};
  }
}

bool looks_like_http2_frames(std::string_view b) {
  // A frame header: 24-bit length, type, flags, 31-bit stream id. A server's first frame is
  // SETTINGS (type 4) or a GOAWAY (type 7), both on stream 0, with a length that fits.
  if (b.size() < 9) return false;
  auto u = [&](size_t i) { return static_cast<unsigned char>(b[i]); };
  unsigned length = (u(0) << 16) | (u(1) << 8) | u(2);
  unsigned type = u(3);
  bool stream_zero = u(5) == 0 && u(6) == 0 && u(7) == 0 && u(8) == 0;
  return stream_zero && length <= 16384 && (type == 4 || type == 7);
}

Http2FrameScanner::State Http2FrameScanner::feed(std::string_view bytes) {
  if (m_state != State::need_more) return m_state;
  m_buffer.append(bytes);
  auto u = [&](size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(m_buffer[i])); };
  while (m_buffer.size() >= 9) {
    if (m_buffer.starts_with("HTTP/")) return m_state = State::not_http2;
    std::uint32_t length = (u(0) << 16) | (u(1) << 8) | u(2);
    std::uint32_t type = u(3), flags = u(4);
    // Frame types above 0x20 are not HTTP/2 ones a server sends; 16384 is the largest frame a
    // peer may send before our SETTINGS allowed more (SETTINGS itself carries no such limit).
    if (type > 0x20 || (length > 16384 && type != 4)) return m_state = State::not_http2;
    if (m_buffer.size() < 9 + static_cast<size_t>(length)) return m_state;
    std::string_view payload(m_buffer.data() + 9, length);
    ++m_frames;
    if (type == 4 && !(flags & 1)) {
      for (size_t i = 0; i + 6 <= payload.size(); i += 6) {
        auto p = [&](size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(payload[i + k])); };
        m_settings.emplace_back(static_cast<std::uint16_t>((p(0) << 8) | p(1)),
                                (p(2) << 24) | (p(3) << 16) | (p(4) << 8) | p(5));
      }
      return m_state = State::settings;
    }
    if (type == 7 && payload.size() >= 8) {
      m_goaway_error = (u(13) << 24) | (u(14) << 16) | (u(15) << 8) | u(16);
      return m_state = State::goaway;
    }
    m_buffer.erase(0, 9 + length);
    if (m_frames >= k_max_frames) return m_state = State::not_http2;
  }
  return m_state;
}

bool looks_like_tls_record(std::string_view b) {
  if (b.size() < 2) return false;
  auto type = static_cast<unsigned char>(b[0]);
  return (type == 0x16 || type == 0x15) && static_cast<unsigned char>(b[1]) == 0x03;
}

std::optional<Failure> classify_tls(const TlsOutcome& tls) {
  if (!tls.first_bytes.empty() && !looks_like_tls_record(tls.first_bytes)) {
    if (looks_like_http2_frames(tls.first_bytes))
      return Failure{ProbeClass::server_plaintext,
                     "TLS was asked for, but the server answered the ClientHello with plaintext HTTP/2 frames",
                     "the server speaks plaintext HTTP/2: add --plaintext (or enable TLS on the server)"};
    if (tls.first_bytes.starts_with("HTTP/"))
      return Failure{ProbeClass::tls_handshake,
                     fmt::format("the server answered the ClientHello with plaintext HTTP/1.x ('{}')",
                                 printable_bytes(tls.first_bytes)),
                     "this port serves plain HTTP/1, not TLS or gRPC: check the port"};
    return Failure{ProbeClass::tls_handshake,
                   fmt::format("the server answered the ClientHello with bytes that are not TLS ('{}')",
                               printable_bytes(tls.first_bytes)),
                   "this port does not serve TLS: check the port, or add --plaintext if the server runs without TLS"};
  }

  if (tls.alert_received >= 0) {
    int a = tls.alert_received;
    bool demands = a == k_alert_certificate_required ||
                   (tls.cert_requested && !tls.cert_sent &&
                    (a == k_alert_handshake_failure || a == k_alert_bad_certificate ||
                     a == k_alert_certificate_unknown || a == k_alert_unknown_ca || a == k_alert_access_denied));
    if (demands && !tls.cert_sent)
      return Failure{ProbeClass::tls_client_cert,
                     fmt::format("the server demands a client certificate and we sent none ({})", alert_label(tls)),
                     "the server requires mutual TLS: pass --cert FILE --key FILE with a certificate it trusts"};
    bool rejects = a == k_alert_certificate_required || a == k_alert_bad_certificate ||
                   a == k_alert_unsupported_certificate || a == k_alert_certificate_revoked ||
                   a == k_alert_certificate_expired || a == k_alert_certificate_unknown ||
                   a == k_alert_unknown_ca || a == k_alert_access_denied;
    if (tls.cert_sent && rejects)
      return Failure{ProbeClass::tls_client_cert,
                     fmt::format("the server rejected our client certificate ({})", alert_label(tls)),
                     "check that --cert is signed by a CA the server trusts (its --client-ca), is not expired "
                     "and allows client authentication"};
    if (a == k_alert_no_application_protocol)
      return Failure{ProbeClass::no_h2,
                     fmt::format("the server refused every ALPN protocol we offered (h2) ({})", alert_label(tls)),
                     "this TLS endpoint does not speak HTTP/2: point at the gRPC port, or enable h2 on the "
                     "proxy or load balancer in front of it"};
    return Failure{ProbeClass::tls_handshake,
                   fmt::format("the server ended the TLS handshake with {}", alert_label(tls)),
                   "the server refused the handshake: check the TLS versions and ciphers it accepts and the "
                   "name sent with --servername"};
  }

  if (tls.handshake_done && tls.closed_after_handshake && tls.cert_requested) {
    // A TLS 1.3 server that rejects the client certificate may hang up without an alert.
    if (!tls.cert_sent)
      return Failure{ProbeClass::tls_client_cert,
                     "the server asked for a client certificate, we sent none, and it closed the connection",
                     "the server requires mutual TLS: pass --cert FILE --key FILE with a certificate it trusts"};
    return Failure{ProbeClass::tls_client_cert,
                   "the server closed the connection after checking our client certificate",
                   "check that --cert is signed by a CA the server trusts (its --client-ca), is not expired "
                   "and allows client authentication"};
  }

  if (!tls.handshake_done) {
    if (tls.timed_out)
      return Failure{ProbeClass::tls_handshake, "no TLS answer from the server in time",
                     "the server accepted the connection but never answered the ClientHello: is this a TLS "
                     "port? add --plaintext if the server runs without TLS"};
    if (tls.peer_closed && tls.first_bytes.empty())
      return Failure{ProbeClass::tls_handshake, "the server closed the connection during the TLS handshake",
                     "the server dropped the ClientHello without a word: check that this port serves TLS "
                     "(`openssl s_client -connect HOST:PORT` shows more)"};
    return Failure{ProbeClass::tls_handshake,
                   fmt::format("the TLS handshake failed: {}",
                               tls.library_error.empty() ? std::string("unknown error") : tls.library_error),
                   "check that this port serves TLS (`openssl s_client -connect HOST:PORT` shows more)"};
  }

  if (tls.verify && !tls.verify_errors.empty()) {
    const VerifyError* untrusted = nullptr;
    const VerifyError* validity = nullptr;
    const VerifyError* hostname = nullptr;
    for (const auto& e : tls.verify_errors) {
      if (is_hostname_error(e.code)) {
        if (!hostname) hostname = &e;
      } else if (is_validity_error(e.code)) {
        if (!validity) validity = &e;
      } else if (!untrusted) {
        untrusted = &e;
      }
    }
    if (untrusted)
      return Failure{ProbeClass::tls_untrusted,
                     fmt::format("the server certificate is not trusted: {} (at depth {}, {})", untrusted->reason,
                                 untrusted->depth, untrusted->subject),
                     "pass the CA that signed the server certificate with --cacert FILE (or --insecure to skip "
                     "verification, for testing only)"};
    if (validity) return validity_failure(*validity, tls.now);
    if (hostname) {
      std::string names = tls.peer_names.empty() ? std::string("no names") : join(tls.peer_names);
      return Failure{ProbeClass::tls_hostname,
                     fmt::format("the server certificate does not match '{}' (it is for: {})", tls.checked_name,
                                 names),
                     fmt::format("connect with a name the certificate covers, or pass --servername NAME (one of: "
                                 "{}); or reissue the certificate with '{}' in its subjectAltName",
                                 names, tls.checked_name)};
    }
  }

  if (tls.alpn != "h2")
    return Failure{ProbeClass::no_h2,
                   tls.alpn.empty() ? std::string("TLS works, but the server selected no ALPN protocol (h2 was offered)")
                                    : fmt::format("TLS works, but the server selected ALPN '{}' instead of h2", tls.alpn),
                   "this TLS endpoint does not negotiate HTTP/2, which gRPC clients require: point at the gRPC "
                   "port, or enable h2 (ALPN) on the server or the proxy in front of it"};
  return std::nullopt;
}

std::optional<Failure> classify_http2(const Http2Outcome& h2, std::string_view timeout_text) {
  if (h2.got_settings) return std::nullopt;
  if (!h2.tls && (looks_like_tls_record(h2.first_bytes) || h2.tls_server_detected))
    return Failure{ProbeClass::server_tls, "plaintext was asked for, but the server speaks TLS",
                   "the server speaks TLS: drop --plaintext (add --cacert FILE or --insecure as needed)"};
  if (h2.first_bytes.starts_with("HTTP/"))
    return Failure{ProbeClass::not_http2,
                   fmt::format("the server answered the HTTP/2 preface with HTTP/1.x ('{}')",
                               printable_bytes(h2.first_bytes)),
                   "this is an HTTP/1 server, not gRPC: check the port, or make the server (or the proxy in "
                   "front) speak HTTP/2"};
  if (h2.goaway_error)
    return Failure{ProbeClass::not_http2,
                   fmt::format("the server sent GOAWAY (error {}) instead of its SETTINGS", *h2.goaway_error),
                   "the server refused the HTTP/2 connection: check its logs"};
  if (!h2.first_bytes.empty())
    return Failure{ProbeClass::not_http2,
                   fmt::format("the server answered the HTTP/2 preface with bytes that are not HTTP/2 ('{}')",
                               printable_bytes(h2.first_bytes)),
                   "this port does not serve HTTP/2: check the port and the protocol of the server"};
  if (h2.timed_out)
    return Failure{ProbeClass::not_http2, fmt::format("no HTTP/2 SETTINGS from the server within {}", timeout_text),
                   "the server accepted the connection but did not answer the HTTP/2 preface: is this an "
                   "HTTP/2 (gRPC) port?"};
  return Failure{ProbeClass::not_http2, "the server closed the connection without answering the HTTP/2 preface",
                 "this port does not serve HTTP/2: check the port and the protocol of the server"};
}

std::optional<Failure> classify_grpc(const GrpcOutcome& g, std::string_view timeout_text) {
  constexpr int k_ok = 0, k_deadline = 4, k_unimplemented = 12;
  int code = g.health_code;
  std::string message = g.health_message;
  std::string what = "health Check";
  if (code == k_unimplemented && g.reflection_code) {
    // UNIMPLEMENTED is a gRPC answer; so is anything reflection says, except a deadline.
    if (*g.reflection_code != k_deadline) return std::nullopt;
    code = *g.reflection_code;
    message = g.reflection_message;
    what = "reflection";
  }
  if (code == k_ok) {
    if (g.serving_status == "SERVING") return std::nullopt;
    std::string who = g.service.empty() ? std::string("the server") : fmt::format("service '{}'", g.service);
    return Failure{ProbeClass::not_serving,
                   fmt::format("a gRPC server answers, but its health service says {} is {}", who, g.serving_status),
                   "the server is up but not ready (starting, draining, or a dependency is down): check its "
                   "logs and readiness"};
  }
  if (code == k_unimplemented) return std::nullopt;
  if (code == k_deadline)
    return Failure{ProbeClass::grpc_deadline,
                   fmt::format("HTTP/2 works, but the gRPC {} got no answer within {}", what, timeout_text),
                   "the server accepts HTTP/2 but does not answer calls: it may be overloaded or stuck, or it "
                   "is not a gRPC server; try a longer --timeout"};
  std::string hint = rpc::hint_for_status(code, message, false);
  if (hint.empty())
    hint = "HTTP/2 works but the call failed: a proxy or a non-gRPC HTTP/2 server may be answering; the detail "
           "holds the status";
  return Failure{ProbeClass::grpc_error,
                 fmt::format("the gRPC {} failed: {} ({}): {}", what, rpc::status_name(code), code, message), hint};
}

long days_between(std::time_t from, std::time_t to) { return static_cast<long>((to - from) / 86400); }

std::string format_date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

std::string printable_bytes(std::string_view bytes) {
  std::string out;
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '\r') out += "\\r";
    else if (c == '\n') out += "\\n";
    else if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') out += ch;
    else out += fmt::format("\\x{:02x}", c);
  }
  return out;
}

}  // namespace grpcdx::probe
