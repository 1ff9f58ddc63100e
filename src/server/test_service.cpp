// grpc.testing.TestService: unary handlers and the streaming reactors, with paced writes.
#include "server/test_service.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/alarm.h>

namespace grpcdx::server {

namespace {

using grpc::testing::ResponseParameters;
using grpc::testing::StreamingOutputCallRequest;
using grpc::testing::StreamingOutputCallResponse;

constexpr const char* k_echo_initial = "x-grpc-test-echo-initial";
constexpr const char* k_echo_trailing = "x-grpc-test-echo-trailing-bin";
// Misbehaviours on request, to show stream stalls on purpose (docs/serve.md).
constexpr const char* k_stall_after = "x-grpcdx-stall-after";
constexpr const char* k_stop_reading = "x-grpcdx-stop-reading";

// The non-negative count in request header `key`: nullopt when absent, -1 when not a number.
std::optional<int> header_count(grpc::CallbackServerContext* ctx, const char* key) {
  const auto& md = ctx->client_metadata();
  auto it = md.find(key);
  if (it == md.end()) return std::nullopt;
  std::string text(it->second.data(), it->second.size());
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoi(text);
}

// Reads the misbehaviour headers; INVALID_ARGUMENT names a bad one.
grpc::Status read_misbehaviour(grpc::CallbackServerContext* ctx, int& stall_after, int& stop_reading) {
  for (auto [key, out] : {std::pair{k_stall_after, &stall_after}, std::pair{k_stop_reading, &stop_reading}}) {
    auto n = header_count(ctx, key);
    if (n && *n < 0)
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(key) + " must be a count of messages");
    *out = n.value_or(-1);
  }
  return grpc::Status::OK;
}

// Copies the interop echo headers into the response metadata. Must run before anything is sent.
void echo_metadata(grpc::CallbackServerContext* ctx) {
  const auto& md = ctx->client_metadata();
  if (auto it = md.find(k_echo_initial); it != md.end())
    ctx->AddInitialMetadata(k_echo_initial, std::string(it->second.data(), it->second.size()));
  if (auto it = md.find(k_echo_trailing); it != md.end())
    ctx->AddTrailingMetadata(k_echo_trailing, std::string(it->second.data(), it->second.size()));
}

grpc::Status echo_status(const grpc::testing::EchoStatus& s) {
  if (s.code() == 0) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), s.message());
}

grpc::Status cancelled_status() { return grpc::Status(grpc::StatusCode::CANCELLED, "call cancelled"); }

