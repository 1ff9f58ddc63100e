// grpc.testing.TestService with the gRPC interop semantics, on the callback API (no thread is
// ever blocked: interval_us delays use grpc::Alarm).
#pragma once

#include "grpc/testing/test.grpc.pb.h"

namespace grpcdx::server {

// EmptyCall, UnaryCall, CacheableUnaryCall, StreamingOutputCall, StreamingInputCall,
// FullDuplexCall and HalfDuplexCall as the interop test descriptions say; UnimplementedCall
// answers UNIMPLEMENTED. The request headers x-grpcdx-stall-after: N (go silent after N
// responses) and x-grpcdx-stop-reading: N (never read after N requests) make a stream stall on
// purpose, keeping it open until the client cancels (docs/serve.md). Every method echoes the request header `x-grpc-test-echo-initial` in the
// initial metadata and `x-grpc-test-echo-trailing-bin` in the trailing metadata. A negative
// response size answers INVALID_ARGUMENT; a non-zero response_status ends the call with it.
class TestService final : public grpc::testing::TestService::CallbackService {
 public:
  grpc::ServerUnaryReactor* EmptyCall(grpc::CallbackServerContext* ctx, const grpc::testing::Empty* req,
                                      grpc::testing::Empty* resp) override;
  grpc::ServerUnaryReactor* UnaryCall(grpc::CallbackServerContext* ctx, const grpc::testing::SimpleRequest* req,
                                      grpc::testing::SimpleResponse* resp) override;
  grpc::ServerUnaryReactor* CacheableUnaryCall(grpc::CallbackServerContext* ctx,
                                               const grpc::testing::SimpleRequest* req,
                                               grpc::testing::SimpleResponse* resp) override;
  grpc::ServerWriteReactor<grpc::testing::StreamingOutputCallResponse>* StreamingOutputCall(
      grpc::CallbackServerContext* ctx, const grpc::testing::StreamingOutputCallRequest* req) override;
  grpc::ServerReadReactor<grpc::testing::StreamingInputCallRequest>* StreamingInputCall(
      grpc::CallbackServerContext* ctx, grpc::testing::StreamingInputCallResponse* resp) override;
  grpc::ServerBidiReactor<grpc::testing::StreamingOutputCallRequest, grpc::testing::StreamingOutputCallResponse>*
  FullDuplexCall(grpc::CallbackServerContext* ctx) override;
  grpc::ServerBidiReactor<grpc::testing::StreamingOutputCallRequest, grpc::testing::StreamingOutputCallResponse>*
  HalfDuplexCall(grpc::CallbackServerContext* ctx) override;
};

}  // namespace grpcdx::server
