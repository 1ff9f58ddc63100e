// Health/Check and Health/Watch through the generated stub.
#include "core/current_step.hpp"
#include "health/health_client.hpp"

#include <fmt/format.h>

#include "grpc/health/v1/health.grpc.pb.h"
#include "rpc/status_hints.hpp"

namespace grpcdx::health {

namespace v1 = grpc::health::v1;

std::string serving_status_name(int status) {
  switch (status) {
    case 0: return "UNKNOWN";
    case 1: return "SERVING";
    case 2: return "NOT_SERVING";
    case 3: return "SERVICE_UNKNOWN";
    default: return fmt::format("STATUS_{}", status);
  }
}

namespace {

HealthReply to_reply(const std::string& service, const v1::HealthCheckResponse& response) {
  return HealthReply{service, static_cast<int>(response.status()), serving_status_name(response.status())};
}

Error health_error(const grpc::Status& status, const std::string& service, bool plaintext) {
  std::string message = status.error_message();
  std::string hint;
  if (status.error_code() == grpc::StatusCode::NOT_FOUND)
    message = fmt::format("the health service does not know service '{}'{}", service,
                          message.empty() ? "" : ": " + message);
  if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED)
    hint = "the server has no grpc.health.v1.Health service; `grpcdx probe` checks it another way";
  else
    hint = rpc::hint_for_status(static_cast<int>(status.error_code()), status.error_message(), plaintext);
  return Error{ErrorKind::rpc_status, message, hint, static_cast<int>(status.error_code())};
}

}  // namespace

Result<HealthReply> check(const std::shared_ptr<grpc::Channel>& channel, const net::ConnectionOptions& conn,
                          const std::string& service) {
  auto stub = v1::Health::NewStub(channel);
  grpc::ClientContext ctx;
  net::prepare_context(ctx, conn);
  v1::HealthCheckRequest request;
  request.set_service(service);
  v1::HealthCheckResponse response;
  set_current_step("calling grpc.health.v1.Health/Check");
  grpc::Status status = stub->Check(&ctx, request, &response);
  if (!status.ok()) return std::unexpected(health_error(status, service, conn.plaintext));
  return to_reply(service, response);
}

Result<void> watch(const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext& ctx,
                   const std::string& service, bool plaintext,
                   const std::function<bool(const HealthReply&)>& on_update) {
  auto stub = v1::Health::NewStub(channel);
  v1::HealthCheckRequest request;
  request.set_service(service);
  auto reader = stub->Watch(&ctx, request);
  v1::HealthCheckResponse response;
  bool stopped_by_caller = false;
  while (reader->Read(&response)) {
    if (!on_update(to_reply(service, response))) {
      stopped_by_caller = true;
      ctx.TryCancel();
      break;
    }
  }
  grpc::Status status = reader->Finish();
  if (stopped_by_caller) return {};
  if (status.ok())
    return status_error(14, "the server ended the health watch", "the server may be shutting down");
  return std::unexpected(health_error(status, service, plaintext));
}

}  // namespace grpcdx::health
