// Unit tests for src/probe/classify: canned connect errors, handshakes, HTTP/2 answers and gRPC
// statuses in; the exact class, exit code, summary and hint out.
#include <doctest.h>

#include <cerrno>

#include <openssl/x509_vfy.h>

#include "probe/classify.hpp"
#include "probe/probe.hpp"

using namespace grpcdx::probe;

namespace {

// A handshake that went well: TLS 1.3 done, h2 selected, nothing wrong.
TlsOutcome good_tls() {
  TlsOutcome t;
  t.handshake_done = true;
  t.alpn = "h2";
  t.checked_name = "api.example.com";
  t.first_bytes = std::string("\x16\x03\x03\x00\x7a", 5);
  t.now = 1'800'000'000;  // 2027-01-15
  return t;
}

VerifyError verify_error(int code, int depth = 0) {
  VerifyError e;
  e.code = code;
  e.depth = depth;
  e.reason = X509_verify_cert_error_string(code);
  e.subject = "CN=api.example.com";
  return e;
}

}  // namespace

TEST_CASE("probe: every class has SPEC's name and exit code") {
  struct Row { ProbeClass c; const char* name; int code; };
  const Row rows[] = {
      {ProbeClass::ok, "ok", 0},
      {ProbeClass::dns, "dns", 10},
      {ProbeClass::tcp_refused, "tcp_refused", 11},
      {ProbeClass::tcp_timeout, "tcp_timeout", 12},
      {ProbeClass::unreachable, "unreachable", 13},
      {ProbeClass::tls_handshake, "tls_handshake", 20},
      {ProbeClass::tls_untrusted, "tls_untrusted", 21},
      {ProbeClass::tls_expired, "tls_expired", 22},
      {ProbeClass::tls_hostname, "tls_hostname", 23},
      {ProbeClass::server_plaintext, "server_plaintext", 24},
      {ProbeClass::server_tls, "server_tls", 25},
      {ProbeClass::no_h2, "no_h2", 26},
      {ProbeClass::tls_client_cert, "tls_client_cert", 27},
      {ProbeClass::not_http2, "not_http2", 30},
      {ProbeClass::grpc_deadline, "grpc_deadline", 40},
      {ProbeClass::grpc_error, "grpc_error", 41},
      {ProbeClass::not_serving, "not_serving", 42},
  };
  for (const auto& row : rows) {
    CHECK(class_name(row.c) == row.name);
    CHECK(exit_code(row.c) == row.code);
  }
}

TEST_CASE("probe: dns") {
  auto f = classify_dns("does-not-exist.invalid", "Name or service not known");
  CHECK(f.cls == ProbeClass::dns);
  CHECK(f.summary == "the name 'does-not-exist.invalid' does not resolve: Name or service not known");
  CHECK(f.hint ==
        "check the spelling of 'does-not-exist.invalid' and the resolver (`getent hosts does-not-exist.invalid` "
        "shows what this machine resolves it to)");
}

TEST_CASE("probe: tcp connect errors") {
  auto refused = classify_connect(ECONNREFUSED, "127.0.0.1:50051", "5s");
  CHECK(refused.cls == ProbeClass::tcp_refused);
  CHECK(refused.summary == "connection to 127.0.0.1:50051 refused");
  CHECK(refused.hint == "nothing listens on 127.0.0.1:50051: is the server running, on this port?");

  auto no_socket = classify_connect(ENOENT, "unix:/tmp/nope.sock", "5s");
  CHECK(no_socket.cls == ProbeClass::tcp_refused);
  CHECK(no_socket.hint == "nothing listens on unix:/tmp/nope.sock: is the server running, on this socket path?");

  auto timeout = classify_connect(ETIMEDOUT, "10.0.0.1:443", "500ms");
  CHECK(timeout.cls == ProbeClass::tcp_timeout);
  CHECK(timeout.summary == "no answer from 10.0.0.1:443 within 500ms");

  auto unreachable = classify_connect(ENETUNREACH, "127.0.0.1:1", "5s");
  CHECK(unreachable.cls == ProbeClass::unreachable);
  CHECK(unreachable.summary == "127.0.0.1:1 is unreachable: Network is unreachable");
  CHECK(classify_connect(EHOSTUNREACH, "h:1", "5s").cls == ProbeClass::unreachable);
  CHECK(classify_connect(EADDRNOTAVAIL, "[::1]:1", "5s").cls == ProbeClass::unreachable);
}

