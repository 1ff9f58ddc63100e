// Unit tests for src/stream/stall_detector: a fake clock drives every decision, nothing sleeps.
#include <doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "stream/stall_detector.hpp"

using namespace grpcdx;
using namespace grpcdx::stream;
using namespace std::chrono_literals;

namespace {

struct FakeClock {
  Clock::time_point t{};
  NowFn fn() {
    return [this] { return t; };
  }
  void advance(Duration d) { t += std::chrono::duration_cast<Clock::duration>(d); }
};

}  // namespace

TEST_CASE("no progress for the timeout is a recv_idle stall, reported once") {
  FakeClock clock;
  StallDetector d(1s, clock.fn());
  clock.advance(999ms);
  CHECK_FALSE(d.check());
  clock.advance(1ms);
  auto stall = d.check();
  REQUIRE(stall);
  CHECK(stall->kind == StallKind::recv_idle);
  CHECK(stall->idle == 1s);
  CHECK(stall->sent == 0);
  CHECK(stall->received == 0);
  clock.advance(5s);
  CHECK_FALSE(d.check());  // the same stall is not reported twice
}

TEST_CASE("a received message is progress and starts a new watch") {
  FakeClock clock;
  StallDetector d(1s, clock.fn());
  clock.advance(900ms);
  d.received();
  clock.advance(900ms);
  CHECK_FALSE(d.check());  // 1.8s since the start, but only 0.9s since the message
  clock.advance(100ms);
  auto stall = d.check();
  REQUIRE(stall);
  CHECK(stall->received == 1);
  CHECK(stall->idle == 1s);
  d.received();  // progress after a stall: a later stall is reported again
  clock.advance(2s);
  auto again = d.check();
  REQUIRE(again);
  CHECK(again->received == 2);
  CHECK(again->idle == 2s);
}

TEST_CASE("a send pending for the timeout is send_blocked") {
  FakeClock clock;
  StallDetector d(500ms, clock.fn());
  d.send_started();
  clock.advance(10ms);
  d.send_finished(true);
  d.send_started();
  clock.advance(499ms);
  CHECK_FALSE(d.check());
  clock.advance(1ms);
  auto stall = d.check();
  REQUIRE(stall);
  CHECK(stall->kind == StallKind::send_blocked);
  CHECK(stall->sent == 1);
  CHECK(stall->idle == 500ms);
}

TEST_CASE("a send completing is progress; a failed one is not counted") {
  FakeClock clock;
  StallDetector d(1s, clock.fn());
  d.send_started();
  clock.advance(800ms);
  d.send_finished(true);
  clock.advance(800ms);
  CHECK_FALSE(d.check());
  d.send_started();
  d.send_finished(false);
  CHECK(d.sent() == 1);
  clock.advance(200ms);
  auto stall = d.check();
  REQUIRE(stall);
  CHECK(stall->kind == StallKind::recv_idle);  // nothing is pending any more
}

TEST_CASE("waiting for our own input is not the peer's stall") {
  FakeClock clock;
  StallDetector d(1s, clock.fn());
  d.input_wait_begin();
  clock.advance(10s);
  CHECK_FALSE(d.check());
  CHECK_FALSE(d.transport_check_due());
  d.input_wait_end();
  clock.advance(999ms);
  CHECK_FALSE(d.check());
  clock.advance(1ms);
  CHECK(d.check());
}

TEST_CASE("no stall is reported after the call ended") {
  FakeClock clock;
  StallDetector d(1s, clock.fn());
  d.ended();
  clock.advance(1h);
  CHECK_FALSE(d.check());
  CHECK_FALSE(d.transport_check_due());
}

TEST_CASE("the transport check is due once per quiet spell, at half the timeout") {
  FakeClock clock;
  StallDetector d(2s, clock.fn());
  clock.advance(999ms);
  CHECK_FALSE(d.transport_check_due());
  clock.advance(1ms);
  CHECK(d.transport_check_due());
  CHECK_FALSE(d.transport_check_due());
  clock.advance(5s);
  CHECK_FALSE(d.transport_check_due());
  d.received();
  clock.advance(1s);
  CHECK(d.transport_check_due());
}

TEST_CASE("the monitor tick is a twentieth of the timeout, between 1ms and 50ms") {
  CHECK(StallDetector(5s).tick() == 50ms);
  CHECK(StallDetector(200ms).tick() == 10ms);
  CHECK(StallDetector(5ms).tick() == 1ms);
}

TEST_CASE("stall kinds have their JSON names") {
  CHECK(stall_kind_name(StallKind::recv_idle) == "recv_idle");
  CHECK(stall_kind_name(StallKind::send_blocked) == "send_blocked");
}

TEST_CASE("progress from several threads while the monitor checks (run under TSan by scripts/test-tsan)") {
  // As in a call: gRPC threads report sends and receives, the monitor thread checks; a timeout
  // no test run reaches, so no stall may be reported.
  StallDetector d(1h);
  std::atomic<bool> done{false};
  std::thread monitor([&] {
    while (!done) {
      CHECK_FALSE(d.check());
      (void)d.transport_check_due();
    }
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < 3; ++t)
    workers.emplace_back([&d, t] {
      for (int i = 0; i < 2000; ++i) {
        if (t == 0) {
          d.send_started();
          d.send_finished(true);
        } else if (t == 1) {
          d.received();
        } else {
          d.input_wait_begin();
          d.input_wait_end();
        }
      }
    });
  for (auto& w : workers) w.join();
  d.ended();
  done = true;
  monitor.join();
  CHECK_FALSE(d.check());
}
