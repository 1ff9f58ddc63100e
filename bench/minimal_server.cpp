// A minimal upstream for the load and proxy benchmarks: grpc.testing.TestService's UnaryCall,
// EmptyCall and FullDuplexCall on the generated callback service, answering at once from gRPC's own thread, about
// the least a C++ server can do per call. Against it the cost of what sits in front (the chaos
// proxy, the load generator) is not hidden by a heavier server (docs/performance.md).
//
//   grpcdx_bench_minimal_server [ADDR]     (default 127.0.0.1:0)
//
// Prints the address it listens on ("127.0.0.1:41234") as its first line, then serves until
// SIGTERM or SIGINT. Exit 2 for bad usage, 1 when it cannot listen.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <string>

#include <grpcpp/grpcpp.h>

#include "grpc/testing/test.grpc.pb.h"

namespace {

class MinimalService final : public grpc::testing::TestService::CallbackService {
  grpc::ServerUnaryReactor* UnaryCall(grpc::CallbackServerContext* ctx, const grpc::testing::SimpleRequest* request,
                                      grpc::testing::SimpleResponse* response) override {
    // The interop meaning of response_size, so a benchmark may ask for a payload.
    if (request->response_size() > 0) response->mutable_payload()->mutable_body()->resize(request->response_size());
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* EmptyCall(grpc::CallbackServerContext* ctx, const grpc::testing::Empty*,
                                      grpc::testing::Empty*) override {
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  // One response per response_parameters entry of each request, in order; ends OK when the
  // client half-closes. Enough for the proxy benchmark to hold many open streams.
  grpc::ServerBidiReactor<grpc::testing::StreamingOutputCallRequest, grpc::testing::StreamingOutputCallResponse>*
  FullDuplexCall(grpc::CallbackServerContext*) override {
    return new Duplex;
  }

 private:
  class Duplex final : public grpc::ServerBidiReactor<grpc::testing::StreamingOutputCallRequest,
                                                      grpc::testing::StreamingOutputCallResponse> {
   public:
    Duplex() { StartRead(&m_request); }

   private:
    void OnReadDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status::OK);
        return;
      }
      m_next = 0;
      write_next();
    }
    void OnWriteDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status::CANCELLED);
        return;
      }
      write_next();
    }
    void write_next() {
      if (m_next >= m_request.response_parameters_size()) {
        StartRead(&m_request);
        return;
      }
      const int size = m_request.response_parameters(m_next++).size();
      m_response.mutable_payload()->mutable_body()->assign(static_cast<size_t>(std::max(size, 0)), '\0');
      StartWrite(&m_response);
    }
    void OnDone() override { delete this; }

    grpc::testing::StreamingOutputCallRequest m_request;
    grpc::testing::StreamingOutputCallResponse m_response;
    int m_next = 0;
  };
};

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2) {
    std::fprintf(stderr, "usage: grpcdx_bench_minimal_server [ADDR]\n");
    return 2;
  }
  const std::string listen = argc > 1 ? argv[1] : "127.0.0.1:0";
  // Blocked here, so every thread gRPC starts inherits the mask and sigwait below takes them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  MinimalService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::fprintf(stderr, "error: cannot listen on %s\n", listen.c_str());
    return 1;
  }
  std::printf("%s:%d\n", listen.substr(0, listen.rfind(':')).c_str(), port);
  std::fflush(stdout);
  int signal = 0;
  sigwait(&signals, &signal);
  server->Shutdown(std::chrono::system_clock::now());
  return 0;
}