// Checks every response size and interval of a request before anything is sent.
grpc::Status check_parameters(const google::protobuf::RepeatedPtrField<ResponseParameters>& params) {
  for (const auto& p : params) {
    if (p.size() < 0)
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "response_parameters.size must not be negative");
    if (p.interval_us() < 0)
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "response_parameters.interval_us must not be negative");
  }
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* simple_call(grpc::CallbackServerContext* ctx, const grpc::testing::SimpleRequest* req,
                                      grpc::testing::SimpleResponse* resp) {
  echo_metadata(ctx);
  auto* reactor = ctx->DefaultReactor();
  if (req->response_size() < 0) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "response_size must not be negative"));
    return reactor;
  }
  if (grpc::Status s = echo_status(req->response_status()); !s.ok()) {
    reactor->Finish(s);
    return reactor;
  }
  if (req->response_size() > 0) {
    resp->mutable_payload()->set_type(grpc::testing::COMPRESSABLE);
    resp->mutable_payload()->set_body(std::string(static_cast<size_t>(req->response_size()), '\0'));
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

// The shared machinery of the server-streaming reactors: send one response per queued
// ResponseParameters, each after its interval_us (on a grpc::Alarm, never a sleep), then call
// on_sent(). Lifetime: grpc's OnDone and each in-flight alarm set-up hold a reference; the last
// one to let go deletes the reactor, so an alarm racing with OnCancel never touches freed memory.
template <class Reactor>
class PacedWriter : public Reactor {
 public:
  void OnWriteDone(bool ok) override {
    if (!ok) {
      finish_once(cancelled_status());
      return;
    }
    ++m_next;
    ++m_written;
    step();
  }

  void OnCancel() override {
    std::shared_ptr<grpc::Alarm> alarm;
    bool parked = false;
    {
      std::lock_guard lock(m_mu);
      m_cancelled = true;
      alarm = m_alarm;
      parked = m_parked;
    }
    if (alarm) alarm->Cancel();
    if (parked) finish_once(cancelled_status());
  }

  void OnDone() override { unref(); }

 protected:
  // Called once every queued response has been written.
  virtual void on_sent() = 0;

  // Queues responses and starts sending them; on_sent() follows. Only when nothing is in flight.
  void send(std::vector<ResponseParameters> params) {
    m_params = std::move(params);
    m_next = 0;
    step();
  }

  // Ends the call with `status` unless it has already been ended.
  void finish_once(const grpc::Status& status) {
    if (!m_finished.exchange(true)) this->Finish(status);
  }

  bool cancelled() {
    std::lock_guard lock(m_mu);
    return m_cancelled;
  }

  // Stops doing anything (no reads, no writes) but keeps the call open until the client cancels
  // or its deadline fires: a silent peer, on purpose.
  void park() {
    bool was_cancelled = false;
    {
      std::lock_guard lock(m_mu);
      m_parked = true;
      was_cancelled = m_cancelled;
    }
    if (was_cancelled) finish_once(cancelled_status());
  }

  bool parked() {
    std::lock_guard lock(m_mu);
    return m_parked;
  }

  int m_stall_after = -1;  // x-grpcdx-stall-after: go silent after this many responses

 private:
  void step() {
    if (m_stall_after >= 0 && m_written >= m_stall_after) {
      park();
      return;
    }
    if (m_next >= m_params.size()) {
      on_sent();
      return;
    }
    const ResponseParameters& p = m_params[m_next];
    if (p.interval_us() <= 0) {
      write_current();
      return;
    }
    auto alarm = std::make_shared<grpc::Alarm>();
    bool was_cancelled = false;
    {
      std::lock_guard lock(m_mu);
      was_cancelled = m_cancelled;
      if (!was_cancelled) m_alarm = alarm;
    }
    if (was_cancelled) {
      finish_once(cancelled_status());
      return;
    }
    // The alarm may fire, write, finish and reach OnDone on another thread before Set returns;
    // this reference keeps the reactor alive until we are done with it here.
    m_refs.fetch_add(1);
    alarm->Set(std::chrono::system_clock::now() + std::chrono::microseconds(p.interval_us()),
               [this](bool fired) {
                 if (!fired || cancelled())
                   finish_once(cancelled_status());
                 else
                   write_current();
               });
    // OnCancel may have run between storing the alarm and setting it, cancelling nothing.
    if (cancelled()) alarm->Cancel();
    unref();
  }

  void write_current() {
    const ResponseParameters& p = m_params[m_next];
    m_response.Clear();
    m_response.mutable_payload()->set_type(grpc::testing::COMPRESSABLE);
    m_response.mutable_payload()->set_body(std::string(static_cast<size_t>(p.size()), '\0'));
    this->StartWrite(&m_response);
  }

  void unref() {
    if (m_refs.fetch_sub(1) == 1) delete this;
  }

  std::vector<ResponseParameters> m_params;
  size_t m_next = 0;
  int m_written = 0;
  StreamingOutputCallResponse m_response;
  std::atomic<int> m_refs{1};
  std::atomic<bool> m_finished{false};
  std::mutex m_mu;  // guards m_cancelled and m_alarm
  bool m_cancelled = false;
  bool m_parked = false;
  std::shared_ptr<grpc::Alarm> m_alarm;
};

// StreamingOutputCall: one response per response_parameters entry, then response_status.
class StreamingOutputReactor final : public PacedWriter<grpc::ServerWriteReactor<StreamingOutputCallResponse>> {
 public:
  StreamingOutputReactor(grpc::CallbackServerContext* ctx, const StreamingOutputCallRequest& req)
      : m_status(echo_status(req.response_status())) {
    echo_metadata(ctx);
    int stop_reading = -1;
    if (grpc::Status s = read_misbehaviour(ctx, m_stall_after, stop_reading); !s.ok()) {
      finish_once(s);
      return;
    }
    if (grpc::Status s = check_parameters(req.response_parameters()); !s.ok()) {
      finish_once(s);
      return;
    }
    send({req.response_parameters().begin(), req.response_parameters().end()});
  }

 private:
  void on_sent() override { finish_once(m_status); }

  grpc::Status m_status;
};

// FullDuplexCall: answers each request as it is read; a request's non-zero response_status
// ends the call with that status.
class FullDuplexReactor final
    : public PacedWriter<grpc::ServerBidiReactor<StreamingOutputCallRequest, StreamingOutputCallResponse>> {
 public:
  explicit FullDuplexReactor(grpc::CallbackServerContext* ctx) {
    echo_metadata(ctx);
    if (grpc::Status s = read_misbehaviour(ctx, m_stall_after, m_stop_reading); !s.ok()) {
      finish_once(s);
      return;
    }
    read_next();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client half-closed (or the call is gone: Finish is then harmless)
      finish_once(grpc::Status::OK);
      return;
    }
    ++m_reads;
    if (grpc::Status s = echo_status(m_request.response_status()); !s.ok()) {
      finish_once(s);
      return;
    }
    if (grpc::Status s = check_parameters(m_request.response_parameters()); !s.ok()) {
      finish_once(s);
      return;
    }
    send({m_request.response_parameters().begin(), m_request.response_parameters().end()});
  }

 private:
  void on_sent() override { read_next(); }

  // x-grpcdx-stop-reading: after that many requests, never read again (flow control fills up).
  void read_next() {
    if (m_stop_reading >= 0 && m_reads >= m_stop_reading)
      park();
    else
      StartRead(&m_request);
  }

  StreamingOutputCallRequest m_request;
  int m_stop_reading = -1;
  int m_reads = 0;
};

