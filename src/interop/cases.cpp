// The interop cases, each as gRPC's interop test descriptions define it, through the generated
// TestService stub; the checks live in interop/checks.
#include "core/current_step.hpp"
#include "interop/cases.hpp"

#include <fmt/format.h>
#include <grpcpp/client_context.h>

#include <map>

#include "grpc/testing/empty.pb.h"
#include "grpc/testing/messages.pb.h"
#include "grpc/testing/test.grpc.pb.h"
#include "interop/checks.hpp"

namespace grpcdx::interop {

namespace gt = grpc::testing;

namespace {

using Stub = gt::TestService::Stub;

struct Context {
  std::unique_ptr<Stub> stub;
  std::shared_ptr<grpc::Channel> channel;
  const net::ConnectionOptions& conn;

  // A client context with the user's metadata and the case deadline.
  std::unique_ptr<grpc::ClientContext> client_context() const {
    auto ctx = std::make_unique<grpc::ClientContext>();
    net::prepare_context(*ctx, conn, conn.rpc_timeout ? conn.rpc_timeout : Duration(std::chrono::seconds(10)));
    return ctx;
  }
};

StatusSeen seen(const grpc::Status& s) { return {static_cast<int>(s.error_code()), s.error_message()}; }

gt::Payload zero_payload(int size) {
  gt::Payload p;
  p.set_type(gt::COMPRESSABLE);
  p.set_body(std::string(static_cast<size_t>(size), '\0'));
  return p;
}

Failure ok_or(const grpc::Status& status) { return check_status(seen(status), 0); }

Failure empty_unary(Context& c) {
  auto ctx = c.client_context();
  gt::Empty request, response;
  auto status = c.stub->EmptyCall(ctx.get(), request, &response);
  if (auto f = ok_or(status)) return f;
  if (response.ByteSizeLong() != 0) return fmt::format("expected an empty response, got {} bytes", response.ByteSizeLong());
  return std::nullopt;
}

gt::SimpleRequest large_request() {
  gt::SimpleRequest request;
  request.set_response_type(gt::COMPRESSABLE);
  request.set_response_size(k_large_response_size);
  *request.mutable_payload() = zero_payload(k_large_request_size);
  return request;
}

Failure large_unary(Context& c) {
  auto ctx = c.client_context();
  gt::SimpleResponse response;
  auto status = c.stub->UnaryCall(ctx.get(), large_request(), &response);
  if (auto f = ok_or(status)) return f;
  return check_large_unary(response);
}

Failure client_streaming(Context& c) {
  auto ctx = c.client_context();
  gt::StreamingInputCallResponse response;
  auto writer = c.stub->StreamingInputCall(ctx.get(), &response);
  for (int size : k_request_sizes) {
    gt::StreamingInputCallRequest request;
    *request.mutable_payload() = zero_payload(size);
    if (!writer->Write(request)) break;
  }
  writer->WritesDone();
  auto status = writer->Finish();
  if (auto f = ok_or(status)) return f;
  return check_client_streaming(response);
}

Failure server_streaming(Context& c) {
  auto ctx = c.client_context();
  gt::StreamingOutputCallRequest request;
  request.set_response_type(gt::COMPRESSABLE);
  for (int size : k_response_sizes) request.add_response_parameters()->set_size(size);
  auto reader = c.stub->StreamingOutputCall(ctx.get(), request);
  std::vector<gt::StreamingOutputCallResponse> responses;
  gt::StreamingOutputCallResponse response;
  while (reader->Read(&response)) responses.push_back(response);
  auto status = reader->Finish();
  if (auto f = ok_or(status)) return f;
  return check_streamed_sizes(responses);
}

Failure ping_pong(Context& c) {
  auto ctx = c.client_context();
  auto stream = c.stub->FullDuplexCall(ctx.get());
  std::vector<gt::StreamingOutputCallResponse> responses;
  for (size_t i = 0; i < std::size(k_request_sizes); ++i) {
    gt::StreamingOutputCallRequest request;
    request.set_response_type(gt::COMPRESSABLE);
    request.add_response_parameters()->set_size(k_response_sizes[i]);
    *request.mutable_payload() = zero_payload(k_request_sizes[i]);
    if (!stream->Write(request)) break;
    gt::StreamingOutputCallResponse response;
    if (!stream->Read(&response)) break;
    responses.push_back(response);
  }
  stream->WritesDone();
  gt::StreamingOutputCallResponse extra;
  int extras = 0;
  while (stream->Read(&extra)) ++extras;
  auto status = stream->Finish();
  if (auto f = ok_or(status)) return f;
  if (extras) return fmt::format("expected no more responses after the last ping, got {}", extras);
  return check_streamed_sizes(responses);
}

Failure empty_stream(Context& c) {
  auto ctx = c.client_context();
  auto stream = c.stub->FullDuplexCall(ctx.get());
  stream->WritesDone();
  gt::StreamingOutputCallResponse response;
  int count = 0;
  while (stream->Read(&response)) ++count;
  auto status = stream->Finish();
  if (auto f = ok_or(status)) return f;
  if (count) return fmt::format("expected no responses, got {}", count);
  return std::nullopt;
}

Failure timeout_on_sleeping_server(Context& c) {
  grpc::ClientContext ctx;
  net::prepare_context(ctx, c.conn, std::nullopt);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(1));
  auto stream = c.stub->FullDuplexCall(&ctx);
  gt::StreamingOutputCallRequest request;
  *request.mutable_payload() = zero_payload(27182);
  stream->Write(request);  // may fail once the deadline has passed
  auto status = stream->Finish();
  return check_status(seen(status), grpc::StatusCode::DEADLINE_EXCEEDED);
}

Failure cancel_after_begin(Context& c) {
  auto ctx = c.client_context();
  gt::StreamingInputCallResponse response;
  auto writer = c.stub->StreamingInputCall(ctx.get(), &response);
  ctx->TryCancel();
  auto status = writer->Finish();
  return check_status(seen(status), grpc::StatusCode::CANCELLED);
}

Failure cancel_after_first_response(Context& c) {
  auto ctx = c.client_context();
  auto stream = c.stub->FullDuplexCall(ctx.get());
  gt::StreamingOutputCallRequest request;
  request.set_response_type(gt::COMPRESSABLE);
  request.add_response_parameters()->set_size(31415);
  *request.mutable_payload() = zero_payload(27182);
  if (!stream->Write(request)) return check_status(seen(stream->Finish()), 0);
  gt::StreamingOutputCallResponse response;
  if (!stream->Read(&response)) {
    auto status = stream->Finish();
    if (auto f = ok_or(status)) return f;
    return std::string("expected a response before cancelling, got none");
  }
  if (auto f = check_payload(response.payload(), 31415, "response")) return f;
  ctx->TryCancel();
  auto status = stream->Finish();
  return check_status(seen(status), grpc::StatusCode::CANCELLED);
}

Failure status_with_message(Context& c, const std::string& message, bool also_full_duplex) {
  {
    auto ctx = c.client_context();
    gt::SimpleRequest request;
    request.mutable_response_status()->set_code(2);
    request.mutable_response_status()->set_message(message);
    gt::SimpleResponse response;
    auto status = c.stub->UnaryCall(ctx.get(), request, &response);
    if (auto f = check_status(seen(status), grpc::StatusCode::UNKNOWN, message)) return "UnaryCall: " + *f;
  }
  if (!also_full_duplex) return std::nullopt;
  auto ctx = c.client_context();
  auto stream = c.stub->FullDuplexCall(ctx.get());
  gt::StreamingOutputCallRequest request;
  request.mutable_response_status()->set_code(2);
  request.mutable_response_status()->set_message(message);
  stream->Write(request);
  stream->WritesDone();
  gt::StreamingOutputCallResponse response;
  while (stream->Read(&response)) {
  }
  auto status = stream->Finish();
  if (auto f = check_status(seen(status), grpc::StatusCode::UNKNOWN, message)) return "FullDuplexCall: " + *f;
  return std::nullopt;
}

Failure status_code_and_message(Context& c) { return status_with_message(c, k_status_message, true); }
Failure special_status_message(Context& c) { return status_with_message(c, k_special_status_message, false); }

Failure unimplemented_method(Context& c) {
  auto ctx = c.client_context();
  gt::Empty request, response;
  auto status = c.stub->UnimplementedCall(ctx.get(), request, &response);
  return check_status(seen(status), grpc::StatusCode::UNIMPLEMENTED);
}

Failure unimplemented_service(Context& c) {
  auto stub = gt::UnimplementedService::NewStub(c.channel);
  auto ctx = c.client_context();
  gt::Empty request, response;
  auto status = stub->UnimplementedCall(ctx.get(), request, &response);
  return check_status(seen(status), grpc::StatusCode::UNIMPLEMENTED);
}

std::optional<std::string> find(const std::multimap<grpc::string_ref, grpc::string_ref>& md, const std::string& key) {
  auto it = md.find(key);
  if (it == md.end()) return std::nullopt;
  return std::string(it->second.data(), it->second.size());
}

Failure custom_metadata(Context& c) {
  auto add_echo = [](grpc::ClientContext& ctx) {
    ctx.AddMetadata(k_initial_metadata_key, k_initial_metadata_value);
    ctx.AddMetadata(k_trailing_metadata_key, k_trailing_metadata_value);
  };
  {
    auto ctx = c.client_context();
    add_echo(*ctx);
    gt::SimpleResponse response;
    auto status = c.stub->UnaryCall(ctx.get(), large_request(), &response);
    if (auto f = ok_or(status)) return "UnaryCall: " + *f;
    if (auto f = check_echoed_metadata(find(ctx->GetServerInitialMetadata(), k_initial_metadata_key),
                                       find(ctx->GetServerTrailingMetadata(), k_trailing_metadata_key)))
      return "UnaryCall: " + *f;
  }
  auto ctx = c.client_context();
  add_echo(*ctx);
  auto stream = c.stub->FullDuplexCall(ctx.get());
  gt::StreamingOutputCallRequest request;
  request.set_response_type(gt::COMPRESSABLE);
  request.add_response_parameters()->set_size(k_large_response_size);
  *request.mutable_payload() = zero_payload(k_large_request_size);
  stream->Write(request);
  stream->WritesDone();
  gt::StreamingOutputCallResponse response;
  while (stream->Read(&response)) {
  }
  auto status = stream->Finish();
  if (auto f = ok_or(status)) return "FullDuplexCall: " + *f;
  if (auto f = check_echoed_metadata(find(ctx->GetServerInitialMetadata(), k_initial_metadata_key),
                                     find(ctx->GetServerTrailingMetadata(), k_trailing_metadata_key)))
    return "FullDuplexCall: " + *f;
  return std::nullopt;
}

using CaseFn = Failure (*)(Context&);

const std::vector<std::pair<std::string, CaseFn>>& cases() {
  static const std::vector<std::pair<std::string, CaseFn>> k_cases = {
      {"empty_unary", empty_unary},
      {"large_unary", large_unary},
      {"client_streaming", client_streaming},
      {"server_streaming", server_streaming},
      {"ping_pong", ping_pong},
      {"empty_stream", empty_stream},
      {"timeout_on_sleeping_server", timeout_on_sleeping_server},
      {"cancel_after_begin", cancel_after_begin},
      {"cancel_after_first_response", cancel_after_first_response},
      {"status_code_and_message", status_code_and_message},
      {"special_status_message", special_status_message},
      {"unimplemented_method", unimplemented_method},
      {"unimplemented_service", unimplemented_service},
      {"custom_metadata", custom_metadata},
  };
  return k_cases;
}

}  // namespace

