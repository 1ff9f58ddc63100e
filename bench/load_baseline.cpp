// The bench engine's baseline: a minimal hand-written callback-API client making the same unary
// calls as `grpcdx bench` (grpc.testing.TestService/UnaryCall, -c calls in flight, -n in all)
// with the same library, linked like the grpcdx binary. bench/load_bench.py compares the two.
//
//   grpcdx_load_baseline ADDR N C [RESPONSE_SIZE]
//
// Prints one JSON line: {"count", "ok", "duration_ms", "rps", "p50_ms", "p99_ms", "p999_ms",
// "max_ms"} with exact percentiles (every latency is kept; fine for a benchmark of bounded N).
// Exit 2 for bad usage.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "grpc/testing/test.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

class Baseline {
 public:
  Baseline(std::shared_ptr<grpc::Channel> channel, uint64_t total, int concurrency, int response_size)
      : m_stub(grpc::testing::TestService::NewStub(channel)), m_total(total), m_concurrency(concurrency),
        m_latency(total) {
    m_request.set_response_size(response_size);
  }

  void run() {
    m_start = Clock::now();
    for (int i = 0; i < m_concurrency; ++i) issue();
    std::unique_lock lock(m_mutex);
    m_cv.wait(lock, [this] { return m_retired == m_concurrency; });
    m_end = Clock::now();
  }

  void print() {
    std::sort(m_latency.begin(), m_latency.end());
    auto pct = [&](double q) {
      size_t rank = std::max<size_t>(1, static_cast<size_t>(q * static_cast<double>(m_total) + 0.999999));
      return static_cast<double>(m_latency[std::min(rank, m_latency.size()) - 1]) / 1e6;
    };
    const double ms = std::chrono::duration<double, std::milli>(m_end - m_start).count();
    std::printf(
        "{\"count\": %llu, \"ok\": %llu, \"duration_ms\": %.3f, \"rps\": %.1f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, "
        "\"p999_ms\": %.3f, \"max_ms\": %.3f}\n",
        static_cast<unsigned long long>(m_total), static_cast<unsigned long long>(m_ok.load()), ms,
        static_cast<double>(m_total) / (ms / 1000), pct(0.5), pct(0.99), pct(0.999),
        static_cast<double>(m_latency.back()) / 1e6);
  }

 private:
  struct Call {
    grpc::ClientContext ctx;
    grpc::testing::SimpleResponse response;
    Clock::time_point start;
    uint64_t index = 0;
  };

  void issue() {
    const uint64_t index = m_issued.fetch_add(1);
    if (index >= m_total) {
      std::lock_guard lock(m_mutex);
      ++m_retired;
      m_cv.notify_all();
      return;
    }
    auto* call = new Call;
    call->index = index;
    call->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    call->start = Clock::now();
    m_stub->async()->UnaryCall(&call->ctx, &m_request, &call->response, [this, call](grpc::Status status) {
      m_latency[call->index] = static_cast<uint64_t>((Clock::now() - call->start).count());
      if (status.ok()) m_ok.fetch_add(1);
      delete call;
      issue();
    });
  }

  std::unique_ptr<grpc::testing::TestService::Stub> m_stub;
  grpc::testing::SimpleRequest m_request;
  uint64_t m_total;
  int m_concurrency;
  std::vector<uint64_t> m_latency;  // nanoseconds, by call index
  std::atomic<uint64_t> m_issued{0}, m_ok{0};
  std::mutex m_mutex;
  std::condition_variable m_cv;
  int m_retired = 0;
  Clock::time_point m_start, m_end;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: grpcdx_load_baseline ADDR N C [RESPONSE_SIZE]\n");
    return 2;
  }
  const uint64_t total = std::strtoull(argv[2], nullptr, 10);
  const int concurrency = std::atoi(argv[3]);
  const int size = argc > 4 ? std::atoi(argv[4]) : 0;
  if (total == 0 || concurrency < 1) {
    std::fprintf(stderr, "error: N and C must be positive\n");
    return 2;
  }
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // as grpcdx's channels
  auto channel = grpc::CreateCustomChannel(argv[1], grpc::InsecureChannelCredentials(), args);
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    std::fprintf(stderr, "error: could not connect to %s\n", argv[1]);
    return 78;
  }
  Baseline baseline(channel, total, concurrency, size);
  baseline.run();
  baseline.print();
  return 0;
}
