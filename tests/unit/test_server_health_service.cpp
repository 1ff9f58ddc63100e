// Unit tests for src/server/health_service's SyncHealthService (the chaos admin port's health):
// Check and Watch on a synchronous server, a Watch the client cancels, shutdown ending watches.
#include <doctest.h>

#include <chrono>

#include <grpcpp/grpcpp.h>

#include "grpc/health/v1/health.grpc.pb.h"
#include "server/health_service.hpp"

using namespace grpcdx::server;
using namespace std::chrono_literals;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

namespace {

// A synchronous server with only `health`, on a free loopback port.
struct SyncServer {
  explicit SyncServer(SyncHealthService& health) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&health);
    server = builder.BuildAndStart();
    REQUIRE(server);
    REQUIRE(port != 0);
    stub = grpc::health::v1::Health::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  }

  std::pair<grpc::StatusCode, HealthCheckResponse::ServingStatus> check(const std::string& service) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 10s);
    HealthCheckRequest req;
    req.set_service(service);
    HealthCheckResponse resp;
    grpc::Status st = stub->Check(&ctx, req, &resp);
    return {st.error_code(), resp.status()};
  }

  int port = 0;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<grpc::health::v1::Health::Stub> stub;
};

}  // namespace

TEST_CASE("SyncHealthService: Check and Watch follow set_status; shutdown ends open watches") {
  SyncHealthService health;
  health.set_status("", HealthCheckResponse::SERVING);
  SyncServer s(health);
  CHECK(s.check("") == std::make_pair(grpc::StatusCode::OK, HealthCheckResponse::SERVING));
  CHECK(s.check("nope").first == grpc::StatusCode::NOT_FOUND);

  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 30s);
  HealthCheckRequest req;
  req.set_service("svc");
  auto watch = s.stub->Watch(&ctx, req);
  HealthCheckResponse resp;
  REQUIRE(watch->Read(&resp));
  CHECK(resp.status() == HealthCheckResponse::SERVICE_UNKNOWN);  // not in the table yet
  health.set_status("svc", HealthCheckResponse::SERVING);
  REQUIRE(watch->Read(&resp));
  CHECK(resp.status() == HealthCheckResponse::SERVING);
  health.set_status("other", HealthCheckResponse::NOT_SERVING);  // not this watch's service
  health.set_status("svc", HealthCheckResponse::NOT_SERVING);
  REQUIRE(watch->Read(&resp));
  CHECK(resp.status() == HealthCheckResponse::NOT_SERVING);
  CHECK(s.check("svc") == std::make_pair(grpc::StatusCode::OK, HealthCheckResponse::NOT_SERVING));
  health.set_status("svc", HealthCheckResponse::SERVING);
  REQUIRE(watch->Read(&resp));
  CHECK(resp.status() == HealthCheckResponse::SERVING);

  health.shutdown();
  REQUIRE(watch->Read(&resp));
  CHECK(resp.status() == HealthCheckResponse::NOT_SERVING);
  CHECK(!watch->Read(&resp));
  grpc::Status end = watch->Finish();
  CHECK(end.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(end.error_message() == "server is shutting down");
  CHECK(s.check("").second == HealthCheckResponse::NOT_SERVING);
  s.server->Shutdown(std::chrono::system_clock::now() + 5s);
}

TEST_CASE("SyncHealthService: a Watch the client cancels frees its thread without a status change") {
  SyncHealthService health;
  health.set_status("", HealthCheckResponse::SERVING);
  SyncServer s(health);
  {
    grpc::ClientContext ctx;
    auto watch = s.stub->Watch(&ctx, HealthCheckRequest{});
    HealthCheckResponse resp;
    REQUIRE(watch->Read(&resp));
    CHECK(resp.status() == HealthCheckResponse::SERVING);
    ctx.TryCancel();
    CHECK(watch->Finish().error_code() == grpc::StatusCode::CANCELLED);
  }
  // Shutdown waits for running handlers until its deadline: the cancelled Watch must have
  // returned on its own (it looks every 200 ms), long before the 20 s given here.
  const auto start = std::chrono::steady_clock::now();
  s.server->Shutdown(std::chrono::system_clock::now() + 20s);
  CHECK(std::chrono::steady_clock::now() - start < 10s);
}
