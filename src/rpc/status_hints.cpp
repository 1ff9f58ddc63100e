// Recognises common causes in gRPC status messages and says what to try.
#include "rpc/status_hints.hpp"

namespace grpcdx::rpc {

std::string hint_for_status(int code, std::string_view message, bool plaintext) {
  auto has = [&](std::string_view s) { return message.find(s) != std::string_view::npos; };
  if (code == 14) {
    if (has("wrong version number") || has("packet length too long") || has("http request"))
      return "the server does not speak TLS on this port: try --plaintext";
    if (has("CERTIFICATE_VERIFY_FAILED") || has("certificate verify failed"))
      return "the server certificate is not trusted: pass its CA with --cacert, or --insecure to skip verification";
    if (has("Connection refused")) return "nothing listens there: is the server running, on this port?";
    if (has("certificate required") || has("CERTIFICATE_REQUIRED") || has("alert handshake failure"))
      return "the server may demand a client certificate: pass --cert and --key";
    if (has("DNS resolution failed") || has("Name or service not known"))
      return "the name does not resolve: check the host name";
    // A peer that hangs up is a TLS server reading a plaintext preface only while connecting
    // ("failed to connect to all addresses"); a reset in the middle of a call is something else.
    const bool connecting = has("failed to connect to all addresses");
    const bool closed = has("Socket closed") || has("FD shutdown") || has("Endpoint closing");
    const bool reset = has("Connection reset") || has("Broken pipe");
    if (connecting && plaintext && closed)
      return "the server closed the connection before HTTP/2 started: if it serves TLS, drop --plaintext (add "
             "--insecure or --cacert if its certificate is not trusted)";
    if (connecting && reset)
      return "the connection was reset before HTTP/2 started (a proxy, a firewall or an overloaded server?): "
             "`grpcdx probe` shows which layer fails";
    if (closed || reset)
      return "the connection was lost during the call (reset or closed by the server or something in between): "
             "`grpcdx probe` shows which layer fails";
  }
  if (code == 8 && (has("larger than max") || has("exceeds maximum")))
    return "the message is larger than --max-msg-size allows (default 4MiB): raise it, e.g. --max-msg-size 16MiB, "
           "or 0 for no limit";
  if (code == 4) return "the deadline passed: raise --timeout, or run `grpcdx probe` to see which layer is slow";
  if (code == 12 && has("Received http2 header with status"))
    return "the server answered with HTTP 404: is this a gRPC server, and is the path right?";
  return {};
}

}  // namespace grpcdx::rpc