TEST_CASE("probe: a good handshake with h2 passes") {
  CHECK_FALSE(classify_tls(good_tls()).has_value());
}

TEST_CASE("probe: a plaintext HTTP/2 server answering the ClientHello") {
  TlsOutcome t;
  t.peer_closed = true;
  // SETTINGS frame header: length 0x12, type 4, flags 0, stream 0
  t.first_bytes = std::string("\x00\x00\x12\x04\x00\x00\x00\x00\x00\x00\x03", 11);
  auto f = classify_tls(t);
  REQUIRE(f);
  CHECK(f->cls == ProbeClass::server_plaintext);
  CHECK(exit_code(f->cls) == 24);
  CHECK(f->hint == "the server speaks plaintext HTTP/2: add --plaintext (or enable TLS on the server)");

  t.first_bytes = std::string("\x00\x00\x08\x07\x00\x00\x00\x00\x00", 9);  // GOAWAY
  CHECK(classify_tls(t)->cls == ProbeClass::server_plaintext);
}

TEST_CASE("probe: garbage or HTTP/1 in answer to the ClientHello is tls_handshake") {
  TlsOutcome t;
  t.first_bytes = "HTTP/1.1 400 Bad";
  auto f = classify_tls(t);
  REQUIRE(f);
  CHECK(f->cls == ProbeClass::tls_handshake);
  CHECK(f->summary == "the server answered the ClientHello with plaintext HTTP/1.x ('HTTP/1.1 400 Bad')");

  t.first_bytes = "garbage\r\n";
  CHECK(classify_tls(t)->summary ==
        "the server answered the ClientHello with bytes that are not TLS ('garbage\\r\\n')");

  TlsOutcome closed;
  closed.peer_closed = true;
  CHECK(classify_tls(closed)->summary == "the server closed the connection during the TLS handshake");
  TlsOutcome slow;
  slow.timed_out = true;
  CHECK(classify_tls(slow)->cls == ProbeClass::tls_handshake);
  CHECK(classify_tls(slow)->summary == "no TLS answer from the server in time");
}

TEST_CASE("probe: client certificate demanded or rejected") {
  TlsOutcome t;
  t.first_bytes = std::string("\x15\x03\x03\x00\x02", 5);
  t.alert_received = 116;
  t.alert_text = "certificate required";
  t.cert_requested = true;
  auto f = classify_tls(t);
  REQUIRE(f);
  CHECK(f->cls == ProbeClass::tls_client_cert);
  CHECK(f->summary == "the server demands a client certificate and we sent none (alert 116 (certificate required))");
  CHECK(f->hint == "the server requires mutual TLS: pass --cert FILE --key FILE with a certificate it trusts");

  // TLS 1.2: a handshake_failure after a CertificateRequest we could not answer.
  t.alert_received = 40;
  t.alert_text = "handshake failure";
  CHECK(classify_tls(t)->cls == ProbeClass::tls_client_cert);

  // The same alert without a certificate request is some other handshake problem.
  t.cert_requested = false;
  CHECK(classify_tls(t)->cls == ProbeClass::tls_handshake);
  CHECK(classify_tls(t)->summary == "the server ended the TLS handshake with alert 40 (handshake failure)");

  // We sent one and the server did not like it.
  t.cert_requested = true;
  t.cert_sent = true;
  t.alert_received = 48;
  t.alert_text = "unknown CA";
  CHECK(classify_tls(t)->cls == ProbeClass::tls_client_cert);
  CHECK(classify_tls(t)->summary == "the server rejected our client certificate (alert 48 (unknown CA))");
}

