// Target parsing: turns what the user typed into a gRPC channel URI and a default authority.
#include "net/target.hpp"

#include <charconv>
#include <fmt/format.h>

namespace grpcdx::net {

namespace {

std::unexpected<Error> bad_target(std::string_view text, std::string why) {
  return usage_error(fmt::format("invalid target '{}': {}", text, why),
                     "use host:port, [v6addr]:port, unix:/path/to/socket or a URI like dns:///host:port");
}

bool valid_port(std::string_view port) {
  int value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  return !port.empty() && ec == std::errc() && end == port.data() + port.size() && value >= 0 &&
         value <= 65535;
}

// Splits "host:port" or "[v6]:port" into host and port.
Result<std::pair<std::string, std::string>> split_host_port(std::string_view original,
                                                             std::string_view text) {
  std::string host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return bad_target(original, "missing ']' after the IPv6 address");
    host = std::string(text.substr(1, close - 1));
    auto rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return bad_target(original, "missing ':port' after the address");
    port = rest.substr(1);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad_target(original, "missing ':port'");
    host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
    if (host.find(':') != std::string::npos)
      return bad_target(original, "an IPv6 address needs brackets, as in [::1]:50051");
  }
  if (host.empty()) return bad_target(original, "missing host");
  if (!valid_port(port)) return bad_target(original, fmt::format("'{}' is not a port number (0-65535)", port));
  return std::pair{host, std::string(port)};
}

}  // namespace

Result<Target> parse_target(std::string_view text) {
  Target t;
  t.original = std::string(text);
  if (text.empty()) return bad_target(text, "empty");
  if (text.find_first_of(" \t\r\n") != std::string_view::npos) return bad_target(text, "contains white space");

  if (text.starts_with("unix:") || text.starts_with("unix-abstract:")) {
    std::string_view path = text.substr(text.find(':') + 1);
    while (path.starts_with("//") && text.starts_with("unix:")) path.remove_prefix(2);
    if (path.starts_with("/") == false && text.starts_with("unix:") && path.empty())
      return bad_target(text, "empty socket path");
    if (path.empty()) return bad_target(text, "empty socket path");
    t.kind = Target::Kind::unix_socket;
    t.host = std::string(path);
    t.grpc_uri = text.starts_with("unix:") ? "unix:" + t.host : std::string(text);
    t.authority = "localhost";
    return t;
  }

  auto scheme_end = text.find("://");
  if (scheme_end != std::string_view::npos) {
    // A gRPC URI such as dns:///host:port or ipv4:127.0.0.1:50051 style with authority.
    std::string_view scheme = text.substr(0, scheme_end);
    std::string_view rest = text.substr(scheme_end + 3);
    auto slash = rest.find('/');
    std::string_view endpoint = slash == std::string_view::npos ? rest : rest.substr(slash + 1);
    t.kind = Target::Kind::uri;
    t.grpc_uri = std::string(text);
    if (scheme == "dns" || scheme == "ipv4" || scheme == "ipv6") {
      if (endpoint.empty()) return bad_target(text, "missing host:port after the scheme");
      auto hp = split_host_port(text, endpoint);
      if (hp) {
        t.host = hp->first;
        t.port = hp->second;
        t.authority = std::string(endpoint);
      } else if (scheme == "dns") {
        // dns:///host alone means port 443, as gRPC does.
        t.host = std::string(endpoint);
        t.port = "443";
        t.authority = t.host;
      } else {
        return std::unexpected(hp.error());
      }
    } else {
      t.authority = std::string(endpoint);
    }
    return t;
  }
  if (text.starts_with("ipv4:") || text.starts_with("ipv6:") || text.starts_with("dns:")) {
    std::string_view endpoint = text.substr(text.find(':') + 1);
    if (!text.starts_with("dns:") && endpoint.find(',') != std::string_view::npos) {
      // gRPC's list of addresses (ipv4:10.0.0.1:50051,10.0.0.2:50051): each must be host:port;
      // the first stands for the target where one address is needed.
      std::string_view rest = endpoint;
      while (!rest.empty()) {
        std::string_view one = rest.substr(0, rest.find(','));
        rest = one.size() < rest.size() ? rest.substr(one.size() + 1) : std::string_view();
        if (one.empty()) return bad_target(text, "an empty address in the list");
        if (auto hp = split_host_port(text, one); !hp) return std::unexpected(hp.error());
      }
      endpoint = endpoint.substr(0, endpoint.find(','));
    }
    TRY(auto hp, split_host_port(text, endpoint));
    t.kind = Target::Kind::uri;
    t.grpc_uri = std::string(text);
    t.host = hp.first;
    t.port = hp.second;
    t.authority = std::string(endpoint);
    return t;
  }

  TRY(auto hp, split_host_port(text, text));
  t.kind = Target::Kind::host_port;
  t.host = hp.first;
  t.port = hp.second;
  t.grpc_uri = std::string(text);
  t.authority = std::string(text);
  return t;
}

}  // namespace grpcdx::net
