// The bench engine. One object per call (unary: the stub's one-batch callback call; streams: one
// bidi reactor for every streaming kind), deleted when the call is done; the next call of a slot
// starts from that completion in closed-loop mode, or from the pacing thread in --rps mode.
#include "load/engine.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <thread>

#include <grpcpp/impl/rpc_method.h>
#include <grpcpp/support/client_callback.h>

namespace grpcdx::load {

namespace {

constexpr int k_max_shards = 16;
constexpr int k_max_slots = 100'000;  // as -c's bound
constexpr auto k_tick = std::chrono::milliseconds(100);

double cpu_ms_now() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto ms = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) * 1e3 + static_cast<double>(tv.tv_usec) / 1e3; };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

uint64_t nanos(Duration d) { return d.count() > 0 ? static_cast<uint64_t>(d.count()) : 0; }

// gRPC's peer ("ipv4:127.0.0.1:50051", "ipv6:[::1]:50051", "unix:/path") as an address.
std::string backend_address(const std::string& peer) {
  for (std::string_view scheme : {"ipv4:", "ipv6:"})
    if (peer.starts_with(scheme)) return peer.substr(scheme.size());
  return peer;
}

}  // namespace

// Figures of the slots that share it; a few shards keep lock contention low and memory fixed.
struct LoadRun::Shard {
  std::mutex mutex;
  Histogram latency, failed_latency, message_latency;
  std::array<uint64_t, k_status_codes> status{};
  std::array<std::string, k_status_codes> status_example;
  uint64_t sent = 0, received = 0;
  Clock::time_point last_end{};
  std::map<std::string, uint64_t> backends;
  SecondRing series;
};

struct LoadRun::Slot {
  int id = 0;
  grpc::GenericStub* stub = nullptr;
  grpc::ChannelInterface* channel = nullptr;          // the stub's channel
  const grpc::internal::RpcMethod* method = nullptr;  // registered on that channel (unary calls)
  Shard* shard = nullptr;
};

namespace {

// Fills the figures the reactors share and hands them to the run. Deleting the reactor before
// LoadRun::finish matters: finish may end the run, after which nothing of the call may remain.
template <class Reactor>
void done(Reactor* reactor, LoadRun& run, LoadRun::Slot& slot, LoadRun::Finished f, const grpc::Status& status) {
  f.end = Clock::now();
  f.code = status.error_code();
  if (run.tracks_backends()) f.peer = reactor->context().peer();
  std::string message;
  if (!status.ok()) message = status.error_message();  // a copy only for failures
  f.message = &message;
  delete reactor;
  run.finish(slot, f);
}

// A unary call through the one-batch callback path a generated stub's
// async()->Method(ctx, req, resp, callback) takes, on a method registered with the channel as a
// generated stub's are: a single completion per call, where a ClientUnaryReactor takes two.
class UnaryCall final {
 public:
  UnaryCall(LoadRun& run, LoadRun::Slot& slot, Clock::time_point intended, bool measured)
      : m_run(run), m_slot(slot) {
    m_finished.intended = intended;
    m_finished.measured = measured;
  }
  grpc::ClientContext& context() { return m_ctx; }

  // Takes `request`'s contents (a ByteBuffer has no move: each copy is an allocation).
  void start(grpc::ChannelInterface* channel, const grpc::internal::RpcMethod& method, grpc::ByteBuffer& request) {
    m_request.Swap(&request);
    grpc::internal::CallbackUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
        channel, method, &m_ctx, &m_request, &m_response, [this](grpc::Status status) { on_done(status); });
  }

 private:
  void on_done(const grpc::Status& status) {
    m_finished.sent = 1;
    m_finished.received = status.ok() ? 1 : 0;
    done(this, m_run, m_slot, m_finished, status);
  }

  LoadRun& m_run;
  LoadRun::Slot& m_slot;
  LoadRun::Finished m_finished;
  grpc::ClientContext m_ctx;
  grpc::ByteBuffer m_request, m_response;
};

