// The pure parts of the --tcp faults: how a connection's faults combine per direction, the
// latency clock, the bandwidth token bucket and the slice pacing. Time is passed in, so unit
// tests need no sockets and no sleeps; tcp_proxy.cpp does the I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "chaos/decide.hpp"
#include "core/duration.hpp"

namespace grpcdx::chaos {

using TcpClock = std::chrono::steady_clock;
using TcpTime = TcpClock::time_point;

// What one direction of a connection suffers.
struct FlowFaults {
  Duration latency{0};          // every chunk is held this long (latencies of several faults add up)
  Duration jitter{0};           // ... plus or minus up to this much, drawn per chunk
  uint64_t jitter_seed = 0;
  uint64_t rate = 0;            // bytes per second; 0: unlimited (the lowest of several wins)
  uint64_t slice_bytes = 0;     // at most this many bytes a write; 0: no slicing (the smallest wins)
  Duration slice_delay{0};      // pause after each slice (that of the smallest slice)
  bool blackhole = false;       // read and thrown away; nothing (not even the end) is passed on
  Duration slow_close{0};       // the end of this direction is passed on this much later

  // True when bytes must go through the queue (held, paced or cut): latency, rate or slice.
  bool shapes() const { return latency.count() > 0 || jitter.count() > 0 || rate > 0 || slice_bytes > 0; }
};

// A reset fault: RST both sides once `after` bytes were forwarded in the directions it counts
// (clean: a close,after=BYTES, which ends both sides with a FIN instead).
struct ResetFault {
  uint64_t after = 0;
  bool counts_up = true;
  bool counts_down = true;
  bool clean = false;
};

// Everything done to one connection.
struct ConnectionFaults {
  FlowFaults up;    // client -> upstream
  FlowFaults down;  // upstream -> client
  std::vector<ResetFault> resets;
  std::optional<Duration> close_after;      // the earliest close,after=DUR
  std::optional<Duration> reset_after;      // the earliest reset,after=DUR
  std::optional<Duration> blackhole_after;  // the earliest blackhole,after=DUR: then silent both ways

  // A reset with after=0 (bytes, no duration): the client is reset as soon as it is accepted.
  bool reset_at_accept() const;
  // Once a byte limit is reached (bytes_before_reset gave 0): true when every limit reached is a
  // clean close, false when one is a reset (a reset wins).
  bool limit_is_clean(uint64_t forwarded_up, uint64_t forwarded_down) const;
  // Both directions black-holed: the upstream is never connected.
  bool blackhole_both() const { return up.blackhole && down.blackhole; }
  // How many more bytes may be forwarded in one direction before a reset triggers (UINT64_MAX
  // when no reset counts that direction), given what was forwarded so far each way.
  uint64_t bytes_before_reset(bool up_direction, uint64_t forwarded_up, uint64_t forwarded_down) const;
};

// Combines the accepted faults of a connection (Injector::plan_connection) per direction:
// latencies add up, the lowest bandwidth and the smallest slice of a direction win, a blackhole
// swallows its direction, every reset counts on its own (the first to trigger ends the
// connection), the earliest close, timed reset and timed black hole win, and the longest
// slow_close of a direction.
ConnectionFaults combine_tcp_faults(const std::vector<FaultAction>& actions);

// When each chunk of a delayed direction may go on: arrival + latency +- jitter, never before
// the chunk ahead of it, so bytes stay in order and throughput is not cut to a chunk per delay.
class LatencyClock {
 public:
  LatencyClock(Duration latency, Duration jitter, uint64_t seed);
  TcpTime release_time(TcpTime arrival);

 private:
  Duration m_latency;
  Duration m_jitter;
  std::mt19937_64 m_engine;
  TcpTime m_last{};
};

// A token bucket of `rate` bytes/s holding at most a burst of 20 ms worth (at least 1 byte, at
// most 1 MiB), full at the start.
class TokenBucket {
 public:
  TokenBucket(uint64_t rate, TcpTime now);
  // Bytes that may be written now.
  uint64_t available(TcpTime now);
  void consume(uint64_t bytes);
  // When `wanted` bytes (capped at the burst) will be available; always after `now`.
  TcpTime ready_at(uint64_t wanted, TcpTime now) const;
  uint64_t burst() const { return m_burst; }

 private:
  void refill(TcpTime now);
  double m_rate;
  uint64_t m_burst;
  double m_tokens;
  TcpTime m_last;
};

}  // namespace grpcdx::chaos
