// The start-up benchmark's baseline: the least a C++ program must do to make the RPCs of
// `grpcdx list` and a unary `grpcdx call`, linked exactly like the release binary, so
// bench/startup.py can compare grpcdx's wall time and peak memory against it.
//
//   grpcdx_bench_baseline list ADDR          sorted service names, one a line
//   grpcdx_bench_baseline call ADDR [JSON]   grpc.testing.TestService/UnaryCall, JSON in and out
//
// Plaintext channel, 10 s deadline (grpcdx's default for `list`). Errors print one line on
// stderr; exit 1 for bad input, 64 + the gRPC status code for a failed RPC, 2 for bad usage.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/testing/test.grpc.pb.h"

namespace grpcdx::bench {

namespace {

namespace reflection = grpc::reflection::v1;

constexpr auto k_deadline = std::chrono::seconds(10);
constexpr int k_exit_local = 1;
constexpr int k_exit_usage = 2;
constexpr int k_exit_status_base = 64;

// Prints a failed RPC the way grpcdx does and returns its exit code.
int fail_status(const grpc::Status& status) {
  std::cerr << "error: gRPC status " << status.error_code() << ": " << status.error_message()
            << "\n";
  return k_exit_status_base + status.error_code();
}

std::shared_ptr<grpc::Channel> open_channel(const std::string& address) {
  return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
}

void set_deadline(grpc::ClientContext& context) {
  context.set_deadline(std::chrono::system_clock::now() + k_deadline);
}

// One ServerReflectionInfo stream, one list_services request; prints the names sorted.
int run_list(const std::string& address) {
  auto stub = reflection::ServerReflection::NewStub(open_channel(address));
  grpc::ClientContext context;
  set_deadline(context);
  auto stream = stub->ServerReflectionInfo(&context);
  reflection::ServerReflectionRequest request;
  request.set_list_services("*");
  stream->Write(request);
  stream->WritesDone();
  reflection::ServerReflectionResponse response;
  bool got_response = stream->Read(&response);
  grpc::Status status = stream->Finish();
  if (!status.ok()) return fail_status(status);
  if (!got_response || !response.has_list_services_response()) {
    std::cerr << "error: the reflection stream ended without a list_services answer\n";
    return k_exit_local;
  }
  std::vector<std::string> names;
  for (const auto& service : response.list_services_response().service()) {
    names.push_back(service.name());
  }
  std::sort(names.begin(), names.end());
  std::string text;
  for (const auto& name : names) text += name + "\n";
  std::cout << text << std::flush;
  return 0;
}

// grpc.testing.TestService/UnaryCall with the generated message types: JSON in, JSON out.
int run_call(const std::string& address, const std::string& json) {
  grpc::testing::SimpleRequest request;
  auto parsed = google::protobuf::util::JsonStringToMessage(json, &request);
  if (!parsed.ok()) {
    std::cerr << "error: invalid request JSON: " << parsed.message() << "\n";
    return k_exit_local;
  }
  auto stub = grpc::testing::TestService::NewStub(open_channel(address));
  grpc::ClientContext context;
  set_deadline(context);
  grpc::testing::SimpleResponse response;
  grpc::Status status = stub->UnaryCall(&context, request, &response);
  if (!status.ok()) return fail_status(status);
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  std::string text;
  auto printed = google::protobuf::util::MessageToJsonString(response, &text, options);
  if (!printed.ok()) {
    std::cerr << "error: cannot print the response as JSON: " << printed.message() << "\n";
    return k_exit_local;
  }
  std::cout << text << std::flush;
  return 0;
}

int usage() {
  std::cerr << "error: usage: grpcdx_bench_baseline list ADDR | call ADDR [JSON]\n";
  return k_exit_usage;
}

}  // namespace

// Runs the mode named on the command line; returns the exit code.
int run(int argc, char** argv) {
  if (argc < 3) return usage();
  const std::string_view mode = argv[1];
  const std::string address = argv[2];
  if (mode == "list" && argc == 3) return run_list(address);
  if (mode == "call" && argc <= 4) {
    return run_call(address, argc == 4 ? argv[3] : R"({"responseSize": 8})");
  }
  return usage();
}

}  // namespace grpcdx::bench

int main(int argc, char** argv) {
  // Same as grpcdx: gRPC core does not log to stderr.
  if (!std::getenv("GRPC_VERBOSITY")) setenv("GRPC_VERBOSITY", "NONE", 1);
  return grpcdx::bench::run(argc, argv);
}