TEST_CASE("probe: a TLS 1.3 server that hangs up after asking for a certificate") {
  TlsOutcome t = good_tls();
  t.cert_requested = true;
  t.closed_after_handshake = true;
  auto f = classify_tls(t);
  REQUIRE(f);
  CHECK(f->cls == ProbeClass::tls_client_cert);
  CHECK(f->summary == "the server asked for a client certificate, we sent none, and it closed the connection");
  t.cert_sent = true;
  CHECK(classify_tls(t)->summary == "the server closed the connection after checking our client certificate");
  // Without a certificate request a close is not about certificates: TLS itself is fine.
  t.cert_requested = false;
  CHECK_FALSE(classify_tls(t).has_value());
}

TEST_CASE("probe: verify errors, by priority") {
  TlsOutcome t = good_tls();
  t.verify_errors.push_back(verify_error(X509_V_ERR_HOSTNAME_MISMATCH));
  t.peer_names = {"other.example.com", "IP:10.0.0.1"};
  auto host = classify_tls(t);
  REQUIRE(host);
  CHECK(host->cls == ProbeClass::tls_hostname);
  CHECK(host->summary ==
        "the server certificate does not match 'api.example.com' (it is for: other.example.com, IP:10.0.0.1)");

  VerifyError expired = verify_error(X509_V_ERR_CERT_HAS_EXPIRED);
  expired.not_after = t.now - 3 * 86400 - 100;
  t.verify_errors.push_back(expired);
  auto exp = classify_tls(t);
  REQUIRE(exp);
  CHECK(exp->cls == ProbeClass::tls_expired);
  CHECK(exp->summary == "the server certificate has expired (notAfter 2027-01-12)");
  CHECK(exp->hint ==
        "certificate expired 3 days ago (notAfter 2027-01-12): renew the server certificate (or check this "
        "machine's clock)");

  t.verify_errors.push_back(verify_error(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT));
  auto untrusted = classify_tls(t);
  REQUIRE(untrusted);
  CHECK(untrusted->cls == ProbeClass::tls_untrusted);
  CHECK(untrusted->summary ==
        "the server certificate is not trusted: self-signed certificate (at depth 0, CN=api.example.com)");

  // --insecure: the same errors do not count.
  t.verify = false;
  CHECK_FALSE(classify_tls(t).has_value());
}

TEST_CASE("probe: not yet valid") {
  TlsOutcome t = good_tls();
  VerifyError e = verify_error(X509_V_ERR_CERT_NOT_YET_VALID);
  e.not_before = t.now + 2 * 86400 + 5;
  t.verify_errors.push_back(e);
  auto f = classify_tls(t);
  REQUIRE(f);
  CHECK(f->cls == ProbeClass::tls_expired);
  CHECK(f->summary == "the server certificate is not valid yet (notBefore 2027-01-17)");
}

TEST_CASE("probe: ALPN without h2") {
  TlsOutcome t = good_tls();
  t.alpn = "http/1.1";
  auto f = classify_tls(t);
  REQUIRE(f);
  CHECK(f->cls == ProbeClass::no_h2);
  CHECK(f->summary == "TLS works, but the server selected ALPN 'http/1.1' instead of h2");
  t.alpn = "";
  CHECK(classify_tls(t)->summary == "TLS works, but the server selected no ALPN protocol (h2 was offered)");

  TlsOutcome refused;
  refused.alert_received = 120;
  refused.alert_text = "no application protocol";
  CHECK(classify_tls(refused)->cls == ProbeClass::no_h2);
}

