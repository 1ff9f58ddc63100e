// Loopback decision and the --plaintext / --insecure warning.
#include "net/security.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace grpcdx::net {

namespace {

bool is_loopback_host(std::string host) {
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (host == "localhost" || host == "localhost.") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

}  // namespace

bool is_loopback_target(const Target& target) {
  switch (target.kind) {
    case Target::Kind::unix_socket:
      return true;
    case Target::Kind::host_port:
      return is_loopback_host(target.host);
    case Target::Kind::uri:
      // dns:, ipv4: and ipv6: URIs name their host; other schemes (xds:, ...) are not known
      // to stay on this machine.
      return !target.host.empty() && is_loopback_host(target.host);
  }
  return false;
}

std::optional<std::string> exposure_warning(const Target& target, bool plaintext, bool insecure) {
  if ((!plaintext && !insecure) || is_loopback_target(target)) return std::nullopt;
  if (plaintext)
    return fmt::format("--plaintext sends everything unencrypted to {} (not a loopback address)",
                       target.original);
  return fmt::format(
      "--insecure does not verify the certificate of {} (not a loopback address): anyone on the "
      "path can impersonate the server",
      target.original);
}

}  // namespace grpcdx::net
