// Unit tests for src/server/server: starting, listen errors, TestService, health, shutdown.
#include <doctest.h>

#include <sys/socket.h>

#include <chrono>
#include <regex>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/testing/test.grpc.pb.h"
#include "server/server.hpp"

using namespace grpcdx;
using namespace grpcdx::server;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<RunningServer> start_loopback(ServerOptions o = {}) {
  o.listen = "127.0.0.1:0";
  auto s = start_server(o);
  REQUIRE_MESSAGE(s, (s ? "" : s.error().message));
  return std::move(*s);
}

std::shared_ptr<grpc::Channel> channel_to(const RunningServer& s) {
  return grpc::CreateChannel(s.address(), grpc::InsecureChannelCredentials());
}

void set_deadline(grpc::ClientContext& ctx, std::chrono::seconds d = 10s) {
  ctx.set_deadline(std::chrono::system_clock::now() + d);
}

}  // namespace

TEST_CASE("check_listen_address accepts the three forms and explains bad ones") {
  CHECK(check_listen_address("127.0.0.1:0"));
  CHECK(check_listen_address("[::1]:50051"));
  CHECK(check_listen_address("localhost:8080"));
  CHECK(check_listen_address("unix:/tmp/x.sock"));
  auto e = check_listen_address("nonsense");
  REQUIRE(!e);
  CHECK(e.error().kind == ErrorKind::local);
  CHECK(e.error().message == "cannot listen on nonsense: missing ':PORT'");
  CHECK(check_listen_address("127.0.0.1:70000").error().message ==
        "cannot listen on 127.0.0.1:70000: invalid port '70000' (use 0-65535)");
  CHECK(check_listen_address("::1:80").error().message ==
        "cannot listen on ::1:80: write an IPv6 address in brackets, like [::1]:50051");
  CHECK(check_listen_address("[::1:80").error().message ==
        "cannot listen on [::1:80: missing ']' after the IPv6 address");
  CHECK(check_listen_address("unix:").error().message == "cannot listen on unix:: empty socket path");
}

TEST_CASE("start_server reports the real address and the registered services") {
  auto s = start_loopback();
  CHECK(std::regex_match(s->address(), std::regex(R"(127\.0\.0\.1:[1-9][0-9]*)")));
  CHECK(!s->tls());
  CHECK(s->services() == std::vector<std::string>{"grpc.channelz.v1.Channelz", "grpc.health.v1.Health",
                                                  "grpc.reflection.v1.ServerReflection",
                                                  "grpc.reflection.v1alpha.ServerReflection",
                                                  "grpc.testing.TestService"});
  ServerOptions bare;
  bare.health = false;
  bare.channelz = false;
  bare.reflection_v1 = bare.reflection_v1alpha = false;
  auto b = start_loopback(bare);
  CHECK(b->services() == std::vector<std::string>{"grpc.testing.TestService"});
}

TEST_CASE("start_server fails on a busy port, naming the address and the reason") {
  auto s = start_loopback();
  ServerOptions o;
  o.listen = s->address();
  auto again = start_server(o);
  REQUIRE(!again);
  CHECK(again.error().kind == ErrorKind::local);
  CHECK(again.error().message == "cannot listen on " + s->address() + ": Address already in use");
}

TEST_CASE("start_server fails on unreadable TLS files and half-given TLS options") {
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.tls_cert = "/nonexistent/cert.pem";
  o.tls_key = "/nonexistent/key.pem";
  CHECK(start_server(o).error().message == "cannot read TLS certificate /nonexistent/cert.pem: No such file or directory");
  o.tls_key.clear();
  CHECK(start_server(o).error().message ==
        "a TLS certificate and its key go together: give both tls_cert and tls_key");
  o.tls_cert.clear();
  o.client_ca = "/nonexistent/ca.pem";
  CHECK(start_server(o).error().message == "a client CA needs TLS: give the server certificate and key too");
}

TEST_CASE("TestService answers unary and streaming calls with interop semantics") {
  auto s = start_loopback();
  auto stub = grpc::testing::TestService::NewStub(channel_to(*s));

  {
    grpc::ClientContext ctx;
    set_deadline(ctx);
    ctx.AddMetadata("x-grpc-test-echo-initial", "hello");
    ctx.AddMetadata("x-grpc-test-echo-trailing-bin", std::string("\x01\x02", 2));
    grpc::testing::SimpleRequest req;
    req.set_response_size(1000);
    grpc::testing::SimpleResponse resp;
    REQUIRE(stub->UnaryCall(&ctx, req, &resp).ok());
    CHECK(resp.payload().body() == std::string(1000, '\0'));
    auto initial = ctx.GetServerInitialMetadata().find("x-grpc-test-echo-initial");
    REQUIRE(initial != ctx.GetServerInitialMetadata().end());
    CHECK(std::string(initial->second.data(), initial->second.size()) == "hello");
    auto trailing = ctx.GetServerTrailingMetadata().find("x-grpc-test-echo-trailing-bin");
    REQUIRE(trailing != ctx.GetServerTrailingMetadata().end());
    CHECK(std::string(trailing->second.data(), trailing->second.size()) == std::string("\x01\x02", 2));
  }
  {
    grpc::ClientContext ctx;
    set_deadline(ctx);
    grpc::testing::SimpleRequest req;
    req.mutable_response_status()->set_code(14);
    req.mutable_response_status()->set_message("go away");
    grpc::testing::SimpleResponse resp;
    grpc::Status st = stub->UnaryCall(&ctx, req, &resp);
    CHECK(st.error_code() == grpc::StatusCode::UNAVAILABLE);
    CHECK(st.error_message() == "go away");
  }
  {
    grpc::ClientContext ctx;
    set_deadline(ctx);
    grpc::testing::StreamingOutputCallRequest req;
    for (int size : {3, 0, 5}) {
      auto* p = req.add_response_parameters();
      p->set_size(size);
      p->set_interval_us(1000);
    }
    auto reader = stub->StreamingOutputCall(&ctx, req);
    grpc::testing::StreamingOutputCallResponse resp;
    std::vector<size_t> sizes;
    while (reader->Read(&resp)) sizes.push_back(resp.payload().body().size());
    CHECK(reader->Finish().ok());
    CHECK(sizes == std::vector<size_t>{3, 0, 5});
  }
  {
    grpc::ClientContext ctx;
    set_deadline(ctx);
    grpc::testing::StreamingInputCallResponse resp;
    auto writer = stub->StreamingInputCall(&ctx, &resp);
    for (int n : {27182, 8, 1828, 45904}) {
      grpc::testing::StreamingInputCallRequest req;
      req.mutable_payload()->set_body(std::string(n, '\0'));
      REQUIRE(writer->Write(req));
    }
    writer->WritesDone();
    CHECK(writer->Finish().ok());
    CHECK(resp.aggregated_payload_size() == 74922);
  }
  {
    grpc::ClientContext ctx;
    set_deadline(ctx);
    grpc::testing::Empty req, resp;
    CHECK(stub->UnimplementedCall(&ctx, req, &resp).error_code() == grpc::StatusCode::UNIMPLEMENTED);
  }
}

