// Fuzzes the probe's reading of a server's first bytes: the HTTP/2 frame scanner (fed whole and
// in chunks, which must agree), the TLS handshake over a real socket whose peer sends the input
// and hangs up, and the classifiers that turn what was seen into a verdict. No crash, no hang,
// and every failure has a class with an exit code, a summary and a hint.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <utility>

#include "fuzz_util.hpp"
#include "probe/classify.hpp"
#include "probe/transport.hpp"

using namespace grpcdx;
using namespace grpcdx::probe;

namespace {

void check_failure(const std::optional<Failure>& f) {
  if (!f) return;
  FUZZ_CHECK(f->cls != ProbeClass::ok);
  FUZZ_CHECK(exit_code(f->cls) >= 10 && exit_code(f->cls) <= 49);
  FUZZ_CHECK(!f->summary.empty() && !f->hint.empty());
  FUZZ_CHECK(f->summary.find('\n') == std::string::npos);
}

// A connected socket whose peer has already sent `bytes` and shut down its writing side; the
// peer stays open (what we send lands in its buffer) until this object goes.
struct PeerSocket {
  int ours = -1, peer = -1;
  explicit PeerSocket(std::string_view bytes) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return;
    ours = fds[0];
    peer = fds[1];
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(peer, bytes.data() + done, bytes.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::shutdown(peer, SHUT_WR);
  }
  ~PeerSocket() {
    if (peer >= 0) ::close(peer);
  }
  // Hands our end to a Transport, which closes it.
  int release() { return std::exchange(ours, -1); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 65536) return 0;  // the socket buffer holds the whole answer
  const uint8_t control = data[0];
  auto bytes = fuzz::as_text(data + 1, size - 1);

  // The HTTP/2 scanner: feeding in chunks gives the same answer as feeding at once.
  Http2FrameScanner whole;
  whole.feed(bytes);
  Http2FrameScanner chunked;
  const size_t chunk = 1 + (control & 0x0f);
  for (size_t pos = 0; pos < bytes.size(); pos += chunk) chunked.feed(bytes.substr(pos, chunk));
  FUZZ_CHECK(whole.state() == chunked.state());
  FUZZ_CHECK(whole.settings() == chunked.settings());
  FUZZ_CHECK(whole.goaway_error() == chunked.goaway_error());

  // The classifiers over what the HTTP/2 stage saw.
  Http2Outcome h2;
  h2.first_bytes = std::string(bytes.substr(0, 16));
  h2.got_settings = whole.state() == Http2FrameScanner::State::settings;
  h2.tls = control & 0x10;
  h2.peer_closed = true;
  if (whole.state() == Http2FrameScanner::State::goaway) h2.goaway_error = whole.goaway_error();
  check_failure(classify_http2(h2, "5s"));
  FUZZ_CHECK(printable_bytes(bytes).find('\n') == std::string::npos);

  // A real TLS handshake against a peer that answers with the input, then the classification.
  if (control & 0x20) {
    PeerSocket peer(bytes);
    if (peer.ours < 0) return 0;
    Transport t(peer.release());
    TlsSettings settings;
    // A one-certificate CA file: loading the system roots for every input would take most of
    // the time (about a second under the sanitizers).
    settings.verify = control & 0x40;
    settings.cacert = GRPCDX_FUZZ_PROTO_DIR "/ca.pem";
    settings.name = "localhost";
    TlsOutcome outcome;
    auto started = t.start_tls(settings, Clock::now() + std::chrono::seconds(2), outcome);
    FUZZ_CHECK(started.has_value());
    FUZZ_CHECK(!outcome.timed_out);  // the peer has hung up: nothing to wait for
    check_failure(classify_tls(outcome));
  } else {
    // The plaintext path of the HTTP/2 stage: read until the scanner decides or the peer closes.
    PeerSocket peer(bytes);
    if (peer.ours < 0) return 0;
    Transport t(peer.release());
    Http2FrameScanner scanner;
    IoStatus st = IoStatus::ok;
    auto deadline = Clock::now() + std::chrono::seconds(2);
    while (st == IoStatus::ok && scanner.state() == Http2FrameScanner::State::need_more) {
      std::string chunk_read;
      st = t.read_some(chunk_read, deadline);
      if (st == IoStatus::ok) scanner.feed(chunk_read);
    }
    FUZZ_CHECK(st != IoStatus::timeout);
    FUZZ_CHECK(scanner.state() == whole.state());
    FUZZ_CHECK(t.first_raw_bytes() == bytes.substr(0, 16));
  }
  return 0;
}