// Client, server and bidi streaming: write every request (chained from OnWriteDone), half-close,
// and read until the server ends the stream, timing each response.
class StreamCall final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  StreamCall(LoadRun& run, LoadRun::Slot& slot, Clock::time_point intended, bool measured)
      : m_run(run), m_slot(slot), m_last(intended) {
    m_finished.intended = intended;
    m_finished.measured = measured;
  }
  grpc::ClientContext& context() { return m_ctx; }

  void start(grpc::GenericStub& stub, const std::string& method, std::vector<grpc::ByteBuffer> requests) {
    m_requests = std::move(requests);
    stub.PrepareBidiStreamingCall(&m_ctx, method, grpc::StubOptions(), this);
    StartRead(&m_in);
    if (m_requests.empty())
      StartWritesDone();
    else
      StartWrite(&m_requests[0]);
    StartCall();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) return;  // the call is ending; OnDone has the status
    ++m_finished.sent;
    if (++m_next < m_requests.size())
      StartWrite(&m_requests[m_next]);
    else
      StartWritesDone();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;
    auto now = Clock::now();
    ++m_finished.received;
    if (m_finished.measured) m_run.record_message_gap(m_slot, now - m_last);
    m_last = now;
    StartRead(&m_in);
  }

  void OnDone(const grpc::Status& status) override { done(this, m_run, m_slot, m_finished, status); }

 private:
  LoadRun& m_run;
  LoadRun::Slot& m_slot;
  LoadRun::Finished m_finished;
  grpc::ClientContext m_ctx;
  std::vector<grpc::ByteBuffer> m_requests;
  size_t m_next = 0;
  grpc::ByteBuffer m_in;
  Clock::time_point m_last;
};

}  // namespace

int LoadRun::slot_count(const LoadOptions& o) {
  if (!o.concurrency_schedule) return std::max(1, o.concurrency);
  const double peak = schedule_peak(*o.concurrency_schedule);
  return static_cast<int>(std::clamp(std::ceil(peak), 1.0, static_cast<double>(k_max_slots)));
}

LoadRun::LoadRun(LoadOptions options, RequestSet& requests)
    : m_opt(std::move(options)), m_requests(requests), m_open_loop(m_opt.rps > 0 || m_opt.rate_schedule) {
  m_opt.concurrency = slot_count(m_opt);
  m_target = m_opt.concurrency;
  if (m_opt.concurrency_schedule)
    m_target = std::clamp(static_cast<int>(std::lround(schedule_value(*m_opt.concurrency_schedule, Duration::zero()))), 1,
                          m_opt.concurrency);
  for (const auto& channel : m_opt.channels) {
    m_stubs.push_back(std::make_unique<grpc::GenericStub>(channel));
    if (m_opt.kind == CallKind::unary)
      m_methods.push_back(std::make_unique<grpc::internal::RpcMethod>(m_opt.method_path.c_str(),
                                                                      grpc::internal::RpcMethod::NORMAL_RPC, channel));
  }
  const int shards = std::min(m_opt.concurrency, k_max_shards);
  for (int i = 0; i < shards; ++i) m_shards.push_back(std::make_unique<Shard>());
  for (int i = 0; i < m_opt.concurrency; ++i) {
    auto slot = std::make_unique<Slot>();
    slot->id = i;
    slot->stub = m_stubs[static_cast<size_t>(i) % m_stubs.size()].get();
    slot->channel = m_opt.channels[static_cast<size_t>(i) % m_opt.channels.size()].get();
    if (!m_methods.empty()) slot->method = m_methods[static_cast<size_t>(i) % m_methods.size()].get();
    slot->shard = m_shards[static_cast<size_t>(i) % m_shards.size()].get();
    m_slots.push_back(std::move(slot));
  }
}

LoadRun::~LoadRun() = default;

void LoadRun::stop() {
  m_stop_requested = true;
  std::lock_guard lock(m_mutex);
  m_stopping = true;
  m_cv.notify_all();
}

