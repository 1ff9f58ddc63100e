// The verification half of the interop cases: pure functions that compare what came back with
// what gRPC's interop test descriptions demand, and say what differed. Unit-tested with canned
// wrong answers, so a case cannot pass by accident.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "grpc/testing/messages.pb.h"

namespace grpcdx::interop {

// A failure reason, or nullopt when the check passed.
using Failure = std::optional<std::string>;

inline constexpr int k_large_request_size = 271828;
inline constexpr int k_large_response_size = 314159;
inline constexpr int k_request_sizes[] = {27182, 8, 1828, 45904};       // sum 74922
inline constexpr int k_response_sizes[] = {31415, 9, 2653, 58979};
inline constexpr int k_aggregated_size = 74922;
inline constexpr const char* k_status_message = "test status message";
inline constexpr const char* k_special_status_message =
    "\t\ntest with whitespace\r\nand Unicode BMP \u263A and non-BMP \U0001F608\t\n";
inline constexpr const char* k_initial_metadata_key = "x-grpc-test-echo-initial";
inline constexpr const char* k_initial_metadata_value = "test_initial_metadata_value";
inline constexpr const char* k_trailing_metadata_key = "x-grpc-test-echo-trailing-bin";
inline const std::string k_trailing_metadata_value = "\xab\xab\xab";

// A payload of `size` zero bytes, as every interop payload is.
Failure check_payload(const grpc::testing::Payload& payload, int size, const std::string& what);

// A gRPC status as it came back.
struct StatusSeen {
  int code = 0;
  std::string message;
};

// The status must have `code` (and `message` when given).
Failure check_status(const StatusSeen& seen, int code, const std::optional<std::string>& message = std::nullopt);

// large_unary: a response of 314159 zero bytes.
Failure check_large_unary(const grpc::testing::SimpleResponse& response);

// client_streaming: aggregated_payload_size 74922.
Failure check_client_streaming(const grpc::testing::StreamingInputCallResponse& response);

// server_streaming and ping_pong: responses of 31415, 9, 2653 and 58979 zero bytes, in order.
Failure check_streamed_sizes(const std::vector<grpc::testing::StreamingOutputCallResponse>& responses);

// custom_metadata: the initial value echoed in the headers and the trailing value in the
// trailers; `initial`/`trailing` are what came back for those keys (nullopt when absent).
Failure check_echoed_metadata(const std::optional<std::string>& initial, const std::optional<std::string>& trailing);

}  // namespace grpcdx::interop
