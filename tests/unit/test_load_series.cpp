// The per-second recorder, with the times given: which second a call lands in, closing seconds,
// stragglers, and a closer that falls behind.
#include <doctest.h>

#include "load/series.hpp"

using namespace grpcdx;
using namespace grpcdx::load;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

SeriesPoint take_point(SecondRing& ring, int64_t second) {
  Histogram latency;
  uint64_t errors = 0;
  ring.take(second, latency, errors);
  return close_second(second, latency, errors);
}

}  // namespace

TEST_CASE("load::SecondRing: calls land in the second they ended in") {
  SecondRing ring;
  for (int i = 0; i < 100; ++i) ring.record(milliseconds(10 * i), 1'000'000 + static_cast<uint64_t>(i) * 1000, false);
  ring.record(milliseconds(999), 5'000'000, true);
  ring.record(milliseconds(1000), 2'000'000, false);
  ring.record(milliseconds(2500), 3'000'000, true);

  const SeriesPoint first = take_point(ring, 0);
  CHECK(first.second == 0);
  CHECK(first.calls == 101);
  CHECK(first.errors == 1);
  CHECK(first.p50_ns == doctest::Approx(1'050'000).epsilon(0.005));
  CHECK(first.p99_ns == doctest::Approx(1'099'000).epsilon(0.005));
  const SeriesPoint second = take_point(ring, 1);
  CHECK(second.calls == 1);
  CHECK(second.errors == 0);
  CHECK(second.p99_ns == doctest::Approx(2'000'000).epsilon(0.005));
  const SeriesPoint third = take_point(ring, 2);
  CHECK(third.calls == 1);
  CHECK(third.errors == 1);
  // A second with no calls closes empty.
  const SeriesPoint empty = take_point(ring, 3);
  CHECK(empty.calls == 0);
  CHECK(empty.p50_ns == 0);
  CHECK(ring.late() == 0);
  CHECK(ring.lost() == 0);
}

TEST_CASE("load::SecondRing: a call recorded after its second closed is late, not counted twice") {
  SecondRing ring;
  ring.record(milliseconds(500), 1000, false);
  CHECK(take_point(ring, 0).calls == 1);
  ring.record(milliseconds(900), 1000, false);  // second 0 is closed
  CHECK(ring.late() == 1);
  ring.record(milliseconds(1100), 1000, false);
  CHECK(take_point(ring, 1).calls == 1);
}

TEST_CASE("load::SecondRing: memory is a fixed ring; a closer that falls behind loses seconds, not totals") {
  SecondRing ring;
  // Seconds 0..3 fill the ring; second 4 needs second 0's slot before anyone closed it.
  for (int s = 0; s < SecondRing::k_open; ++s) ring.record(seconds(s), 1000, false);
  ring.record(seconds(4), 1000, false);
  CHECK(ring.lost() == 1);
  // A straggler for second 0 (not closed yet) finds the later second 4 in its slot: it is lost
  // rather than evicting second 4.
  ring.record(milliseconds(500), 1000, false);
  CHECK(ring.lost() == 2);
  CHECK(take_point(ring, 0).calls == 0);
  CHECK(take_point(ring, 1).calls == 1);
  ring.record(milliseconds(4999), 1000, false);
  CHECK(take_point(ring, 4).calls == 2);
  CHECK(take_point(ring, 2).calls == 1);
  CHECK(take_point(ring, 3).calls == 1);
}

TEST_CASE("load::closable_before: a second closes a grace period after it ends") {
  CHECK(closable_before(Duration::zero()) == 0);
  CHECK(closable_before(milliseconds(1999)) == 0);
  CHECK(closable_before(seconds(2)) == 1);
  CHECK(closable_before(milliseconds(12'500)) == 11);
  CHECK(second_of(milliseconds(999)) == 0);
  CHECK(second_of(seconds(600)) == 600);
}
