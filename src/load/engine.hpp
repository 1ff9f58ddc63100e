// The bench engine: -c concurrent calls over K channels with the callback API and raw
// ByteBuffers, closed-loop (as fast as possible) or open-loop at a fixed rate, for any
// streaming kind; figures go into per-shard histograms merged at the end.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/generic/generic_stub.h>

#include "core/duration.hpp"
#include "core/error.hpp"
#include "load/histogram.hpp"
#include "load/request_set.hpp"
#include "load/schedule.hpp"
#include "load/series.hpp"

namespace grpc::internal {
class RpcMethod;
}

namespace grpcdx::load {

using Clock = std::chrono::steady_clock;

enum class CallKind { unary, client_streaming, server_streaming, bidi };

// "unary", "client streaming", "server streaming" or "bidi streaming", for reports.
inline const char* kind_name(CallKind kind) {
  switch (kind) {
    case CallKind::unary: return "unary";
    case CallKind::client_streaming: return "client streaming";
    case CallKind::server_streaming: return "server streaming";
    case CallKind::bidi: return "bidi streaming";
  }
  return "unary";
}

inline constexpr int k_status_codes = 17;  // OK .. UNAUTHENTICATED

// One measured call as it ended, for `-o csv`.
struct CallRecord {
  double start_ms = 0;    // when it was due (or started), from the start of the measured part
  double latency_ms = 0;
  int code = 0;
  std::string_view backend;  // the server address that answered ("" when none did)
};

struct LoadOptions {
  std::vector<std::shared_ptr<grpc::Channel>> channels;  // at least one; slot i uses channel i % K
  std::string method_path;                               // "/pkg.Service/Method"
  CallKind kind = CallKind::unary;
  int concurrency = 50;      // calls in flight at most
  uint64_t total_calls = 0;  // -n: measured calls to make; 0 with a duration
  Duration duration{};       // -z: how long to issue measured calls; zero with total_calls
  double rps = 0;            // > 0: open loop, calls are due at start + k / rps
  Duration warmup{};         // calls issued before start + warmup are made but not counted
  std::function<void(grpc::ClientContext&)> prepare;  // metadata and deadline of each call
  // Open loop at a rate that follows this schedule (instead of rps); its t = 0 is the start of
  // the measured part (a warm-up runs at the start rate).
  std::optional<Schedule> rate_schedule;
  // Calls in flight that follow this schedule (instead of concurrency): slots above the current
  // value park when their call ends and start again when the value rises.
  std::optional<Schedule> concurrency_schedule;
  // Called about every 100 ms from the thread inside run(), with the measured calls finished so
  // far, the time since the measured part began and the last closed second (nullptr before one).
  std::function<void(uint64_t done, Duration elapsed, const SeriesPoint* last_second)> on_tick;
  // Record the address of the server that answered each call (LoadResult::backends, the CSV's
  // backend column). It costs a string per call, so it is off unless asked for.
  bool track_backends = false;
  // Called for every measured call as it ends, from gRPC's threads (it must be thread-safe).
  std::function<void(const CallRecord&)> on_call;
};

// Figures of a finished run. Latencies are in nanoseconds. In open-loop mode a call's latency is
// measured from the time it was due, not from when it could be sent (no coordinated omission).
struct LoadResult {
  uint64_t count = 0;       // measured calls finished (every status)
  uint64_t ok = 0;
  uint64_t warmup_calls = 0;
  Duration duration{};      // from the start of the measured part to the last measured call's end
  Histogram latency;        // every measured call
  Histogram failed_latency; // measured calls that did not end OK
  std::array<uint64_t, k_status_codes> status{};
  std::array<std::string, k_status_codes> status_example;  // one status message per code
  // Streams: messages sent and received by measured calls, and per-message latency (the time
  // from the call's start, or from the previous response, to each response).
  uint64_t messages_sent = 0;
  uint64_t messages_received = 0;
  Histogram message_latency;
  double cpu_ms = 0;        // user + system CPU time of this process during the run
  bool interrupted = false; // stop() was called before the run was complete
  // With track_backends: measured calls per server address that answered ("127.0.0.1:50051").
  std::map<std::string, uint64_t> backends;
  // The measured calls second by second (by the time each ended), from second 0 to the second of
  // the last call's end; a last second shorter than k_series_sliver is folded into the one before
  // (so the last point covers up to 1.25 s). Calls recorded too late for their second are counted
  // in series_late.
  std::vector<SeriesPoint> series;
  uint64_t series_late = 0;
  double rps() const {
    auto s = std::chrono::duration<double>(duration).count();
    return s > 0 ? static_cast<double>(count) / s : 0.0;
  }
};

class LoadRun {
 public:
  LoadRun(LoadOptions options, RequestSet& requests);
  ~LoadRun();
  LoadRun(const LoadRun&) = delete;
  LoadRun& operator=(const LoadRun&) = delete;

