// The start-up benchmark's baseline: the least a C++ program must do to make the RPCs of
// `grpcdx list` and a unary `grpcdx call`, linked exactly like the release binary, so
// bench/startup.py can compare grpcdx's wall time and peak memory against it.
//
//   grpcdx_bench_baseline [--fast-exit] list ADDR          sorted service names, one a line
//   grpcdx_bench_baseline [--fast-exit] call ADDR [JSON]   grpc.testing.TestService/UnaryCall
//   grpcdx_bench_baseline [--fast-exit] call-stub ADDR [JSON]
//
// `call` makes the RPCs `grpcdx call` makes: one reflection request for the file that defines
// grpc.testing.TestService (its answer is only checked, not used: the program has the compiled
// types), then UnaryCall. `call-stub` makes UnaryCall alone.
//
// By default the program ends the ordinary way: the stub and channel are destroyed and gRPC
// shuts down (joining its threads) before main returns. --fast-exit flushes and calls _exit
// once the answer is printed, as grpcdx does: the strictest baseline.
//
// Plaintext channel, 10 s deadline (grpcdx's default for `list`). Errors print one line on
// stderr; exit 1 for bad input, 64 + the gRPC status code for a failed RPC, 2 for bad usage.
#include <unistd.h>

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

bool g_fast_exit = false;

// The end of a successful run: with --fast-exit the process ends here, skipping all teardown.
int finish() {
  if (g_fast_exit) {
    std::cout.flush();
    _exit(0);
  }
  return 0;
}

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

// One ServerReflectionInfo stream carrying one request; the status, and in `response` the
// answer (false in `got` when the stream ended without one).
grpc::Status reflect_once(const std::shared_ptr<grpc::Channel>& channel,
                          const reflection::ServerReflectionRequest& request,
                          reflection::ServerReflectionResponse& response, bool& got) {
  auto stub = reflection::ServerReflection::NewStub(channel);
  grpc::ClientContext context;
  set_deadline(context);
  auto stream = stub->ServerReflectionInfo(&context);
  stream->Write(request);
  stream->WritesDone();
  got = stream->Read(&response);
  return stream->Finish();
}

// One list_services request; prints the names sorted.
int run_list(const std::string& address) {
  reflection::ServerReflectionRequest request;
  request.set_list_services("*");
  reflection::ServerReflectionResponse response;
  bool got_response = false;
  grpc::Status status = reflect_once(open_channel(address), request, response, got_response);
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
  return finish();
}

// One file_containing_symbol request, as `grpcdx call` asks before its call; 0 when the server
// answered with at least one file.
int ask_reflection(const std::shared_ptr<grpc::Channel>& channel) {
  reflection::ServerReflectionRequest request;
  request.set_file_containing_symbol("grpc.testing.TestService");
  reflection::ServerReflectionResponse response;
  bool got_response = false;
  grpc::Status status = reflect_once(channel, request, response, got_response);
  if (!status.ok()) return fail_status(status);
  if (!got_response || response.file_descriptor_response().file_descriptor_proto_size() == 0) {
    std::cerr << "error: the reflection stream ended without the file of grpc.testing.TestService\n";
    return k_exit_local;
  }
  return 0;
}

// grpc.testing.TestService/UnaryCall with the generated message types: JSON in, JSON out;
// with `reflect`, after the reflection request grpcdx makes.
int run_call(const std::string& address, const std::string& json, bool reflect) {
  grpc::testing::SimpleRequest request;
  auto parsed = google::protobuf::util::JsonStringToMessage(json, &request);
  if (!parsed.ok()) {
    std::cerr << "error: invalid request JSON: " << parsed.message() << "\n";
    return k_exit_local;
  }
  auto channel = open_channel(address);
  if (reflect) {
    if (int code = ask_reflection(channel); code != 0) return code;
  }
  auto stub = grpc::testing::TestService::NewStub(channel);
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
  return finish();
}

int usage() {
  std::cerr << "error: usage: grpcdx_bench_baseline [--fast-exit] list ADDR | call ADDR [JSON] | call-stub ADDR [JSON]\n";
  return k_exit_usage;
}

}  // namespace

// Runs the mode named on the command line; returns the exit code.
int run(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "--fast-exit") {
    g_fast_exit = true;
    --argc;
    ++argv;
  }
  if (argc < 3) return usage();
  const std::string_view mode = argv[1];
  const std::string address = argv[2];
  if (mode == "list" && argc == 3) return run_list(address);
  if ((mode == "call" || mode == "call-stub") && argc <= 4) {
    return run_call(address, argc == 4 ? argv[3] : R"({"responseSize": 8})", mode == "call");
  }
  return usage();
}

}  // namespace grpcdx::bench

int main(int argc, char** argv) {
  // Same as grpcdx: gRPC core does not log to stderr.
  if (!std::getenv("GRPC_VERBOSITY")) setenv("GRPC_VERBOSITY", "NONE", 1);
  return grpcdx::bench::run(argc, argv);
}