void LoadRun::fail(Error error) {
  std::lock_guard lock(m_mutex);
  if (!m_error) m_error = std::move(error);
  m_stopping = true;
  m_cv.notify_all();
}

void LoadRun::retire_slot() {
  std::lock_guard lock(m_mutex);
  --m_live_slots;
  m_cv.notify_all();  // under the lock: run() may return, and destroy m_cv, as soon as it is released
}

bool LoadRun::start_call(Slot& slot, Clock::time_point intended, bool measured) {
  const uint64_t number = m_request_number.fetch_add(1, std::memory_order_relaxed);
  if (m_opt.kind == CallKind::unary || m_opt.kind == CallKind::server_streaming) {
    auto request = m_requests.message(number, number, slot.id);
    if (!request) {
      fail(request.error());
      return false;
    }
    if (m_opt.kind == CallKind::unary) {
      auto* call = new UnaryCall(*this, slot, intended, measured);
      if (m_opt.prepare) m_opt.prepare(call->context());
      call->start(slot.channel, *slot.method, *request);
    } else {
      auto* call = new StreamCall(*this, slot, intended, measured);
      if (m_opt.prepare) m_opt.prepare(call->context());
      std::vector<grpc::ByteBuffer> requests(1);
      requests.back().Swap(&*request);
      call->start(*slot.stub, m_opt.method_path, std::move(requests));
    }
    return true;
  }
  std::vector<grpc::ByteBuffer> requests;
  requests.reserve(m_requests.size());
  for (size_t i = 0; i < m_requests.size(); ++i) {
    auto request = m_requests.message(i, number, slot.id);
    if (!request) {
      fail(request.error());
      return false;
    }
    requests.emplace_back().Swap(&*request);
  }
  auto* call = new StreamCall(*this, slot, intended, measured);
  if (m_opt.prepare) m_opt.prepare(call->context());
  call->start(*slot.stub, m_opt.method_path, std::move(requests));
  return true;
}

void LoadRun::park(Slot& slot) {
  std::lock_guard lock(m_mutex);
  m_parked.push_back(&slot);
}

void LoadRun::issue(Slot& slot) {
  while (true) {
    if (m_stopping.load(std::memory_order_relaxed)) return retire_slot();
    const auto now = Clock::now();
    const bool measured = now >= m_measure_start;
    if (measured && m_opt.duration > Duration::zero() && now >= m_deadline) return retire_slot();
    // Parked before taking a ticket, so that -n's calls are all made.
    if (m_opt.concurrency_schedule && slot.id >= m_target.load(std::memory_order_relaxed)) return park(slot);
    if (measured) {
      if (m_opt.total_calls > 0 && m_issued.fetch_add(1, std::memory_order_relaxed) >= m_opt.total_calls)
        return retire_slot();
    }
    if (start_call(slot, now, measured)) return;
  }
}

void LoadRun::dispatch() {
  Schedule rate = m_opt.rate_schedule ? *m_opt.rate_schedule : constant_schedule(m_opt.rps);
  RatePacer pacer(rate, m_opt.warmup);
  for (uint64_t k = 0;; ++k) {
    // The pacer's times are capped (duration_from_ms) so a tiny rate cannot overflow the clock.
    const auto intended = m_measure_start + pacer.due(k);
    Slot* slot = nullptr;
    {
      std::unique_lock lock(m_mutex);
      m_cv.wait_until(lock, intended, [&] { return m_stopping.load(); });
      if (m_stopping) break;
    }
    const bool measured = intended >= m_measure_start;
    if (measured) {
      if (m_opt.duration > Duration::zero() && intended >= m_deadline) break;
      if (m_opt.total_calls > 0 && m_issued.fetch_add(1) >= m_opt.total_calls) break;
    }
    {
      // A late call keeps its due time: waiting here for a free slot counts in its latency. With a
      // concurrency schedule, only m_target slots may be busy at once.
      std::unique_lock lock(m_mutex);
      m_cv.wait(lock, [&] {
        return (!m_free.empty() && m_slots.size() - m_free.size() < static_cast<size_t>(m_target.load())) ||
               m_stopping.load();
      });
      if (m_stopping) break;
      slot = m_free.back();
      m_free.pop_back();
    }
    if (!start_call(*slot, intended, measured)) {
      std::lock_guard lock(m_mutex);
      m_free.push_back(slot);
      break;
    }
  }
  std::lock_guard lock(m_mutex);
  m_dispatcher_done = true;
  m_cv.notify_all();
}

