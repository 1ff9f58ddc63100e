// Unit tests for src/chaos/tcp_faults: how a connection's --tcp faults combine per direction, the
// latency clock (order kept, jitter bounded and seeded) and the token bucket (rate and burst).
#include <doctest.h>

#include "chaos/tcp_faults.hpp"

using namespace grpcdx;
using namespace grpcdx::chaos;
using namespace std::chrono_literals;

namespace {

FaultAction action(const char* text) {
  auto spec = parse_fault_spec(text, ProxyMode::tcp);
  REQUIRE(spec);
  SeededRandom rng(1);
  auto d = decide(*spec, CallInfo{}, rng);
  REQUIRE(d.action);
  return *d.action;
}

}  // namespace

TEST_CASE("combine_tcp_faults: per direction") {
  auto c = combine_tcp_faults({action("latency=10ms,dir=both"), action("latency=5ms,dir=up"), action("bandwidth=1MB/s,dir=both"),
                               action("bandwidth=100KB/s,dir=down"), action("slice=100,delay=1ms,dir=up"),
                               action("slice=500,dir=up"), action("blackhole,dir=down")});
  CHECK(c.up.latency == 15ms);
  CHECK(c.down.latency == 10ms);
  CHECK(c.up.rate == 1000000);
  CHECK(c.down.rate == 100000);  // the lowest wins
  CHECK(c.up.slice_bytes == 100);  // the smallest wins, with its delay
  CHECK(c.up.slice_delay == 1ms);
  CHECK(c.down.slice_bytes == 0);
  CHECK(!c.up.blackhole);
  CHECK(c.down.blackhole);
  CHECK(!c.blackhole_both());
  CHECK(c.up.shapes());
  CHECK(!FlowFaults{}.shapes());
  CHECK(combine_tcp_faults({action("blackhole")}).blackhole_both());
  CHECK(!combine_tcp_faults({}).reset_at_accept());
  CHECK(!combine_tcp_faults({}).close_after);
}

TEST_CASE("combine_tcp_faults: resets and closes") {
  auto c = combine_tcp_faults({action("reset,after=100,dir=up"), action("reset,after=1000"), action("close,after=2s"),
                               action("close,after=500ms")});
  CHECK(!c.reset_at_accept());
  REQUIRE(c.close_after);
  CHECK(*c.close_after == 500ms);  // the earliest wins
  // Up counts toward both resets: 100 up bytes trigger the first.
  CHECK(c.bytes_before_reset(true, 0, 0) == 100);
  CHECK(c.bytes_before_reset(true, 60, 0) == 40);
  // Down counts only toward the second, which counts both directions.
  CHECK(c.bytes_before_reset(false, 60, 900) == 40);
  CHECK(c.bytes_before_reset(false, 60, 2000) == 0);
  auto none = combine_tcp_faults({action("latency=1ms")});
  CHECK(none.bytes_before_reset(true, 5, 5) == UINT64_MAX);
  CHECK(combine_tcp_faults({action("reset")}).reset_at_accept());
  CHECK(*combine_tcp_faults({action("close")}).close_after == 0ms);
}

TEST_CASE("combine_tcp_faults: after= as a duration or bytes, slow_close, blackhole,after=") {
  auto c = combine_tcp_faults({action("reset,after=300ms"), action("reset,after=1s"), action("close,after=4KB"),
                               action("blackhole,after=2s"), action("blackhole,after=1s"),
                               action("slow_close=100ms,dir=up"), action("slow_close=50ms")});
  CHECK(!c.reset_at_accept());
  CHECK(*c.reset_after == 300ms);  // the earliest wins
  CHECK(!c.close_after);
  CHECK(*c.blackhole_after == 1s);
  CHECK(!c.up.blackhole);  // not from the start: the connection forwards until then
  CHECK(!c.blackhole_both());
  CHECK(c.up.slow_close == 100ms);  // the longest of a direction
  CHECK(c.down.slow_close == 50ms);
  // close,after=BYTES counts both directions and ends with a FIN: a clean limit.
  CHECK(c.bytes_before_reset(true, 1000, 2000) == 1000);
  CHECK(c.bytes_before_reset(false, 1000, 3000) == 0);
  CHECK(c.limit_is_clean(1000, 3000));
  auto both = combine_tcp_faults({action("close,after=10"), action("reset,after=10")});
  CHECK(!both.limit_is_clean(5, 5));  // a reset reached too: it wins
  CHECK(!both.limit_is_clean(1, 1));  // nothing reached yet
  CHECK(combine_tcp_faults({action("reset,after=0ms")}).reset_after->count() == 0);
}

TEST_CASE("LatencyClock: every chunk is held the latency, in order") {
  LatencyClock clock(50ms, 0ms, 1);
  TcpTime t0{};
  CHECK(clock.release_time(t0) == t0 + 50ms);
  CHECK(clock.release_time(t0 + 1ms) == t0 + 51ms);
  CHECK(clock.release_time(t0 + 100ms) == t0 + 150ms);
}

TEST_CASE("LatencyClock: jitter stays within bounds, never reorders, and repeats with its seed") {
  LatencyClock a(20ms, 10ms, 42), b(20ms, 10ms, 42), other(20ms, 10ms, 43);
  TcpTime t0{};
  TcpTime last{};
  bool differs = false, below = false, above = false;
  for (int i = 0; i < 1000; ++i) {
    // Chunks 1 ms apart, then 50 ms apart (more than the jitter's range, so draws show).
    TcpTime arrival = t0 + (i < 500 ? i * 1ms : 500ms + (i - 500) * 50ms);
    TcpTime r = a.release_time(arrival);
    CHECK(r == b.release_time(arrival));
    differs = differs || r != other.release_time(arrival);
    CHECK(r >= last);
    CHECK(r >= arrival + 10ms);
    CHECK(r <= std::max(last, arrival + 30ms));
    below = below || r < arrival + 15ms;
    above = above || r > arrival + 25ms;
    last = r;
  }
  CHECK(differs);
  CHECK(below);
  CHECK(above);
}

TEST_CASE("TokenBucket: a burst of 20 ms worth, then the rate") {
  TcpTime t0{};
  TokenBucket bucket(100000, t0);  // 100 KB/s: 2000-byte burst
  CHECK(bucket.burst() == 2000);
  CHECK(bucket.available(t0) == 2000);
  bucket.consume(2000);
  CHECK(bucket.available(t0) == 0);
  CHECK(bucket.ready_at(1000, t0) == t0 + 10ms);
  CHECK(bucket.available(t0 + 10ms) == 1000);
  CHECK(bucket.available(t0 + 1s) == 2000);  // never more than the burst
  bucket.consume(2000);
  // Over a simulated second of writes as fast as allowed, about the rate goes out.
  TcpTime now = t0 + 1s;
  uint64_t sent = 0;
  for (int i = 0; i < 100000 && now < t0 + 2s; ++i) {
    uint64_t n = bucket.available(now);
    if (n == 0) {
      now = bucket.ready_at(1400, now);
      continue;
    }
    n = std::min<uint64_t>(n, 1400);
    bucket.consume(n);
    sent += n;
  }
  CHECK(sent >= 99000);
  CHECK(sent <= 101400);
  CHECK(TokenBucket(10, t0).burst() == 1);
  CHECK(TokenBucket(1'000'000'000, t0).burst() == 1024 * 1024);
  CHECK(bucket.ready_at(1, now) > now);
}
