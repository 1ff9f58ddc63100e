// The reflection stream: v1 first, v1alpha when v1 is UNIMPLEMENTED, one stream for all requests.
#include "schema/reflection_client.hpp"

#include <fmt/format.h>
#include <grpcpp/client_context.h>

#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "rpc/status_hints.hpp"

namespace grpcdx::schema {

namespace v1 = grpc::reflection::v1;
namespace v1alpha = grpc::reflection::v1alpha;

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

// A stream of one reflection version. Req/Resp are that version's messages; the v1 messages
// are converted by serialising, which is exact since both versions share the wire format.
template <class Service, class Req, class Resp>
class VersionedStream final : public ReflectionClient::Stream {
 public:
  VersionedStream(const std::shared_ptr<grpc::Channel>& channel, const net::ConnectionOptions& conn)
      : m_stub(Service::NewStub(channel)) {
    net::prepare_context(m_ctx, conn, conn.rpc_timeout ? conn.rpc_timeout
                                                       : Duration(k_default_reflection_timeout));
    deadline = m_ctx.deadline();
    m_stream = m_stub->ServerReflectionInfo(&m_ctx);
  }

  ~VersionedStream() override {
    if (!m_finished) finish(true);
  }

  bool exchange(const v1::ServerReflectionRequest& request,
                v1::ServerReflectionResponse* response) override {
    Req req;
    if constexpr (std::is_same_v<Req, v1::ServerReflectionRequest>) {
      req = request;
    } else {
      req.ParseFromString(request.SerializeAsString());
    }
    if (!m_stream->Write(req)) return false;
    Resp resp;
    if (!m_stream->Read(&resp)) return false;
    if constexpr (std::is_same_v<Resp, v1::ServerReflectionResponse>) {
      *response = std::move(resp);
    } else if (!response->ParseFromString(resp.SerializeAsString())) {
      return false;
    }
    return true;
  }

  grpc::Status finish(bool cancel) override {
    m_finished = true;
    if (cancel) m_ctx.TryCancel();
    return m_stream->Finish();
  }

 private:
  std::unique_ptr<typename Service::Stub> m_stub;
  grpc::ClientContext m_ctx;
  std::unique_ptr<grpc::ClientReaderWriter<Req, Resp>> m_stream;
  bool m_finished = false;
};

using V1Stream = VersionedStream<v1::ServerReflection, v1::ServerReflectionRequest,
                                 v1::ServerReflectionResponse>;
using V1AlphaStream = VersionedStream<v1alpha::ServerReflection, v1alpha::ServerReflectionRequest,
                                      v1alpha::ServerReflectionResponse>;

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
  if (version == Version::v1alpha) return std::make_unique<V1AlphaStream>(m_channel, m_conn);
  return std::make_unique<V1Stream>(m_channel, m_conn);
}

Result<v1::ServerReflectionResponse> ReflectionClient::ask(const v1::ServerReflectionRequest& request) {
  std::lock_guard lock(m_mutex);
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