void LoadRun::record_message_gap(Slot& slot, Duration gap) {
  std::lock_guard lock(slot.shard->mutex);
  slot.shard->message_latency.record(nanos(gap));
}

void LoadRun::finish(Slot& slot, const Finished& call) {
  if (call.measured) {
    Shard& shard = *slot.shard;
    const int code = call.code >= 0 && call.code < k_status_codes ? call.code : 2;  // UNKNOWN
    {
      std::lock_guard lock(shard.mutex);
      const uint64_t latency = nanos(call.end - call.intended);
      shard.latency.record(latency);
      if (code != 0) shard.failed_latency.record(latency);
      ++shard.status[static_cast<size_t>(code)];
      if (code != 0 && shard.status_example[static_cast<size_t>(code)].empty() && call.message)
        shard.status_example[static_cast<size_t>(code)] = *call.message;
      shard.sent += call.sent;
      shard.received += call.received;
      shard.last_end = std::max(shard.last_end, call.end);
      shard.series.record(call.end - m_measure_start, latency, code != 0);
      if (!call.peer.empty()) ++shard.backends[backend_address(call.peer)];
    }
    if (m_opt.on_call) {
      const std::string backend = call.peer.empty() ? std::string() : backend_address(call.peer);
      m_opt.on_call(CallRecord{std::chrono::duration<double, std::milli>(call.intended - m_measure_start).count(),
                               std::chrono::duration<double, std::milli>(call.end - call.intended).count(), code,
                               backend});
    }
    m_done.fetch_add(1, std::memory_order_relaxed);
  } else {
    m_warmup_calls.fetch_add(1, std::memory_order_relaxed);
  }
  if (m_open_loop) {
    std::lock_guard lock(m_mutex);
    m_free.push_back(&slot);
    m_cv.notify_all();
    return;
  }
  issue(slot);
}

Duration LoadRun::measured_time(Clock::time_point now) const {
  return now > m_measure_start ? Duration(now - m_measure_start) : Duration::zero();
}

void LoadRun::follow_concurrency(Clock::time_point now) {
  const Duration t = measured_time(now);
  const int target =
      std::clamp(static_cast<int>(std::lround(schedule_value(*m_opt.concurrency_schedule, t))), 1, m_opt.concurrency);
  std::vector<Slot*> wake;
  bool over = false;
  {
    std::lock_guard lock(m_mutex);
    m_target.store(target);
    if (m_open_loop) {
      m_cv.notify_all();  // the dispatcher may take more slots now
      return;
    }
    // Closed loop: parked slots below the target start again; once no more calls are to be made,
    // every parked slot is woken so that it retires.
    over = m_stopping.load() || (m_opt.duration > Duration::zero() && now >= m_deadline) ||
                      (m_opt.total_calls > 0 && m_issued.load() >= m_opt.total_calls);
    std::erase_if(m_parked, [&](Slot* slot) {
      if (!over && slot->id >= target) return false;
      wake.push_back(slot);
      return true;
    });
  }
  for (Slot* slot : wake) {
    if (over) retire_slot();  // issue() would park it again: it is above the target
    else issue(*slot);
  }
}

void LoadRun::collect_series(int64_t before, bool fold_next) {
  for (; m_series_next < before; ++m_series_next) {
    Histogram latency;
    uint64_t errors = 0;
    const bool fold = fold_next && m_series_next + 1 == before;
    for (auto& shard : m_shards) {
      std::lock_guard lock(shard->mutex);
      shard->series.take(m_series_next, latency, errors);
      if (fold) shard->series.take(before, latency, errors);
    }
    m_series.push_back(close_second(m_series_next, latency, errors));
  }
}