TEST_CASE("a cancelled call waiting on a long interval ends at once") {
  auto s = start_loopback();
  auto stub = grpc::testing::TestService::NewStub(channel_to(*s));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 300ms);
  grpc::testing::StreamingOutputCallRequest req;
  req.add_response_parameters()->set_interval_us(60'000'000);
  auto reader = stub->StreamingOutputCall(&ctx, req);
  grpc::testing::StreamingOutputCallResponse resp;
  CHECK(!reader->Read(&resp));
  CHECK(reader->Finish().error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  auto start = std::chrono::steady_clock::now();
  s->shutdown(10s);  // nothing may still hold the server: the alarm was cancelled
  s->wait();
  CHECK(std::chrono::steady_clock::now() - start < 3s);
}

TEST_CASE("health Check and Watch follow set_health; shutdown ends open watches") {
  auto s = start_loopback();
  auto stub = grpc::health::v1::Health::NewStub(channel_to(*s));
  using grpc::health::v1::HealthCheckResponse;

  auto check = [&](const std::string& service) {
    grpc::ClientContext ctx;
    set_deadline(ctx);
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(service);
    HealthCheckResponse resp;
    grpc::Status st = stub->Check(&ctx, req, &resp);
    return std::make_pair(st.error_code(), resp.status());
  };
  CHECK(check("") == std::make_pair(grpc::StatusCode::OK, HealthCheckResponse::SERVING));
  CHECK(check("grpc.testing.TestService") == std::make_pair(grpc::StatusCode::OK, HealthCheckResponse::SERVING));
  CHECK(check("nope").first == grpc::StatusCode::NOT_FOUND);

  grpc::ClientContext watch_ctx;
  set_deadline(watch_ctx, 30s);
  grpc::health::v1::HealthCheckRequest req;
  req.set_service("grpc.testing.TestService");
  auto watch = stub->Watch(&watch_ctx, req);
  HealthCheckResponse resp;
  REQUIRE(watch->Read(&resp));
  CHECK(resp.status() == HealthCheckResponse::SERVING);

  s->set_health("grpc.testing.TestService", ServingStatus::not_serving);
  REQUIRE(watch->Read(&resp));
  CHECK(resp.status() == HealthCheckResponse::NOT_SERVING);
  CHECK(check("grpc.testing.TestService") == std::make_pair(grpc::StatusCode::OK, HealthCheckResponse::NOT_SERVING));
  s->set_health("grpc.testing.TestService", ServingStatus::serving);
  REQUIRE(watch->Read(&resp));
  CHECK(resp.status() == HealthCheckResponse::SERVING);
  s->set_health("new.Service", ServingStatus::serving);
  CHECK(check("new.Service") == std::make_pair(grpc::StatusCode::OK, HealthCheckResponse::SERVING));

  auto start = std::chrono::steady_clock::now();
  s->shutdown(10s);  // the open watch must not use up the grace
  REQUIRE(watch->Read(&resp));
  CHECK(resp.status() == HealthCheckResponse::NOT_SERVING);
  CHECK(!watch->Read(&resp));
  CHECK(watch->Finish().error_code() == grpc::StatusCode::UNAVAILABLE);
  s->wait();
  CHECK(std::chrono::steady_clock::now() - start < 3s);
}

TEST_CASE("many concurrent calls, some cancelled mid-stream, leave the server clean") {
  auto s = start_loopback();
  auto channel = channel_to(*s);
  auto stub = grpc::testing::TestService::NewStub(channel);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        grpc::ClientContext ctx;
        set_deadline(ctx);
        auto stream = stub->FullDuplexCall(&ctx);
        grpc::testing::StreamingOutputCallRequest req;
        auto* p = req.add_response_parameters();
        p->set_size(16);
        p->set_interval_us(i % 3 == 0 ? 500 : 0);
        if (!stream->Write(req)) break;
        grpc::testing::StreamingOutputCallResponse resp;
        if ((i + t) % 4 == 0) {
          ctx.TryCancel();  // cancel while the answer may be pending on an alarm
          stream->Finish();
          continue;
        }
        if (stream->Read(&resp) && resp.payload().body().size() == 16) {
          stream->WritesDone();
          if (stream->Finish().ok()) ++ok;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(ok.load() == 8 * 20 - 40);
  s->shutdown(5s);
  s->wait();
}
