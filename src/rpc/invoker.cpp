// The generic invoker: a callback-API bidi reactor over grpc::GenericStub. Every streaming kind
// is the same on the wire (a stream of requests, a stream of responses), so one reactor serves
// all four; the caller decides how many requests to send.
#include "core/current_step.hpp"
#include "rpc/invoker.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <grpcpp/completion_queue.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/client_callback.h>

namespace grpcdx::rpc {

namespace {

std::string to_string(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  out.reserve(buffer.Length());
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

class Reactor : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  Reactor(const CallSink& sink, CallResult& result) : m_sink(sink), m_result(result) {}

  void start(grpc::GenericStub& stub, grpc::ClientContext& ctx, const std::string& method) {
    m_ctx = &ctx;
    stub.PrepareBidiStreamingCall(&ctx, method, grpc::StubOptions(), this);
    StartRead(&m_in);
    AddHold();  // released by the writer once it has sent everything or given up
    StartCall();
  }

  // Runs on the calling thread: sends every request, then half-closes.
  void write_all(RequestSource& requests) {
    while (true) {
      if (m_sink.on_input_wait) m_sink.on_input_wait(true);
      auto next = requests.next(m_stop);
      if (m_sink.on_input_wait) m_sink.on_input_wait(false);
      if (!next) break;
      if (!*next) {
        m_result.input_error = next->error();
        m_ctx->TryCancel();
        break;
      }
      if (m_sink.on_send_started) m_sink.on_send_started(**next);
      grpc::Slice slice(**next);
      m_out = grpc::ByteBuffer(&slice, 1);
      {
        std::unique_lock lock(m_mutex);
        m_write_pending = true;
      }
      StartWrite(&m_out);
      std::unique_lock lock(m_mutex);
      m_cv.wait(lock, [this] { return !m_write_pending; });
      if (!m_write_ok) break;
    }
    if (!m_stop) StartWritesDone();
    RemoveHold();
  }

  void OnReadInitialMetadataDone(bool ok) override {
    if (ok) deliver_headers();
  }

  // Reports the response headers once, before any message: the reaction to the headers and the
  // reaction to the first message may run on different threads in either order.
  void deliver_headers() {
    std::lock_guard lock(m_headers_mutex);
    if (m_headers_delivered) return;
    m_headers_delivered = true;
    m_result.headers_at = Clock::now();
    if (m_sink.on_headers) m_sink.on_headers(to_metadata(m_ctx->GetServerInitialMetadata()));
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      m_stop = true;  // the server ended its side: nothing more to send
      return;
    }
    deliver_headers();  // a message implies the headers have arrived
    if (!m_result.first_message_at) m_result.first_message_at = Clock::now();
    ++m_result.received;
    bool more = m_sink.on_message ? m_sink.on_message(to_string(m_in)) : true;
    if (!more) {
      m_result.cancelled_on_purpose = true;
      m_stop = true;
      m_ctx->TryCancel();
      return;
    }
    StartRead(&m_in);
  }

  void OnWriteDone(bool ok) override {
    if (ok) {
      ++m_result.sent;
      if (m_sink.on_sent) m_sink.on_sent();
    } else if (m_sink.on_send_failed) {
      m_sink.on_send_failed();
    }
    std::lock_guard lock(m_mutex);
    m_write_ok = ok;
    m_write_pending = false;
    m_cv.notify_all();
  }

  void OnDone(const grpc::Status& status) override {
    m_result.code = status.error_code();
    m_result.message = status.error_message();
    m_result.details = status.error_details();
    m_result.trailers = to_metadata(m_ctx->GetServerTrailingMetadata());
    m_result.end = Clock::now();
    m_ended = true;
    std::lock_guard lock(m_mutex);
    m_done = true;
    m_cv.notify_all();
  }

  void wait_done() {
    std::unique_lock lock(m_mutex);
    m_cv.wait(lock, [this] { return m_done; });
  }