// HalfDuplexCall: buffers every request and answers them all after the client half-closes.
class HalfDuplexReactor final
    : public PacedWriter<grpc::ServerBidiReactor<StreamingOutputCallRequest, StreamingOutputCallResponse>> {
 public:
  explicit HalfDuplexReactor(grpc::CallbackServerContext* ctx) {
    echo_metadata(ctx);
    int stop_reading = -1;
    if (grpc::Status s = read_misbehaviour(ctx, m_stall_after, stop_reading); !s.ok()) {
      finish_once(s);
      return;
    }
    StartRead(&m_request);
  }

  void OnReadDone(bool ok) override {
    if (ok) {
      if (grpc::Status s = check_parameters(m_request.response_parameters()); !s.ok()) {
        finish_once(s);
        return;
      }
      for (const auto& p : m_request.response_parameters()) m_buffered.push_back(p);
      if (grpc::Status s = echo_status(m_request.response_status()); !s.ok()) m_status = s;
      StartRead(&m_request);
      return;
    }
    send(std::move(m_buffered));
  }

 private:
  void on_sent() override { finish_once(m_status); }

  StreamingOutputCallRequest m_request;
  std::vector<ResponseParameters> m_buffered;
  grpc::Status m_status;
};

// StreamingInputCall: sums the payload sizes and answers once the client half-closes.
class StreamingInputReactor final : public grpc::ServerReadReactor<grpc::testing::StreamingInputCallRequest> {
 public:
  StreamingInputReactor(grpc::CallbackServerContext* ctx, grpc::testing::StreamingInputCallResponse* resp)
      : m_response(resp) {
    echo_metadata(ctx);
    int stall_after = -1;
    if (grpc::Status s = read_misbehaviour(ctx, stall_after, m_stop_reading); !s.ok()) {
      finish_once(s);
      return;
    }
    read_next();
  }

