// Parsing of the TARGET argument: host:port, [v6addr]:port, unix:/path, or a gRPC target URI.
#pragma once

#include <string>
#include <string_view>

#include "core/error.hpp"

namespace grpcdx::net {

struct Target {
  enum class Kind { host_port, unix_socket, uri };
  Kind kind = Kind::host_port;
  std::string original;   // as the user wrote it
  std::string grpc_uri;   // what to hand to grpc::CreateChannel
  std::string host;       // host_port / dns: the host without brackets; unix: the socket path
  std::string port;       // host_port: the port; empty for unix and opaque URIs
  std::string authority;  // the default :authority (host:port, or "localhost" for unix)
};

// Parses a target. Fails (usage) for an empty target, a host:port without a valid port,
// an unclosed IPv6 bracket or an empty unix socket path.
Result<Target> parse_target(std::string_view text);

}  // namespace grpcdx::net
