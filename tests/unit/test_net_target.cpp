// Unit tests for src/net/target: every TARGET form of SPEC.md and the exact error texts.
#include <doctest.h>

#include "net/target.hpp"

using namespace grpcdx;
using grpcdx::net::parse_target;
using grpcdx::net::Target;

namespace {
constexpr const char* k_hint =
    "use host:port, [v6addr]:port, unix:/path/to/socket or a URI like dns:///host:port";
}

TEST_CASE("parse_target: host:port") {
  auto t = parse_target("localhost:50051");
  REQUIRE(t);
  CHECK(t->kind == Target::Kind::host_port);
  CHECK(t->original == "localhost:50051");
  CHECK(t->host == "localhost");
  CHECK(t->port == "50051");
  CHECK(t->grpc_uri == "localhost:50051");
  CHECK(t->authority == "localhost:50051");

  auto ip = parse_target("127.0.0.1:0");
  REQUIRE(ip);
  CHECK(ip->host == "127.0.0.1");
  CHECK(ip->port == "0");
}

TEST_CASE("parse_target: bracketed IPv6") {
  auto t = parse_target("[::1]:50051");
  REQUIRE(t);
  CHECK(t->kind == Target::Kind::host_port);
  CHECK(t->host == "::1");
  CHECK(t->port == "50051");
  CHECK(t->authority == "[::1]:50051");
  CHECK(t->grpc_uri == "[::1]:50051");
}

TEST_CASE("parse_target: unix sockets use :authority localhost") {
  for (const char* text : {"unix:/tmp/s", "unix:///tmp/s"}) {
    CAPTURE(text);
    auto t = parse_target(text);
    REQUIRE(t);
    CHECK(t->kind == Target::Kind::unix_socket);
    CHECK(t->host == "/tmp/s");
    CHECK(t->grpc_uri == "unix:/tmp/s");
    CHECK(t->authority == "localhost");
    CHECK(t->port.empty());
  }
}

TEST_CASE("parse_target: gRPC URIs") {
  auto t = parse_target("dns:///example.com:443");
  REQUIRE(t);
  CHECK(t->kind == Target::Kind::uri);
  CHECK(t->grpc_uri == "dns:///example.com:443");
  CHECK(t->host == "example.com");
  CHECK(t->port == "443");
  CHECK(t->authority == "example.com:443");

  auto bare = parse_target("dns:///example.com");
  REQUIRE(bare);
  CHECK(bare->host == "example.com");
  CHECK(bare->port == "443");

  auto v4 = parse_target("ipv4:127.0.0.1:8080");
  REQUIRE(v4);
  CHECK(v4->kind == Target::Kind::uri);
  CHECK(v4->host == "127.0.0.1");
  CHECK(v4->port == "8080");
}

TEST_CASE("parse_target: errors are usage errors with exact text and a hint") {
  auto check_error = [](const char* text, const char* message) {
    CAPTURE(text);
    auto t = parse_target(text);
    REQUIRE(!t);
    CHECK(t.error().kind == ErrorKind::usage);
    CHECK(t.error().message == message);
    CHECK(t.error().hint == k_hint);
  };
  check_error("nonsense", "invalid target 'nonsense': missing ':port'");
  check_error("host:99999", "invalid target 'host:99999': '99999' is not a port number (0-65535)");
  check_error("host:http", "invalid target 'host:http': 'http' is not a port number (0-65535)");
  check_error("host:", "invalid target 'host:': '' is not a port number (0-65535)");
  check_error("[::1", "invalid target '[::1': missing ']' after the IPv6 address");
  check_error("[::1]", "invalid target '[::1]': missing ':port' after the address");
  check_error("::1:50051", "invalid target '::1:50051': an IPv6 address needs brackets, as in [::1]:50051");
  check_error(":50051", "invalid target ':50051': missing host");
  check_error("", "invalid target '': empty");
  check_error("unix:", "invalid target 'unix:': empty socket path");
  check_error("local host:1", "invalid target 'local host:1': contains white space");
  check_error("dns:///", "invalid target 'dns:///': missing host:port after the scheme");
}

TEST_CASE("parse_target: gRPC's list of addresses") {
  auto list = parse_target("ipv4:127.0.0.1:50051,127.0.0.1:50052");
  REQUIRE(list);
  CHECK(list->kind == Target::Kind::uri);
  CHECK(list->grpc_uri == "ipv4:127.0.0.1:50051,127.0.0.1:50052");
  CHECK(list->host == "127.0.0.1");
  CHECK(list->port == "50051");
  CHECK(parse_target("ipv6:[::1]:1,[::1]:2"));
  auto bad = parse_target("ipv4:127.0.0.1:1,nope");
  REQUIRE(!bad);
  CHECK(bad.error().kind == ErrorKind::usage);
  auto empty = parse_target("ipv4:127.0.0.1:1,,127.0.0.1:2");
  REQUIRE(!empty);
  CHECK(empty.error().message == "invalid target 'ipv4:127.0.0.1:1,,127.0.0.1:2': an empty address in the list");
}