TEST_CASE("probe: http2 answers") {
  Http2Outcome ok;
  ok.got_settings = true;
  CHECK_FALSE(classify_http2(ok, "5s").has_value());

  Http2Outcome http1;
  http1.first_bytes = "HTTP/1.0 400 Bad ";
  auto f = classify_http2(http1, "5s");
  REQUIRE(f);
  CHECK(f->cls == ProbeClass::not_http2);
  CHECK(f->summary == "the server answered the HTTP/2 preface with HTTP/1.x ('HTTP/1.0 400 Bad ')");

  Http2Outcome tls_alert;
  tls_alert.first_bytes = std::string("\x15\x03\x01\x00\x02\x02\x46", 7);
  auto t = classify_http2(tls_alert, "5s");
  REQUIRE(t);
  CHECK(t->cls == ProbeClass::server_tls);
  CHECK(t->hint == "the server speaks TLS: drop --plaintext (add --cacert FILE or --insecure as needed)");

  Http2Outcome closed_but_tls;
  closed_but_tls.peer_closed = true;
  closed_but_tls.tls_server_detected = true;
  CHECK(classify_http2(closed_but_tls, "5s")->cls == ProbeClass::server_tls);

  Http2Outcome silent;
  silent.timed_out = true;
  CHECK(classify_http2(silent, "500ms")->summary == "no HTTP/2 SETTINGS from the server within 500ms");

  // Over TLS a TLS-looking answer is just data: not server_tls.
  Http2Outcome inner;
  inner.tls = true;
  inner.first_bytes = std::string("\x16\x03\x01", 3);
  CHECK(classify_http2(inner, "5s")->cls == ProbeClass::not_http2);
}

TEST_CASE("probe: grpc outcomes") {
  GrpcOutcome serving;
  serving.serving_status = "SERVING";
  CHECK_FALSE(classify_grpc(serving, "5s").has_value());

  GrpcOutcome not_serving;
  not_serving.serving_status = "NOT_SERVING";
  auto ns = classify_grpc(not_serving, "5s");
  REQUIRE(ns);
  CHECK(ns->cls == ProbeClass::not_serving);
  CHECK(exit_code(ns->cls) == 42);
  CHECK(ns->summary == "a gRPC server answers, but its health service says the server is NOT_SERVING");

  GrpcOutcome deadline;
  deadline.health_code = 4;
  deadline.health_message = "Deadline Exceeded";
  auto d = classify_grpc(deadline, "500ms");
  REQUIRE(d);
  CHECK(d->cls == ProbeClass::grpc_deadline);
  CHECK(d->summary == "HTTP/2 works, but the gRPC health Check got no answer within 500ms");

  // UNIMPLEMENTED health is still a gRPC answer, whatever reflection says (bar a deadline).
  GrpcOutcome no_health;
  no_health.health_code = 12;
  CHECK_FALSE(classify_grpc(no_health, "5s").has_value());
  no_health.reflection_code = 12;
  CHECK_FALSE(classify_grpc(no_health, "5s").has_value());
  no_health.reflection_code = 4;
  CHECK(classify_grpc(no_health, "5s")->cls == ProbeClass::grpc_deadline);

  GrpcOutcome error;
  error.health_code = 2;
  error.health_message = "Received http2 header with status: 500";
  auto e = classify_grpc(error, "5s");
  REQUIRE(e);
  CHECK(e->cls == ProbeClass::grpc_error);
  CHECK(e->summary == "the gRPC health Check failed: UNKNOWN (2): Received http2 header with status: 500");
}

TEST_CASE("probe: frame and record sniffing") {
  CHECK(looks_like_http2_frames(std::string("\x00\x00\x00\x04\x01\x00\x00\x00\x00", 9)));
  CHECK_FALSE(looks_like_http2_frames(std::string("\x00\x00\x00\x01\x04\x00\x00\x00\x01", 9)));  // HEADERS
  CHECK_FALSE(looks_like_http2_frames("HTTP/1.1 200"));
  CHECK(looks_like_tls_record(std::string("\x16\x03\x03", 3)));
  CHECK_FALSE(looks_like_tls_record("PRI *"));
  CHECK(printable_bytes(std::string("A\x00\n", 3)) == "A\\x00\\n");
}

