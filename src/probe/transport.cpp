// Deadline-bounded socket I/O and an OpenSSL client session over memory BIOs for the probe.
#include "probe/transport.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace grpcdx::probe {

namespace {

constexpr size_t k_first_bytes = 16;
constexpr const char* k_system_roots = "/etc/ssl/certs/ca-certificates.crt";

// Milliseconds left until `deadline` for poll(), at least 0.
int ms_left(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  if (left <= 0) return 0;
  return static_cast<int>(std::min<long long>(left + 1, 1 << 30));
}

// Waits for `events` on fd; true when ready, false when the deadline passed.
bool wait_fd(int fd, short events, Clock::time_point deadline) {
  while (true) {
    pollfd p{fd, events, 0};
    int left = ms_left(deadline);
    int r = ::poll(&p, 1, left);
    if (r > 0) return true;
    if (r < 0 && errno == EINTR) continue;
    if (r == 0 && Clock::now() < deadline) continue;
    return false;
  }
}

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  std::string text;
  while (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (text.empty()) {
      const char* reason = ERR_reason_error_string(e);
      text = reason ? reason : buf;
    }
    e = ERR_get_error();
  }
  return text;
}

bool is_ip_literal(const std::string& s) {
  in6_addr a6;
  in_addr a4;
  return inet_pton(AF_INET, s.c_str(), &a4) == 1 || inet_pton(AF_INET6, s.c_str(), &a6) == 1;
}

}  // namespace

// What the OpenSSL callbacks saw; reachable from the SSL object through its app data.
struct Transport::TlsState {
  TlsOutcome* outcome = nullptr;
  int late_alert = -1;
  bool handshake_done = false;
};

namespace {

int verify_callback(int preverify_ok, X509_STORE_CTX* store) {
  if (preverify_ok) return 1;
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* state = static_cast<Transport::TlsState*>(SSL_get_app_data(ssl));
  if (state && state->outcome) {
    VerifyError e;
    e.code = X509_STORE_CTX_get_error(store);
    e.depth = X509_STORE_CTX_get_error_depth(store);
    e.reason = X509_verify_cert_error_string(e.code);
    if (X509* cert = X509_STORE_CTX_get_current_cert(store)) {
      e.subject = x509_name_text(X509_get_subject_name(cert));
      e.not_before = x509_time(X509_get0_notBefore(cert));
      e.not_after = x509_time(X509_get0_notAfter(cert));
    }
    state->outcome->verify_errors.push_back(std::move(e));
  }
  return 1;  // carry on: the probe classifies the errors itself and reports the whole chain
}

void message_callback(int write_p, int, int content_type, const void* buf, size_t len, SSL*, void* arg) {
  auto* state = static_cast<Transport::TlsState*>(arg);
  if (!state || write_p) return;
  auto* bytes = static_cast<const unsigned char*>(buf);
  if (content_type == SSL3_RT_ALERT && len >= 2) {
    if (state->handshake_done) {
      state->late_alert = bytes[1];
    } else if (state->outcome) {
      state->outcome->alert_received = bytes[1];
      state->outcome->alert_text = SSL_alert_desc_string_long(bytes[1]);
    }
  } else if (content_type == SSL3_RT_HANDSHAKE && len >= 1 && bytes[0] == SSL3_MT_CERTIFICATE_REQUEST) {
    if (state->outcome) state->outcome->cert_requested = true;
  }
}

}  // namespace

int connect_before(const Endpoint& ep, Clock::time_point deadline, int& err) {
  int fd = ::socket(ep.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    err = errno;
    return -1;
  }
  int r = ::connect(fd, reinterpret_cast<const sockaddr*>(&ep.addr), ep.addr_len);
  if (r == 0) {
    err = 0;
    return fd;
  }
  if (errno != EINPROGRESS && errno != EAGAIN) {
    err = errno;
    ::close(fd);
    return -1;
  }
  if (!wait_fd(fd, POLLOUT, deadline)) {
    err = ETIMEDOUT;
    ::close(fd);
    return -1;
  }
  int so_error = 0;
  socklen_t len = sizeof so_error;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
  if (so_error != 0) {
    err = so_error;
    ::close(fd);
    return -1;
  }
  err = 0;
  return fd;
}

Transport::Transport(int fd) : m_fd(fd), m_state(std::make_unique<TlsState>()) {}

Transport::~Transport() {
  if (m_ssl) SSL_free(m_ssl);
  if (m_ctx) SSL_CTX_free(m_ctx);
  if (m_fd >= 0) ::close(m_fd);
}