  std::atomic<bool> m_stop{false};
  std::atomic<bool> m_ended{false};  // OnDone has run (for the monitor)

 private:
  const CallSink& m_sink;
  CallResult& m_result;
  grpc::ClientContext* m_ctx = nullptr;
  grpc::ByteBuffer m_in, m_out;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_write_pending = false;
  bool m_write_ok = true;
  bool m_done = false;
  std::mutex m_headers_mutex;
  bool m_headers_delivered = false;
};

}  // namespace

std::optional<Result<std::string>> ListRequestSource::next(const std::atomic<bool>& stop) {
  if (stop || m_pos >= m_messages.size()) return std::nullopt;
  return Result<std::string>(std::move(m_messages[m_pos++]));
}

net::Metadata to_metadata(const std::multimap<grpc::string_ref, grpc::string_ref>& map) {
  net::Metadata out;
  for (const auto& [k, v] : map) out.push_back({std::string(k.data(), k.size()), std::string(v.data(), v.size())});
  return out;
}

CallResult invoke(const std::shared_ptr<grpc::Channel>& channel, const InvokeOptions& options, RequestSource& requests,
                  const CallSink& sink) {
  CallResult result;
  result.start = Clock::now();
  grpc::ClientContext ctx;
  if (options.prepare) options.prepare(ctx);
  grpc::GenericStub stub(channel);
  Reactor reactor(sink, result);
  set_current_step("calling " + options.method_path);
  reactor.start(stub, ctx, options.method_path);
  // The monitor only touches the context, which outlives it: it is joined before we return.
  std::thread monitor;
  if (options.monitor)
    monitor = std::thread([&] { options.monitor([&ctx] { ctx.TryCancel(); }, reactor.m_ended); });
  // This thread writes: responses are handled on gRPC's callback threads meanwhile, and the
  // reactor's hold keeps the call from completing until the writer is done, so no extra thread
  // is needed even when requests come from standard input as they are typed.
  reactor.write_all(requests);
  reactor.wait_done();
  if (monitor.joinable()) monitor.join();
  return result;
}

CallResult invoke_unary(const std::shared_ptr<grpc::Channel>& channel, const InvokeOptions& options,
                        const std::string& request, const CallSink& sink) {
  CallResult result;
  result.start = Clock::now();
  grpc::ClientContext ctx;
  if (options.prepare) options.prepare(ctx);
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::Slice slice(request);
  grpc::ByteBuffer request_buffer(&slice, 1);
  if (sink.on_send_started) sink.on_send_started(request);
  auto call = stub.PrepareUnaryCall(&ctx, options.method_path, request_buffer, &cq);
  call->StartCall();
  grpc::ByteBuffer response;
  grpc::Status status;
  int headers_tag = 1, finish_tag = 2;
  call->ReadInitialMetadata(&headers_tag);
  call->Finish(&response, &status, &finish_tag);
  bool headers_done = false, finished = false;
  while (!(headers_done && finished)) {
    void* tag = nullptr;
    bool ok = false;
    if (!cq.Next(&tag, &ok)) break;
    if (tag == &headers_tag) {
      headers_done = true;
      if (ok) {
        result.headers_at = Clock::now();
        if (sink.on_headers) sink.on_headers(to_metadata(ctx.GetServerInitialMetadata()));
      }
    } else if (tag == &finish_tag) {
      finished = true;
    }
  }
  result.end = Clock::now();
  result.sent = 1;
  if (sink.on_sent) sink.on_sent();
  if (status.ok()) {
    result.first_message_at = result.end;
    result.received = 1;
    if (sink.on_message) sink.on_message(to_string(response));
  }
  result.code = status.error_code();
  result.message = status.error_message();
  result.details = status.error_details();
  result.trailers = to_metadata(ctx.GetServerTrailingMetadata());
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
  return result;
}

}  // namespace grpcdx::rpc