Result<LoadResult> LoadRun::run() {
  const double cpu_start = cpu_ms_now();
  m_start = Clock::now();
  m_measure_start = m_start + std::chrono::duration_cast<Clock::duration>(m_opt.warmup);
  m_deadline = m_measure_start + std::chrono::duration_cast<Clock::duration>(m_opt.duration);
  std::thread dispatcher;
  const bool open_loop = m_open_loop;
  if (open_loop) {
    {
      std::lock_guard lock(m_mutex);
      for (auto it = m_slots.rbegin(); it != m_slots.rend(); ++it) m_free.push_back(it->get());
    }
    dispatcher = std::thread([this] { dispatch(); });
  } else {
    {
      std::lock_guard lock(m_mutex);
      m_live_slots = static_cast<int>(m_slots.size());
    }
    for (auto& slot : m_slots) issue(*slot);
  }
  auto finished = [&] {
    return open_loop ? m_dispatcher_done && m_free.size() == m_slots.size() : m_live_slots == 0;
  };
  {
    std::unique_lock lock(m_mutex);
    while (!finished()) {
      auto wake = Clock::now() + k_tick;
      if (m_opt.concurrency_schedule) {
        // Wake when the concurrency is due to change, too.
        const auto now = Clock::now();
        if (auto next = next_change(*m_opt.concurrency_schedule, measured_time(now)))
          wake = std::min(wake, m_measure_start + *next);
      }
      m_cv.wait_until(lock, wake, finished);
      if (finished()) break;
      const auto now = Clock::now();
      const Duration elapsed = measured_time(now);
      const uint64_t done = m_done.load();
      lock.unlock();
      if (m_opt.concurrency_schedule) follow_concurrency(now);
      collect_series(closable_before(elapsed));
      if (m_opt.on_tick) m_opt.on_tick(done, elapsed, m_series.empty() ? nullptr : &m_series.back());
      lock.lock();
    }
  }
  if (dispatcher.joinable()) dispatcher.join();
  if (m_error) return std::unexpected(*m_error);

  LoadResult result;
  Clock::time_point last_end = m_measure_start;
  for (auto& shard : m_shards) {
    std::lock_guard lock(shard->mutex);
    result.latency.merge(shard->latency);
    result.failed_latency.merge(shard->failed_latency);
    result.message_latency.merge(shard->message_latency);
    for (int c = 0; c < k_status_codes; ++c) {
      result.status[static_cast<size_t>(c)] += shard->status[static_cast<size_t>(c)];
      if (result.status_example[static_cast<size_t>(c)].empty())
        result.status_example[static_cast<size_t>(c)] = shard->status_example[static_cast<size_t>(c)];
    }
    for (const auto& [address, n] : shard->backends) result.backends[address] += n;
    result.messages_sent += shard->sent;
    result.messages_received += shard->received;
    last_end = std::max(last_end, shard->last_end);
  }
  // The last seconds: every one up to the second of the last call's end.
  if (result.latency.count() > 0) {
    const Duration span = last_end - m_measure_start;
    const int64_t last = second_of(span);
    // Folding needs both seconds open: a second closes a grace period (1 s) after it ends.
    if (last >= 1 && span - std::chrono::seconds(last) < k_series_sliver && m_series_next <= last - 1)
      collect_series(last, true);
    else
      collect_series(last + 1);
  }
  for (auto& shard : m_shards) {
    std::lock_guard lock(shard->mutex);
    result.series_late += shard->series.late() + shard->series.lost();
  }
  result.series = std::move(m_series);
  result.count = result.latency.count();
  result.ok = result.status[0];
  result.warmup_calls = m_warmup_calls.load();
  result.duration = last_end - m_measure_start;
  result.cpu_ms = cpu_ms_now() - cpu_start;
  result.interrupted = m_stop_requested.load();
  return result;
}

}  // namespace grpcdx::load