  void OnReadDone(bool ok) override {
    if (ok) {
      m_total += static_cast<int64_t>(m_request.payload().body().size());
      ++m_reads;
      read_next();
      return;
    }
    if (m_total > INT32_MAX) {
      finish_once(grpc::Status(grpc::StatusCode::OUT_OF_RANGE, "aggregated payload size exceeds 2^31-1 bytes"));
      return;
    }
    m_response->set_aggregated_payload_size(static_cast<int32_t>(m_total));
    finish_once(grpc::Status::OK);
  }

  void OnCancel() override {
    bool parked = false;
    {
      std::lock_guard lock(m_mu);
      m_cancelled = true;
      parked = m_parked;
    }
    if (parked) finish_once(cancelled_status());
  }

  void OnDone() override { delete this; }

 private:
  // x-grpcdx-stop-reading: after that many requests, never read again and stay open until the
  // client gives up (its sends then block once HTTP/2 flow control is exhausted).
  void read_next() {
    if (m_stop_reading < 0 || m_reads < m_stop_reading) {
      StartRead(&m_request);
      return;
    }
    bool was_cancelled = false;
    {
      std::lock_guard lock(m_mu);
      m_parked = true;
      was_cancelled = m_cancelled;
    }
    if (was_cancelled) finish_once(cancelled_status());
  }

  void finish_once(const grpc::Status& status) {
    if (!m_finished.exchange(true)) Finish(status);
  }

  std::mutex m_mu;  // guards m_cancelled and m_parked
  bool m_cancelled = false;
  bool m_parked = false;
  std::atomic<bool> m_finished{false};
  int m_stop_reading = -1;
  int m_reads = 0;
  grpc::testing::StreamingInputCallRequest m_request;
  grpc::testing::StreamingInputCallResponse* m_response;
  int64_t m_total = 0;
};

}  // namespace

grpc::ServerUnaryReactor* TestService::EmptyCall(grpc::CallbackServerContext* ctx, const grpc::testing::Empty*,
                                                 grpc::testing::Empty*) {
  echo_metadata(ctx);
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* TestService::UnaryCall(grpc::CallbackServerContext* ctx,
                                                 const grpc::testing::SimpleRequest* req,
                                                 grpc::testing::SimpleResponse* resp) {
  return simple_call(ctx, req, resp);
}

grpc::ServerUnaryReactor* TestService::CacheableUnaryCall(grpc::CallbackServerContext* ctx,
                                                          const grpc::testing::SimpleRequest* req,
                                                          grpc::testing::SimpleResponse* resp) {
  return simple_call(ctx, req, resp);
}

grpc::ServerWriteReactor<StreamingOutputCallResponse>* TestService::StreamingOutputCall(
    grpc::CallbackServerContext* ctx, const StreamingOutputCallRequest* req) {
  return new StreamingOutputReactor(ctx, *req);
}

grpc::ServerReadReactor<grpc::testing::StreamingInputCallRequest>* TestService::StreamingInputCall(
    grpc::CallbackServerContext* ctx, grpc::testing::StreamingInputCallResponse* resp) {
  return new StreamingInputReactor(ctx, resp);
}

grpc::ServerBidiReactor<StreamingOutputCallRequest, StreamingOutputCallResponse>* TestService::FullDuplexCall(
    grpc::CallbackServerContext* ctx) {
  return new FullDuplexReactor(ctx);
}

grpc::ServerBidiReactor<StreamingOutputCallRequest, StreamingOutputCallResponse>* TestService::HalfDuplexCall(
    grpc::CallbackServerContext* ctx) {
  return new HalfDuplexReactor(ctx);
}

}  // namespace grpcdx::server
