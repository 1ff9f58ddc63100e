// One gRPC server-reflection stream per run: asks grpc.reflection.v1 and falls back to
// v1alpha when the server answers UNIMPLEMENTED. Thread-safe; requests are serialised.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include <grpcpp/channel.h>

#include "core/error.hpp"
#include "grpc/reflection/v1/reflection.pb.h"
#include "net/channel.hpp"

namespace grpcdx::schema {

// How long the reflection stream may stay open when the command sets no --timeout.
inline constexpr std::chrono::seconds k_default_reflection_timeout{10};

class ReflectionClient {
 public:
  // Does not connect; the stream opens with the first ask(). Requests carry the -H metadata
  // of `conn`; the stream's deadline is conn.rpc_timeout (or k_default_reflection_timeout),
  // and a stream whose deadline has passed is replaced by a new one before the next request.
  ReflectionClient(std::shared_ptr<grpc::Channel> channel, net::ConnectionOptions conn);
  ~ReflectionClient();
  ReflectionClient(const ReflectionClient&) = delete;
  ReflectionClient& operator=(const ReflectionClient&) = delete;

  // Sends one request and returns the server's answer (which may be an error_response; that
  // is data, not a failure). The v1 message types are used for both versions: v1alpha is
  // wire-identical. Fails (rpc_status, with the gRPC code and message) when the stream fails,
  // e.g. UNAVAILABLE when the server cannot be reached; (local) "server does not support the
  // reflection API" when both versions answer UNIMPLEMENTED, or when the server closes the
  // stream without answering.
  Result<grpc::reflection::v1::ServerReflectionResponse> ask(
      const grpc::reflection::v1::ServerReflectionRequest& request);

  // Requests sent so far (including one answered UNIMPLEMENTED before the fallback).
  int requests() const;

  // "v1" or "v1alpha" once a server answered; empty before.
  std::string version() const;

  class Stream;  // one open bidi stream of either version (defined in the .cpp)

 private:
  enum class Version { unknown, v1, v1alpha };

  std::unique_ptr<Stream> open_stream(Version version);

  std::shared_ptr<grpc::Channel> m_channel;
  net::ConnectionOptions m_conn;
  mutable std::mutex m_mutex;
  Version m_version = Version::unknown;
  std::unique_ptr<Stream> m_stream;
  int m_requests = 0;
};

}  // namespace grpcdx::schema