const std::vector<std::string>& case_names() {
  static const std::vector<std::string> k_names = [] {
    std::vector<std::string> names;
    for (const auto& [name, fn] : cases()) names.push_back(name);
    return names;
  }();
  return k_names;
}

Result<std::vector<std::string>> parse_cases(std::string_view list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string name(list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (!name.empty()) {
      bool known = false;
      for (const auto& n : case_names()) known = known || n == name;
      if (!known) {
        std::string all;
        for (const auto& n : case_names()) all += (all.empty() ? "" : ", ") + n;
        return usage_error(fmt::format("unknown interop case '{}'", name), "known cases: " + all);
      }
      out.push_back(name);
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (out.empty()) return usage_error("--cases names no case", "e.g. --cases empty_unary,large_unary");
  return out;
}

CaseResult run_case(const std::string& name, const std::shared_ptr<grpc::Channel>& channel,
                    const net::ConnectionOptions& conn) {
  CaseResult result;
  result.name = name;
  Context c{gt::TestService::NewStub(channel), channel, conn};
  for (const auto& [case_name, fn] : cases()) {
    if (case_name != name) continue;
    set_current_step("running the interop case " + name);
    auto start = std::chrono::steady_clock::now();
    Failure failure = fn(c);
    result.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    result.passed = !failure;
    result.error = failure.value_or("");
    return result;
  }
  result.error = "unknown case";
  return result;
}

}  // namespace grpcdx::interop
