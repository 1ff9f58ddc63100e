// One generic invoker for all four streaming kinds: sends serialized requests as they come,
// hands every response to a sink as it arrives, and returns the final status.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include "core/error.hpp"
#include "net/metadata.hpp"

namespace grpcdx::rpc {

using Clock = std::chrono::steady_clock;

// Where request messages come from. next() blocks until a message is ready; returns nullopt at
// the end of input or when `stop` becomes true (the call ended); an Error for bad input, which
// cancels the call.
class RequestSource {
 public:
  virtual ~RequestSource() = default;
  virtual std::optional<Result<std::string>> next(const std::atomic<bool>& stop) = 0;
};

// A fixed list of serialized messages.
class ListRequestSource : public RequestSource {
 public:
  explicit ListRequestSource(std::vector<std::string> messages) : m_messages(std::move(messages)) {}
  std::optional<Result<std::string>> next(const std::atomic<bool>& stop) override;

 private:
  std::vector<std::string> m_messages;
  size_t m_pos = 0;
};

// What the invoker reports while the call runs. Called from gRPC threads, one at a time.
struct CallSink {
  std::function<void(const net::Metadata& headers)> on_headers;
  // Returns false to stop reading (the call is then cancelled on purpose).
  std::function<bool(const std::string& bytes)> on_message;
  std::function<void()> on_sent;  // a request message was written
  std::function<void(const std::string& bytes)> on_send_started;  // just before StartWrite
  std::function<void()> on_send_failed;  // a write did not complete (the call is ending)
  // true while the writer waits for its next request from the RequestSource, false once it has it
  std::function<void(bool waiting)> on_input_wait;
};

// Watches a running call from its own thread (for example for stalls). `cancel` cancels the
// call; `ended` becomes true when the call is over, and the monitor must then return promptly.
using CallMonitor = std::function<void(const std::function<void()>& cancel, const std::atomic<bool>& ended)>;

struct InvokeOptions {
  std::string method_path;  // "/pkg.Service/Method"
  std::function<void(grpc::ClientContext&)> prepare;  // adds metadata and deadline
  CallMonitor monitor;  // optional; runs on its own thread while the call is open
};

struct CallResult {
  int code = 0;             // gRPC status code
  std::string message;      // status message
  std::string details;      // binary grpc-status-details-bin, if any
  net::Metadata trailers;
  bool cancelled_on_purpose = false;  // the sink asked to stop (e.g. --max-messages)
  std::optional<Error> input_error;   // a request could not be produced; the call was cancelled
  int sent = 0;
  int received = 0;
  Clock::time_point start;
  std::optional<Clock::time_point> headers_at, first_message_at;
  Clock::time_point end;
};

// Runs one call to completion. The status of the call is data in CallResult, never an Error.
CallResult invoke(const std::shared_ptr<grpc::Channel>& channel, const InvokeOptions& options, RequestSource& requests,
                  const CallSink& sink);

// Runs a unary call (one request, one response) through a CompletionQueue on this thread: no
// callback threads and no writer, so a one-shot command starts and ends sooner. Reports to the
// same sink as invoke(); InvokeOptions::monitor is not supported here.
CallResult invoke_unary(const std::shared_ptr<grpc::Channel>& channel, const InvokeOptions& options,
                        const std::string& request, const CallSink& sink);

// Converts gRPC's multimap of metadata into an ordered list.
net::Metadata to_metadata(const std::multimap<grpc::string_ref, grpc::string_ref>& map);

}  // namespace grpcdx::rpc
