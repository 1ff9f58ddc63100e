// gRPC status code names and the HTTP mapping of the gRPC HTTP/2 protocol document.
#include "rpc/status_codes.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <fmt/format.h>

namespace grpcdx::rpc {

namespace {
constexpr std::array<std::string_view, 17> k_names = {
    "OK",          "CANCELLED",         "UNKNOWN",         "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND",   "ALREADY_EXISTS",    "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",     "OUT_OF_RANGE",      "UNIMPLEMENTED",   "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS",   "UNAUTHENTICATED",
};
}  // namespace

std::string status_name(int code) {
  if (code >= 0 && code < static_cast<int>(k_names.size())) return std::string(k_names[code]);
  return fmt::format("CODE_{}", code);
}

Result<int> parse_status_code(std::string_view text) {
  int number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) {
    if (number >= 0 && number <= 16) return number;
  } else {
    std::string upper(text);
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (upper == "CANCELED") upper = "CANCELLED";
    for (size_t i = 0; i < k_names.size(); ++i)
      if (k_names[i] == upper) return static_cast<int>(i);
  }
  return usage_error(fmt::format("unknown status code '{}' (use a name like UNAVAILABLE or a number 0-16)", text));
}

int status_for_http(int http_status) {
  switch (http_status) {
    case 400: return 13;  // INTERNAL
    case 401: return 16;  // UNAUTHENTICATED
    case 403: return 7;   // PERMISSION_DENIED
    case 404: return 12;  // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504: return 14;  // UNAVAILABLE
    default: return 2;    // UNKNOWN
  }
}

}  // namespace grpcdx::rpc
