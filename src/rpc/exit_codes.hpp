// The process exit codes of SPEC.md, in one place, and the mapping from errors to them.
#pragma once

#include "core/error.hpp"

namespace grpcdx {

inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_local = 1;
inline constexpr int k_exit_usage = 2;
inline constexpr int k_exit_not_serving = 4;
inline constexpr int k_exit_stall = 5;
inline constexpr int k_exit_threshold = 7;
inline constexpr int k_exit_incompatible = 8;  // compat: the schemas do not match on the wire
inline constexpr int k_exit_status_base = 64;

// The exit code for a gRPC status code: 0 for OK, 64 + code otherwise.
inline constexpr int exit_code_for_status(int grpc_code) {
  return grpc_code == 0 ? k_exit_ok : k_exit_status_base + grpc_code;
}

// The exit code an error ends the process with.
inline int exit_code_for(const Error& e) {
  switch (e.kind) {
    case ErrorKind::usage: return k_exit_usage;
    case ErrorKind::local: return k_exit_local;
    case ErrorKind::rpc_status: return exit_code_for_status(e.grpc_code);
  }
  return k_exit_local;
}

}  // namespace grpcdx
