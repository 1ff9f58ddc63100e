// Verification of interop answers against the interop test descriptions.
#include "interop/checks.hpp"

#include <fmt/format.h>

#include "rpc/status_codes.hpp"

namespace grpcdx::interop {

namespace {

// Shows a string with its control characters escaped, for failure messages.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20) out += fmt::format("\\x{:02x}", c);
    else out += static_cast<char>(c);
  }
  return out + "\"";
}

}  // namespace

Failure check_payload(const grpc::testing::Payload& payload, int size, const std::string& what) {
  const std::string& body = payload.body();
  if (static_cast<int>(body.size()) != size)
    return fmt::format("{}: expected a payload of {} bytes, got {}", what, size, body.size());
  auto nonzero = body.find_first_not_of('\0');
  if (nonzero != std::string::npos)
    return fmt::format("{}: expected zero bytes, byte {} is 0x{:02x}", what, nonzero,
                       static_cast<unsigned char>(body[nonzero]));
  return std::nullopt;
}

Failure check_status(const StatusSeen& seen, int code, const std::optional<std::string>& message) {
  if (seen.code != code)
    return fmt::format("expected status {} ({}), got {} ({}){}", rpc::status_name(code), code,
                       rpc::status_name(seen.code), seen.code, seen.message.empty() ? "" : ": " + seen.message);
  if (message && seen.message != *message)
    return fmt::format("expected status message {}, got {}", quoted(*message), quoted(seen.message));
  return std::nullopt;
}

Failure check_large_unary(const grpc::testing::SimpleResponse& response) {
  return check_payload(response.payload(), k_large_response_size, "response");
}

Failure check_client_streaming(const grpc::testing::StreamingInputCallResponse& response) {
  if (response.aggregated_payload_size() != k_aggregated_size)
    return fmt::format("expected aggregated_payload_size {}, got {}", k_aggregated_size,
                       response.aggregated_payload_size());
  return std::nullopt;
}

Failure check_streamed_sizes(const std::vector<grpc::testing::StreamingOutputCallResponse>& responses) {
  constexpr size_t expected = std::size(k_response_sizes);
  if (responses.size() != expected)
    return fmt::format("expected {} responses, got {}", expected, responses.size());
  for (size_t i = 0; i < expected; ++i)
    if (auto f = check_payload(responses[i].payload(), k_response_sizes[i], fmt::format("response {}", i + 1))) return f;
  return std::nullopt;
}

Failure check_echoed_metadata(const std::optional<std::string>& initial, const std::optional<std::string>& trailing) {
  if (!initial) return fmt::format("initial metadata '{}' was not echoed", k_initial_metadata_key);
  if (*initial != k_initial_metadata_value)
    return fmt::format("initial metadata '{}': expected {}, got {}", k_initial_metadata_key,
                       quoted(k_initial_metadata_value), quoted(*initial));
  if (!trailing) return fmt::format("trailing metadata '{}' was not echoed", k_trailing_metadata_key);
  if (*trailing != k_trailing_metadata_value)
    return fmt::format("trailing metadata '{}': expected {} bytes ab ab ab, got {} bytes", k_trailing_metadata_key,
                       k_trailing_metadata_value.size(), trailing->size());
  return std::nullopt;
}

}  // namespace grpcdx::interop
