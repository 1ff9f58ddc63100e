// gRPC status codes by name and number, and the HTTP-status mapping gRPC uses.
#pragma once

#include <string>
#include <string_view>

#include "core/error.hpp"

namespace grpcdx::rpc {

// "UNAVAILABLE" for 14; "CODE_99" for codes outside 0..16.
std::string status_name(int code);

// Accepts a name ("UNAVAILABLE", "unavailable", "Unavailable") or a number ("14").
// Fails (usage) for anything else.
Result<int> parse_status_code(std::string_view text);

// The gRPC code for an HTTP response that carried no grpc-status
// (400->INTERNAL, 401->UNAUTHENTICATED, 403->PERMISSION_DENIED, 404->UNIMPLEMENTED,
// 429/502/503/504->UNAVAILABLE, anything else->UNKNOWN).
int status_for_http(int http_status);

}  // namespace grpcdx::rpc
