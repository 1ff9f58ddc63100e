// The reflection stream: v1 first, v1alpha when v1 is UNIMPLEMENTED, one stream for all requests.
#include "core/current_step.hpp"
#include "schema/reflection_client.hpp"

#include <fmt/format.h>
#include <grpcpp/client_context.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/impl/rpc_method.h>
#include <grpcpp/support/sync_stream.h>

#include "rpc/status_hints.hpp"

namespace grpcdx::schema {

namespace v1 = grpc::reflection::v1;

class ReflectionClient::Stream {
 public:
  virtual ~Stream() = default;
  // Write then Read; false when the stream ended (finish() then says why).
  virtual bool exchange(const v1::ServerReflectionRequest& request,
                        v1::ServerReflectionResponse* response) = 0;
  // Ends the stream and returns its status; cancels it first when it is still open.
  virtual grpc::Status finish(bool cancel) = 0;
  std::chrono::system_clock::time_point deadline;
};

namespace {

// The method of each version. v1alpha is wire-identical to v1, so both are spoken with the v1
// messages: only the path differs, and v1alpha needs no generated code of its own (whose static
// initialiser every start-up would pay).
constexpr const char* k_v1_method = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
constexpr const char* k_v1alpha_method =
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

using Request = v1::ServerReflectionRequest;
using Response = v1::ServerReflectionResponse;

// One ServerReflectionInfo stream of either version, opened as the generated stub would open it.
class BidiStream final : public ReflectionClient::Stream {
 public:
  BidiStream(const std::shared_ptr<grpc::Channel>& channel, const char* method_path,
             const net::ConnectionOptions& conn)
      : m_method(method_path, grpc::internal::RpcMethod::BIDI_STREAMING, channel) {
    net::prepare_context(m_ctx, conn,
                         conn.rpc_timeout ? conn.rpc_timeout : Duration(k_default_reflection_timeout),
                         net::RequestKind::reflection);
    deadline = m_ctx.deadline();
    m_stream.reset(grpc::internal::ClientReaderWriterFactory<Request, Response>::Create(
        channel.get(), m_method, &m_ctx));
  }

  ~BidiStream() override {
    if (!m_finished) finish(true);
  }

  bool exchange(const Request& request, Response* response) override {
    return m_stream->Write(request) && m_stream->Read(response);
  }

  grpc::Status finish(bool cancel) override {
    m_finished = true;
    if (cancel) m_ctx.TryCancel();
    return m_stream->Finish();
  }

 private:
  grpc::internal::RpcMethod m_method;
  grpc::ClientContext m_ctx;
  std::unique_ptr<grpc::ClientReaderWriter<Request, Response>> m_stream;
  bool m_finished = false;
};

Error status_to_error(const grpc::Status& status, bool plaintext) {
  const int code = static_cast<int>(status.error_code());
  std::string message = status.error_message();
  std::string hint;
  if (code == grpc::StatusCode::DEADLINE_EXCEEDED) {
    message = fmt::format("reflection request timed out: {}", message);
    hint = "raise --timeout, or pass the schema with --proto or --protoset";
  } else if (code == grpc::StatusCode::UNAVAILABLE) {
    hint = rpc::hint_for_status(code, message, plaintext);
    if (hint.empty()) hint = "check the address, port and TLS flags; `grpcdx probe` shows which layer fails";
  } else {
    message = fmt::format("server reflection failed: {}", message.empty() ? "(no message)" : message);
  }
  return Error{ErrorKind::rpc_status, std::move(message), std::move(hint), code};
}

}  // namespace

ReflectionClient::ReflectionClient(std::shared_ptr<grpc::Channel> channel, net::ConnectionOptions conn)
    : m_channel(std::move(channel)), m_conn(std::move(conn)) {}

ReflectionClient::~ReflectionClient() = default;

std::unique_ptr<ReflectionClient::Stream> ReflectionClient::open_stream(Version version) {
  const char* method = version == Version::v1alpha ? k_v1alpha_method : k_v1_method;
  return std::make_unique<BidiStream>(m_channel, method, m_conn);
}

Result<v1::ServerReflectionResponse> ReflectionClient::ask(const v1::ServerReflectionRequest& request) {
  std::lock_guard lock(m_mutex);
  set_current_step("asking the server's reflection service");
  // A stream whose deadline passed cannot answer; a fresh one can.
  if (m_stream && std::chrono::system_clock::now() >= m_stream->deadline) m_stream.reset();

  Version trying = m_version == Version::unknown ? Version::v1 : m_version;
  bool reopened_after_close = false;
  // At most: v1 UNIMPLEMENTED -> v1alpha, plus one retry after a stream the server closed.
  for (int attempt = 0; attempt < 3; ++attempt) {
    const bool fresh = !m_stream;
    if (fresh) m_stream = open_stream(trying);
    ++m_requests;
    v1::ServerReflectionResponse response;
    if (m_stream->exchange(request, &response)) {
      if (m_version == Version::unknown) m_version = trying;
      return response;
    }
    grpc::Status status = m_stream->finish(false);
    m_stream.reset();
    if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED && m_version == Version::unknown) {
      if (trying == Version::v1) {
        trying = Version::v1alpha;
        continue;
      }
      return local_error("server does not support the reflection API",
                         "pass the schema with --proto or --protoset");
    }
    if (status.ok()) {
      // The server ended a stream it had used before (e.g. an idle timeout): try a new one once.
      if (!fresh && !reopened_after_close) {
        reopened_after_close = true;
        continue;
      }
      return local_error("the server closed the reflection stream without answering",
                         "pass the schema with --proto or --protoset");
    }
    return std::unexpected(status_to_error(status, m_conn.plaintext));
  }
  return local_error("the server closed the reflection stream without answering",
                     "pass the schema with --proto or --protoset");
}

int ReflectionClient::requests() const {
  std::lock_guard lock(m_mutex);
  return m_requests;
}

std::string ReflectionClient::version() const {
  std::lock_guard lock(m_mutex);
  switch (m_version) {
    case Version::v1: return "v1";
    case Version::v1alpha: return "v1alpha";
    case Version::unknown: return {};
  }
  return {};
}

}  // namespace grpcdx::schema