IoStatus Transport::raw_write(std::string_view data, Clock::time_point deadline) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(m_fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_fd(m_fd, POLLOUT, deadline)) return IoStatus::timeout;
      continue;
    }
    m_last_error = std::strerror(errno);
    m_peer_reset = m_peer_reset || errno == ECONNRESET;
    return (errno == EPIPE || errno == ECONNRESET) ? IoStatus::closed : IoStatus::error;
  }
  return IoStatus::ok;
}

IoStatus Transport::raw_read(std::string& out, Clock::time_point deadline) {
  char buf[16384];
  while (true) {
    ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
    if (n > 0) {
      if (m_first_raw.size() < k_first_bytes)
        m_first_raw.append(buf, std::min(static_cast<size_t>(n), k_first_bytes - m_first_raw.size()));
      out.append(buf, static_cast<size_t>(n));
      return IoStatus::ok;
    }
    if (n == 0) return IoStatus::closed;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!wait_fd(m_fd, POLLIN, deadline)) return IoStatus::timeout;
      continue;
    }
    m_last_error = std::strerror(errno);
    m_peer_reset = m_peer_reset || errno == ECONNRESET;
    return errno == ECONNRESET ? IoStatus::closed : IoStatus::error;
  }
}

IoStatus Transport::flush_tls(Clock::time_point deadline) {
  BIO* wbio = SSL_get_wbio(m_ssl);
  char* data = nullptr;
  long len = BIO_get_mem_data(wbio, &data);
  if (len <= 0) return IoStatus::ok;
  IoStatus st = raw_write(std::string_view(data, static_cast<size_t>(len)), deadline);
  (void)BIO_reset(wbio);
  return st;
}

Result<void> Transport::start_tls(const TlsSettings& s, Clock::time_point deadline, TlsOutcome& out) {
  out.verify = s.verify;
  out.checked_name = s.name;
  out.cert_sent = !s.cert.empty();
  out.now = std::time(nullptr);
  m_state->outcome = &out;
  m_ctx = SSL_CTX_new(TLS_client_method());
  if (!m_ctx) return local_error("cannot create a TLS context: " + openssl_error());
  SSL_CTX_set_min_proto_version(m_ctx, TLS1_2_VERSION);
  const std::string roots = s.cacert.empty() ? std::string(k_system_roots) : s.cacert;
  if (SSL_CTX_load_verify_locations(m_ctx, roots.c_str(), nullptr) != 1) {
    std::string why = openssl_error();
    if (!s.cacert.empty()) return local_error(fmt::format("cannot read CA bundle '{}': {}", s.cacert, why));
    SSL_CTX_set_default_verify_paths(m_ctx);
  }
  if (!s.cert.empty()) {
    if (SSL_CTX_use_certificate_chain_file(m_ctx, s.cert.c_str()) != 1)
      return local_error(fmt::format("cannot read client certificate '{}': {}", s.cert, openssl_error()));
    if (SSL_CTX_use_PrivateKey_file(m_ctx, s.key.c_str(), SSL_FILETYPE_PEM) != 1)
      return local_error(fmt::format("cannot read client key '{}': {}", s.key, openssl_error()));
    if (SSL_CTX_check_private_key(m_ctx) != 1)
      return local_error(fmt::format("client key '{}' does not match certificate '{}'", s.key, s.cert));
  }
  SSL_CTX_set_verify(m_ctx, SSL_VERIFY_PEER, verify_callback);

  m_ssl = SSL_new(m_ctx);
  if (!m_ssl) return local_error("cannot create a TLS session: " + openssl_error());
  SSL_set_app_data(m_ssl, m_state.get());
  SSL_set_msg_callback(m_ssl, message_callback);
  SSL_set_msg_callback_arg(m_ssl, m_state.get());
  SSL_set_bio(m_ssl, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
  // Offering http/1.1 besides h2 lets the report say what a server without h2 chose.
  static const unsigned char k_alpn[] = "\x02h2\x08http/1.1";
  SSL_set_alpn_protos(m_ssl, k_alpn, sizeof k_alpn - 1);
  bool ip = is_ip_literal(s.name);
  if (!ip && !s.name.empty()) SSL_set_tlsext_host_name(m_ssl, s.name.c_str());
  if (s.verify && !s.name.empty()) {
    X509_VERIFY_PARAM* param = SSL_get0_param(m_ssl);
    if (ip) X509_VERIFY_PARAM_set1_ip_asc(param, s.name.c_str());
    else X509_VERIFY_PARAM_set1_host(param, s.name.c_str(), 0);
  }
  SSL_set_connect_state(m_ssl);

  ERR_clear_error();
  while (true) {
    int r = SSL_do_handshake(m_ssl);
    IoStatus flushed = flush_tls(deadline);
    if (r == 1) break;
    int err = SSL_get_error(m_ssl, r);
    if (err == SSL_ERROR_WANT_READ && flushed == IoStatus::ok) {
      std::string chunk;
      IoStatus st = raw_read(chunk, deadline);
      if (st == IoStatus::ok) {
        BIO_write(SSL_get_rbio(m_ssl), chunk.data(), static_cast<int>(chunk.size()));
        continue;
      }
      out.timed_out = st == IoStatus::timeout;
      out.peer_closed = st == IoStatus::closed;
      out.library_error = st == IoStatus::error ? m_last_error : "";
    } else if (flushed != IoStatus::ok) {
      out.timed_out = flushed == IoStatus::timeout;
      out.peer_closed = flushed == IoStatus::closed;
    } else {
      out.library_error = openssl_error();
    }
    out.first_bytes = m_first_raw;
    m_state->outcome = nullptr;
    return {};
  }
  out.handshake_done = true;
  m_state->handshake_done = true;
  out.first_bytes = m_first_raw;
  const unsigned char* alpn = nullptr;
  unsigned alpn_len = 0;
  SSL_get0_alpn_selected(m_ssl, &alpn, &alpn_len);
  out.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
  if (X509* leaf = SSL_get0_peer_certificate(m_ssl)) {
    auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr));
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
      if (n->type == GEN_DNS) {
        const auto* d = n->d.dNSName;
        out.peer_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(d)),
                                    static_cast<size_t>(ASN1_STRING_length(d)));
      } else if (n->type == GEN_IPADD) {
        const auto* d = n->d.iPAddress;
        char text[INET6_ADDRSTRLEN] = {};
        int len = ASN1_STRING_length(d);
        if (len == 4) inet_ntop(AF_INET, ASN1_STRING_get0_data(d), text, sizeof text);
        else if (len == 16) inet_ntop(AF_INET6, ASN1_STRING_get0_data(d), text, sizeof text);
        out.peer_names.push_back(std::string("IP:") + text);
      }
    }
    GENERAL_NAMES_free(names);
    if (out.peer_names.empty()) {
      char cn[256] = {};
      if (X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn, sizeof cn) > 0)
        out.peer_names.push_back(std::string("CN:") + cn);
    }
  }
  m_state->outcome = nullptr;
  return {};
}

