// The probe's failure classes and the pure classification of each stage's raw outcome (errno,
// TLS verify errors and alerts, the first bytes read, the ALPN chosen, the gRPC status) into a
// class, a one-line summary and a hint. No I/O here, so unit tests feed canned outcomes.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace grpcdx::probe {

// The classes of SPEC.md's probe table, in exit-code order.
enum class ProbeClass {
  ok,
  dns,
  tcp_refused,
  tcp_timeout,
  unreachable,
  tls_handshake,
  tls_untrusted,
  tls_expired,
  tls_hostname,
  server_plaintext,
  server_tls,
  no_h2,
  tls_client_cert,
  not_http2,
  grpc_deadline,
  grpc_error,
  not_serving,
};

// "tls_expired" for ProbeClass::tls_expired.
std::string_view class_name(ProbeClass c);

// The process exit code of a class: 0, 10-13, 20-27, 30, 40-42 as in SPEC.md.
int exit_code(ProbeClass c);

// A stage's failure, ready for the verdict.
struct Failure {
  ProbeClass cls = ProbeClass::ok;
  std::string summary;  // what broke, one line
  std::string hint;     // what to do next, one line
};

// --- dns -----------------------------------------------------------------------------------

// The name did not resolve: `reason` is gai_strerror's text, or a timeout note.
Failure classify_dns(std::string_view host, std::string_view reason);

// dns: the SRV name `name` gave no usable record (`reason` says why: NXDOMAIN, no records,
// no target resolves, timeout).
Failure classify_srv(std::string_view name, std::string_view reason);

// --- tcp -----------------------------------------------------------------------------------

// A connect attempt that failed with `err` (an errno value; ETIMEDOUT when our own deadline
// passed with no answer). `address` is what was dialled, e.g. "127.0.0.1:50051" or
// "unix:/tmp/s". `timeout_text` is the stage bound as written ("5s").
Failure classify_connect(int err, std::string_view address, std::string_view timeout_text);

// --- tls -----------------------------------------------------------------------------------

// One certificate verification error reported by OpenSSL's verify callback.
struct VerifyError {
  int code = 0;          // X509_V_ERR_*
  int depth = 0;         // 0 = the server's own certificate
  std::string reason;    // X509_verify_cert_error_string
  std::string subject;   // of the certificate at `depth`
  std::time_t not_before = 0, not_after = 0;
};

// What the TLS handshake saw, as plain data.
struct TlsOutcome {
  bool handshake_done = false;   // SSL_do_handshake returned 1
  bool timed_out = false;        // the stage deadline passed first
  bool peer_closed = false;      // EOF or reset during the handshake
  int alert_received = -1;       // the TLS alert description the server sent, -1 for none
  std::string alert_text;        // SSL_alert_desc_string_long of it
  std::string first_bytes;       // the first bytes the server sent (up to 16)
  std::string library_error;     // OpenSSL's error string when the handshake failed
  bool verify = true;            // false under --insecure
  std::vector<VerifyError> verify_errors;
  bool cert_requested = false;   // the server asked for a client certificate
  bool cert_sent = false;        // we had one to send
  bool closed_after_handshake = false;  // TLS 1.3: the server hung up right after our Finished
  std::string alpn;              // the protocol the server selected, "" for none
  std::string checked_name;      // the name or IP checked against the certificate
  std::vector<std::string> peer_names;  // the server certificate's SANs (or CN without SANs)
  std::time_t now = 0;           // for "expired N days ago"
};

// The TLS stage's failure, or nullopt when TLS is fine and h2 was selected. Priority: an
// answer that is not TLS (plaintext HTTP/2 or HTTP/1.x), an alert about the client
// certificate, other handshake failures, then the verify errors (untrusted chain before
// expiry before hostname), then ALPN.
std::optional<Failure> classify_tls(const TlsOutcome& tls);

// True when `bytes` start like an HTTP/2 frame a server sends first (SETTINGS or GOAWAY on
// stream 0), i.e. a plaintext HTTP/2 server answering a TLS ClientHello.
bool looks_like_http2_frames(std::string_view bytes);

// True when `bytes` start like a TLS record (handshake or alert, version 3.x).
bool looks_like_tls_record(std::string_view bytes);

// --- http2 ---------------------------------------------------------------------------------

// What the HTTP/2 exchange saw after the client preface.
struct Http2Outcome {
  bool got_settings = false;   // a SETTINGS frame (not ACK) arrived first
  bool timed_out = false;
  bool peer_closed = false;
  std::string first_bytes;     // the first bytes read (up to 16)
  bool tls = false;            // the exchange ran over TLS
  bool tls_server_detected = false;  // plaintext: a second connection got a TLS ServerHello
  std::optional<std::uint32_t> goaway_error;  // a GOAWAY arrived before SETTINGS
};

// Reads the server's first HTTP/2 frames as bytes arrive, until its SETTINGS, a GOAWAY, or
// something that is not HTTP/2 (an HTTP/1.x answer, a frame header no server sends first, more
// than `k_max_frames` frames without SETTINGS). Pure, so the fuzzer and unit tests feed it bytes.
class Http2FrameScanner {
 public:
  enum class State { need_more, settings, goaway, not_http2 };
  static constexpr int k_max_frames = 32;

  // Adds bytes read from the server; returns the state after them. Once the state is not
  // need_more, further bytes are ignored.
  State feed(std::string_view bytes);
  State state() const { return m_state; }
  // The SETTINGS parameters (identifier, value) in the order sent, once state() is settings.
  const std::vector<std::pair<std::uint16_t, std::uint32_t>>& settings() const { return m_settings; }
  // The GOAWAY's error code, once state() is goaway.
  std::uint32_t goaway_error() const { return m_goaway_error; }

 private:
  State m_state = State::need_more;
  std::string m_buffer;  // bytes of the frame not yet complete
  int m_frames = 0;
  std::vector<std::pair<std::uint16_t, std::uint32_t>> m_settings;
  std::uint32_t m_goaway_error = 0;
};

// The HTTP/2 stage's failure, or nullopt when the server's SETTINGS arrived.
std::optional<Failure> classify_http2(const Http2Outcome& h2, std::string_view timeout_text);

// --- grpc ----------------------------------------------------------------------------------

// What the gRPC call saw: the health Check status (and serving status when OK), and, when
// health was UNIMPLEMENTED, the reflection status.
struct GrpcOutcome {
  int health_code = 0;
  std::string health_message;
  std::string serving_status;   // "SERVING", "NOT_SERVING", ... when health_code is OK
  std::string service;          // the service asked about ("" = the whole server)
  std::optional<int> reflection_code;  // when health was UNIMPLEMENTED
  std::string reflection_message;
};

// The gRPC stage's failure, or nullopt when a gRPC server answered and is serving.
std::optional<Failure> classify_grpc(const GrpcOutcome& g, std::string_view timeout_text);

// "3 days ago"/"in 3 days" style helper for certificates: whole days from `now` to `t`,
// rounded towards zero.
long days_between(std::time_t now, std::time_t t);

// "1 day", "3 days".
std::string day_count(long days);

// "2026-11-18" for a time_t, in UTC.
std::string format_date(std::time_t t);

// A short printable rendering of raw bytes: printable ASCII kept, the rest as \xNN.
std::string printable_bytes(std::string_view bytes);

}  // namespace grpcdx::probe
