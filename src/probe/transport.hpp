// A probe connection: one socket with deadline-bounded reads and writes, optionally wrapped in
// an OpenSSL session driven through memory BIOs, so every byte (and the first bytes the server
// sent) passes through code that polls against a deadline.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/x509.h>
#include <sys/socket.h>

#include <ctime>

#include "core/error.hpp"
#include "probe/classify.hpp"

using SSL = struct ssl_st;
using SSL_CTX = struct ssl_ctx_st;

namespace grpcdx::probe {

using Clock = std::chrono::steady_clock;

// One address to dial: an IPv4/IPv6 socket address or a unix socket path.
struct Endpoint {
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  std::string text;  // "127.0.0.1:50051", "[::1]:50051", "unix:/tmp/s"
  bool is_ipv6 = false;
  std::string name;  // the SRV target it was found under ("a.svc.test"); empty otherwise
};

// The result of one deadline-bounded I/O operation.
enum class IoStatus { ok, timeout, closed, error };

// What the TLS handshake needs to know.
struct TlsSettings {
  bool verify = true;           // false under --insecure
  std::string cacert;           // PEM file; empty: the system roots
  std::string cert, key;        // client certificate and key, both or neither
  std::string name;             // SNI (unless an IP literal) and the name checked
};

class Transport {
 public:
  // Takes ownership of a connected socket.
  explicit Transport(int fd);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Runs a TLS handshake over the socket, all I/O bounded by `deadline`, and fills `out` with
  // what it saw (alerts, first bytes, verify errors, ALPN). Afterwards, when the handshake
  // succeeded, read/write go through TLS. Fails (local) only when the CA bundle or client
  // certificate cannot be loaded; a failed handshake is data in `out`.
  Result<void> start_tls(const TlsSettings& settings, Clock::time_point deadline, TlsOutcome& out);

  // The OpenSSL session after start_tls (for its version, cipher and peer chain); null before
  // start_tls or when TLS is not in use.
  SSL* ssl() const { return m_ssl; }

  // Writes all of `data` (through TLS when started). Returns timeout when the deadline passes
  // first, closed when the peer has gone, error on any other failure.
  IoStatus write_all(std::string_view data, Clock::time_point deadline);

  // Appends at least one byte to `out` unless the deadline passes, the peer closes, or an
  // error occurs. For TLS, plaintext application bytes.
  IoStatus read_some(std::string& out, Clock::time_point deadline);

  // The first bytes (up to 16) read from the socket, raw, before any decryption.
  const std::string& first_raw_bytes() const { return m_first_raw; }

  // The TLS alert the server sent after the handshake (e.g. certificate_required in TLS 1.3),
  // -1 when none.
  int late_alert() const;
  std::string late_alert_text() const;

  // The OpenSSL error text of the last failed operation.
  const std::string& last_error() const { return m_last_error; }

  // True once a read or write failed because the peer reset the connection (ECONNRESET), so a
  // reset can be told from an orderly close.
  bool peer_reset() const { return m_peer_reset; }

  struct TlsState;  // the callbacks' record of the handshake (defined in the .cpp)

 private:
  IoStatus raw_write(std::string_view data, Clock::time_point deadline);
  IoStatus raw_read(std::string& out, Clock::time_point deadline);
  IoStatus flush_tls(Clock::time_point deadline);

  int m_fd = -1;
  SSL_CTX* m_ctx = nullptr;
  SSL* m_ssl = nullptr;
  std::unique_ptr<TlsState> m_state;
  std::string m_first_raw;
  std::string m_last_error;
  bool m_peer_reset = false;
};

// Connects to `ep` without blocking past `deadline`. On success returns the socket and sets
// err to 0; on failure returns -1 with err an errno value (ETIMEDOUT when the deadline passed).
int connect_before(const Endpoint& ep, Clock::time_point deadline, int& err);

// An X.509 name as RFC 2253 text ("CN=localhost,O=grpcdx").
std::string x509_name_text(const X509_NAME* name);

// An ASN.1 time as seconds since the epoch (0 when absent or unreadable).
std::time_t x509_time(const ASN1_TIME* t);

}  // namespace grpcdx::probe