IoStatus Transport::write_all(std::string_view data, Clock::time_point deadline) {
  if (!m_ssl) return raw_write(data, deadline);
  ERR_clear_error();
  int r = SSL_write(m_ssl, data.data(), static_cast<int>(data.size()));
  if (r <= 0) {
    m_last_error = openssl_error();
    return IoStatus::error;
  }
  return flush_tls(deadline);
}

IoStatus Transport::read_some(std::string& out, Clock::time_point deadline) {
  if (!m_ssl) return raw_read(out, deadline);
  char buf[16384];
  while (true) {
    ERR_clear_error();
    int r = SSL_read(m_ssl, buf, sizeof buf);
    if (r > 0) {
      out.append(buf, static_cast<size_t>(r));
      return IoStatus::ok;
    }
    int err = SSL_get_error(m_ssl, r);
    if (flush_tls(deadline) != IoStatus::ok) return IoStatus::closed;
    if (err == SSL_ERROR_WANT_READ) {
      std::string chunk;
      IoStatus st = raw_read(chunk, deadline);
      if (st != IoStatus::ok) return st;
      BIO_write(SSL_get_rbio(m_ssl), chunk.data(), static_cast<int>(chunk.size()));
      continue;
    }
    if (err == SSL_ERROR_ZERO_RETURN) return IoStatus::closed;
    m_last_error = openssl_error();
    return m_state->late_alert >= 0 ? IoStatus::closed : IoStatus::error;
  }
}

int Transport::late_alert() const { return m_state->late_alert; }

std::string Transport::late_alert_text() const {
  return m_state->late_alert >= 0 ? SSL_alert_desc_string_long(m_state->late_alert) : "";
}

std::time_t x509_time(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return timegm(&tm);
}

std::string x509_name_text(const X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

}  // namespace grpcdx::probe
