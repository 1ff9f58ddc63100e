// Unit tests for src/net/security: which targets are loopback (decided from the text alone) and
// the --plaintext / --insecure warning.
#include <doctest.h>

#include "net/security.hpp"

using namespace grpcdx;

namespace {

bool loopback(const char* text) {
  auto t = net::parse_target(text);
  REQUIRE(t);
  return net::is_loopback_target(*t);
}

}  // namespace

TEST_CASE("loopback targets") {
  CHECK(loopback("localhost:50051"));
  CHECK(loopback("LocalHost:50051"));
  CHECK(loopback("localhost.:50051"));
  CHECK(loopback("127.0.0.1:443"));
  CHECK(loopback("127.255.3.4:443"));
  CHECK(loopback("[::1]:50051"));
  CHECK(loopback("[0:0:0:0:0:0:0:1]:50051"));
  CHECK(loopback("[::ffff:127.0.0.1]:50051"));
  CHECK(loopback("unix:/tmp/grpc.sock"));
  CHECK(loopback("unix-abstract:grpcdx"));
  CHECK(loopback("dns:///localhost:50051"));
  CHECK(loopback("ipv4:127.0.0.1:50051"));
  CHECK(loopback("ipv6:[::1]:50051"));
}

TEST_CASE("targets that are not loopback") {
  CHECK_FALSE(loopback("10.0.0.5:443"));
  CHECK_FALSE(loopback("128.0.0.1:443"));
  CHECK_FALSE(loopback("192.0.2.1:443"));
  CHECK_FALSE(loopback("[::2]:50051"));
  CHECK_FALSE(loopback("[::ffff:10.0.0.1]:50051"));
  CHECK_FALSE(loopback("api.example.com:443"));
  // Names are never resolved: even one that resolves to 127.0.0.1 is not known to be loopback.
  CHECK_FALSE(loopback("localhost.example.com:443"));
  CHECK_FALSE(loopback("my-localhost:443"));
  CHECK_FALSE(loopback("dns:///api.example.com:443"));
  CHECK_FALSE(loopback("dns:///api.example.com"));
  CHECK_FALSE(loopback("xds:///svc"));
  CHECK_FALSE(loopback("127.0.0.1.nip.io:443"));
}

TEST_CASE("exposure_warning") {
  auto remote = net::parse_target("10.0.0.5:443");
  auto local = net::parse_target("127.0.0.1:443");
  REQUIRE(remote);
  REQUIRE(local);
  CHECK(net::exposure_warning(*remote, true, false) ==
        "--plaintext sends everything unencrypted to 10.0.0.5:443 (not a loopback address)");
  CHECK(net::exposure_warning(*remote, false, true) ==
        "--insecure does not verify the certificate of 10.0.0.5:443 (not a loopback address): "
        "anyone on the path can impersonate the server");
  CHECK_FALSE(net::exposure_warning(*remote, false, false));
  CHECK_FALSE(net::exposure_warning(*local, true, false));
  CHECK_FALSE(net::exposure_warning(*local, false, true));
}
