// Unit tests for src/rpc/status_hints: which causes a status message reveals, and which it does not.
#include <doctest.h>

#include "rpc/status_hints.hpp"

using grpcdx::rpc::hint_for_status;

TEST_CASE("a plaintext call a TLS server hangs up on while connecting suggests TLS") {
  auto hint = hint_for_status(
      14, "failed to connect to all addresses; last error: UNAVAILABLE: ipv4:127.0.0.1:45005: Socket closed", true);
  CHECK(hint.starts_with("the server closed the connection before HTTP/2 started: if it serves TLS, drop --plaintext"));
  // Over TLS already, the same message says nothing about TLS.
  CHECK(hint_for_status(14, "failed to connect to all addresses; last error: UNAVAILABLE: x: Socket closed", false) ==
        "the connection was lost during the call (reset or closed by the server or something in between): "
        "`grpcdx probe` shows which layer fails");
}

TEST_CASE("a reset is never blamed on TLS") {
  CHECK(hint_for_status(14,
                        "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:33095: Failed to "
                        "connect to remote host: Connection reset by peer",
                        true) ==
        "the connection was reset before HTTP/2 started (a proxy, a firewall or an overloaded server?): `grpcdx "
        "probe` shows which layer fails");
  auto mid_call = hint_for_status(14, "recvmsg:Connection reset by peer", true);
  CHECK(mid_call.starts_with("the connection was lost during the call"));
  CHECK(mid_call.find("--plaintext") == std::string::npos);
}

TEST_CASE("other recognised causes") {
  CHECK(hint_for_status(14, "Handshake failed: WRONG_VERSION_NUMBER: wrong version number", false) ==
        "the server does not speak TLS on this port: try --plaintext");
  CHECK(hint_for_status(14, "failed to connect to all addresses; last error: ...: Connection refused", true) ==
        "nothing listens there: is the server running, on this port?");
  CHECK(hint_for_status(4, "Deadline Exceeded", true).starts_with("the deadline passed"));
  CHECK(hint_for_status(14, "backend overloaded", true).empty());
  CHECK(hint_for_status(2, "Socket closed", true).empty());
}

TEST_CASE("a message over the receive limit points at --max-msg-size") {
  CHECK(hint_for_status(8, "Received message larger than max (5242885 vs. 4194304)", true) ==
        "the message is larger than --max-msg-size allows (default 4MiB): raise it, e.g. --max-msg-size 16MiB, or 0 "
        "for no limit");
  // A server's own RESOURCE_EXHAUSTED (a quota, a rate limit) is something else.
  CHECK(hint_for_status(8, "quota exceeded", true) == "");
}
