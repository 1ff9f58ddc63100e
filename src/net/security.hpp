// Security defaults decided from the target's text alone: whether a target is this machine, and
// the warning due when --plaintext or --insecure sends traffic beyond it.
#pragma once

#include <optional>
#include <string>

#include "net/target.hpp"

namespace grpcdx::net {

// True when the target is this machine: a unix socket, "localhost" (or "localhost."), an
// address in 127.0.0.0/8, ::1 or ::ffff:127.x.y.z. Nothing is resolved, so any other name
// (even one that resolves to a loopback address) is not loopback.
bool is_loopback_target(const Target& target);

// The one-line warning (without "warning: ") for --plaintext or --insecure toward a target that
// is not loopback; nullopt when neither flag is set or the target is loopback.
std::optional<std::string> exposure_warning(const Target& target, bool plaintext, bool insecure);

}  // namespace grpcdx::net
