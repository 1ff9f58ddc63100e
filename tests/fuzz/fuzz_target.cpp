// Fuzzes parse_target (the TARGET argument) and the loopback decision behind the --plaintext /
// --insecure warning: no crash, and the parsed parts are consistent.
#include <cstdint>

#include "fuzz_util.hpp"
#include "net/security.hpp"
#include "net/target.hpp"

using namespace grpcdx;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = fuzz::as_text(data, size);
  auto t = net::parse_target(text);
  if (!t) {
    FUZZ_CHECK(t.error().kind == ErrorKind::usage);
    FUZZ_CHECK(t.error().message.starts_with("invalid target '"));
    return 0;
  }
  FUZZ_CHECK(t->original == text);
  FUZZ_CHECK(!t->grpc_uri.empty());
  bool loopback = net::is_loopback_target(*t);
  if (t->kind == net::Target::Kind::unix_socket) FUZZ_CHECK(loopback);
  auto plain = net::exposure_warning(*t, true, false);
  auto insecure = net::exposure_warning(*t, false, true);
  FUZZ_CHECK(plain.has_value() == !loopback);
  FUZZ_CHECK(insecure.has_value() == !loopback);
  FUZZ_CHECK(!net::exposure_warning(*t, false, false));
  if (t->kind == net::Target::Kind::host_port) {
    // host:port parses again to the same parts.
    auto again = net::parse_target(t->grpc_uri);
    FUZZ_CHECK(again && again->host == t->host && again->port == t->port);
  }
  return 0;
}