  // Runs the load to completion (all -n calls, or -z elapsed, or stop()) and waits for calls in
  // flight. Fails (local) when a templated request cannot be built; the run stops then.
  Result<LoadResult> run();

  // Stops issuing calls; calls in flight finish. Thread-safe; for signal handlers' watchers.
  void stop();

  // Internal: the per-call reactors report here.
  struct Slot;
  struct Finished {
    Clock::time_point intended, end;
    int code = 0;
    bool measured = false;
    uint64_t sent = 0, received = 0;
    const std::string* message = nullptr;
    std::string peer;  // with track_backends: gRPC's peer ("ipv4:127.0.0.1:50051")
  };
  bool tracks_backends() const { return m_opt.track_backends; }
  void finish(Slot& slot, const Finished& call);
  void record_message_gap(Slot& slot, Duration gap);

 private:
  struct Shard;
  void issue(Slot& slot);                        // closed loop: start the slot's next call or retire it
  bool start_call(Slot& slot, Clock::time_point intended, bool measured);
  void dispatch();                               // open loop: the pacing thread
  void retire_slot();
  void fail(Error error);
  void park(Slot& slot);                         // closed loop: the slot waits for the concurrency to rise
  Duration measured_time(Clock::time_point now) const;  // since the measured part began (0 before)
  void follow_concurrency(Clock::time_point now);  // applies the concurrency schedule at `now`
  // Closes every second < before into m_series; with fold_next, second `before` (a sliver at the
  // end of the run) is closed into the point of second before - 1.
  void collect_series(int64_t before, bool fold_next = false);

  static int slot_count(const LoadOptions& options);

  LoadOptions m_opt;
  RequestSet& m_requests;
  std::vector<std::unique_ptr<grpc::GenericStub>> m_stubs;
  // Unary calls: the method registered on each channel, as a generated stub registers its
  // methods, so a call needs no per-call copy of its path (GenericStub's calls are unregistered).
  std::vector<std::unique_ptr<grpc::internal::RpcMethod>> m_methods;
  std::vector<std::unique_ptr<Shard>> m_shards;
  std::vector<std::unique_ptr<Slot>> m_slots;
  Clock::time_point m_start, m_measure_start, m_deadline;
  std::atomic<bool> m_stopping{false};
  std::atomic<bool> m_stop_requested{false};
  std::atomic<uint64_t> m_issued{0};        // measured call tickets taken
  std::atomic<uint64_t> m_request_number{0};
  std::atomic<uint64_t> m_done{0};          // measured calls finished
  std::atomic<uint64_t> m_warmup_calls{0};
  std::atomic<int> m_in_flight{0};
  const bool m_open_loop;
  std::atomic<int> m_target;                // slots that may have a call (the concurrency now)
  std::vector<SeriesPoint> m_series;        // closed seconds (the thread in run() only)
  int64_t m_series_next = 0;                // the next second to close

  std::mutex m_mutex;  // guards the fields below
  std::condition_variable m_cv;
  int m_live_slots = 0;
  bool m_dispatcher_done = false;
  std::vector<Slot*> m_free;  // open loop: idle slots
  std::vector<Slot*> m_parked;  // closed loop: slots above the scheduled concurrency
  std::optional<Error> m_error;
};

}  // namespace grpcdx::load
