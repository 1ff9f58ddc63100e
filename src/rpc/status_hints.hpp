// What to try next, for statuses whose message reveals a common cause (a TLS/plaintext mismatch,
// an untrusted certificate, nothing listening, a deadline).
#pragma once

#include <string>
#include <string_view>

namespace grpcdx::rpc {

// A hint for a failed call, or "" when the cause is not recognised. `plaintext` says whether
// the call was made without TLS.
std::string hint_for_status(int code, std::string_view message, bool plaintext);

}  // namespace grpcdx::rpc
