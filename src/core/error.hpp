// Errors and results passed up through the library: Error{kind, message, hint} and Result<T>.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace grpcdx {

// What went wrong, at the granularity that decides an exit code.
enum class ErrorKind {
  usage,       // bad flags or arguments (exit 2)
  local,       // bad input data, unknown symbol, unreadable file, schema not found (exit 1)
  rpc_status,  // an RPC ended with a gRPC status (exit 64 + code); see Error::grpc_code
};

struct Error {
  ErrorKind kind = ErrorKind::local;
  std::string message;  // what was wrong, one line, no "error:" prefix
  std::string hint;     // what to try, may be empty
  int grpc_code = 0;    // for rpc_status: the gRPC status code (1..16)

  // Returns a copy whose message is prefixed with `context: `.
  Error with_context(const std::string& context) const {
    Error e = *this;
    e.message = context + ": " + message;
    return e;
  }
};

template <class T>
using Result = std::expected<T, Error>;

// Builders for the common kinds.
inline std::unexpected<Error> usage_error(std::string message, std::string hint = {}) {
  return std::unexpected(Error{ErrorKind::usage, std::move(message), std::move(hint), 0});
}
inline std::unexpected<Error> local_error(std::string message, std::string hint = {}) {
  return std::unexpected(Error{ErrorKind::local, std::move(message), std::move(hint), 0});
}
inline std::unexpected<Error> status_error(int code, std::string message, std::string hint = {}) {
  return std::unexpected(Error{ErrorKind::rpc_status, std::move(message), std::move(hint), code});
}

}  // namespace grpcdx

#define GRPCDX_CAT_INNER(a, b) a##b
#define GRPCDX_CAT(a, b) GRPCDX_CAT_INNER(a, b)

// TRY(auto x, expr): evaluate a Result; on error return it from the enclosing function,
// otherwise move its value into the declaration.
#define TRY(decl, expr)                                               \
  auto GRPCDX_CAT(try_result_, __LINE__) = (expr);                    \
  if (!GRPCDX_CAT(try_result_, __LINE__))                             \
    return std::unexpected(std::move(GRPCDX_CAT(try_result_, __LINE__)).error()); \
  decl = std::move(*GRPCDX_CAT(try_result_, __LINE__))

// TRY_VOID(expr): for Result<void>.
#define TRY_VOID(expr)                                                \
  do {                                                                \
    auto try_void_result = (expr);                                    \
    if (!try_void_result) return std::unexpected(std::move(try_void_result).error()); \
  } while (0)