TEST_CASE("probe: the verdict is the first failed stage, and --all reports the worst") {
  StageResult dns{"dns", StageStatus::skip, {}, nlohmann::ordered_json::object(), std::nullopt};
  StageResult tcp{"tcp", StageStatus::ok, {}, nlohmann::ordered_json::object(), std::nullopt};
  StageResult tls{"tls", StageStatus::fail, {}, nlohmann::ordered_json::object(),
                  grpcdx::probe::Failure{ProbeClass::tls_expired, "expired", "renew"}};
  Verdict v = verdict_of({dns, tcp, tls}, "127.0.0.1:1");
  CHECK(v.cls == ProbeClass::tls_expired);
  CHECK(v.exit_code() == 22);
  CHECK(v.summary == "expired");
  CHECK(to_json(v).dump() ==
        R"({"ok":false,"class":"tls_expired","exit_code":22,"summary":"expired","hint":"renew"})");
  Verdict ok = verdict_of({dns, tcp}, "127.0.0.1:1");
  CHECK(ok.ok());
  CHECK(ok.summary == "every layer answered: 127.0.0.1:1 is a gRPC server");

  ProbeReport a, b, c;
  a.verdict = ok;
  b.verdict = Verdict{ProbeClass::not_serving, "", ""};
  c.verdict = Verdict{ProbeClass::tcp_refused, "", ""};
  CHECK(worst({a, b, c}).verdict.cls == ProbeClass::tcp_refused);
  CHECK(worst({a, b}).verdict.cls == ProbeClass::not_serving);
  CHECK(worst({a}).verdict.cls == ProbeClass::ok);
}

TEST_CASE("Http2FrameScanner reads the server's first frames, whole or in pieces") {
  auto frame = [](unsigned char type, unsigned char flags, const std::string& payload) {
    std::string f;
    f += static_cast<char>((payload.size() >> 16) & 0xff);
    f += static_cast<char>((payload.size() >> 8) & 0xff);
    f += static_cast<char>(payload.size() & 0xff);
    f += static_cast<char>(type);
    f += static_cast<char>(flags);
    f.append(4, '\0');
    return f + payload;
  };
  using State = Http2FrameScanner::State;
  const std::string settings = frame(4, 0, std::string("\x00\x03\x00\x00\x00\x64", 6));
  const std::string window = frame(8, 0, std::string("\x00\x00\x10\x00", 4));

  Http2FrameScanner whole;
  CHECK(whole.feed(window + settings) == State::settings);
  REQUIRE(whole.settings().size() == 1);
  CHECK(whole.settings()[0] == std::pair<std::uint16_t, std::uint32_t>{3, 100});

  Http2FrameScanner bytewise;
  std::string all = window + settings;
  for (size_t i = 0; i + 1 < all.size(); ++i) CHECK(bytewise.feed(all.substr(i, 1)) == State::need_more);
  CHECK(bytewise.feed(all.substr(all.size() - 1)) == State::settings);
  CHECK(bytewise.settings() == whole.settings());

  Http2FrameScanner goaway;
  CHECK(goaway.feed(frame(7, 0, std::string("\x00\x00\x00\x00\x00\x00\x00\x0b", 8))) == State::goaway);
  CHECK(goaway.goaway_error() == 11);

  CHECK(Http2FrameScanner().feed("HTTP/1.1 400 Bad Request\r\n") == State::not_http2);
  CHECK(Http2FrameScanner().feed(std::string("\xde\xad\xbe\xef\x00\x00\x00\x00\x00", 9)) == State::not_http2);
  CHECK(Http2FrameScanner().feed(std::string("\x00\x40\x01\x00\x00\x00\x00\x00\x00", 9)) == State::not_http2);
  Http2FrameScanner pings;
  std::string many;
  for (int i = 0; i < Http2FrameScanner::k_max_frames; ++i) many += frame(6, 0, std::string(8, '\0'));
  CHECK(pings.feed(many) == State::not_http2);
  CHECK(pings.feed(settings) == State::not_http2);  // decided: later bytes change nothing
}
