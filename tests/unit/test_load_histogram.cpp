// Unit tests for load::Histogram: bucket arithmetic, exact percentiles of known samples within
// the documented precision (1/256 of the value), merging and memory that does not grow.
#include <doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "load/histogram.hpp"

using grpcdx::load::Histogram;

namespace {

// The nearest-rank percentile of sorted samples: the ceil(q * n)-th smallest.
uint64_t exact_percentile(const std::vector<uint64_t>& sorted, double q) {
  auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size()) - 1e-9));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

void check_against_exact(std::vector<uint64_t> samples) {
  Histogram h;
  for (auto v : samples) h.record(v);
  std::sort(samples.begin(), samples.end());
  CHECK(h.count() == samples.size());
  CHECK(h.min() == samples.front());
  CHECK(h.max() == samples.back());
  double sum = 0;
  for (auto v : samples) sum += static_cast<double>(v);
  CHECK(h.mean() == doctest::Approx(sum / static_cast<double>(samples.size())).epsilon(1e-9));
  for (double q : {0.0, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    const uint64_t exact = exact_percentile(samples, q);
    const uint64_t got = h.percentile(q);
    INFO("q=" << q << " exact=" << exact << " got=" << got);
    CHECK(static_cast<double>(got > exact ? got - exact : exact - got) <= static_cast<double>(exact) / 256.0 + 0.5);
  }
}

}  // namespace

TEST_CASE("load::Histogram buckets") {
  // Values below 256 have a bucket each.
  for (uint64_t v = 0; v < 256; ++v) {
    CHECK(Histogram::bucket_of(v) == v);
    CHECK(Histogram::bucket_low(v) == v);
  }
  // Above, every value lies in [low, high) of its bucket and a bucket is at most 1/128 of low wide.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t v = rng() >> (rng() % 64);
    const size_t b = Histogram::bucket_of(v);
    REQUIRE(b < Histogram::k_buckets);
    CHECK(Histogram::bucket_low(b) <= v);
    if (Histogram::bucket_high(b) != UINT64_MAX) CHECK(v < Histogram::bucket_high(b));
    if (v >= 256) CHECK((Histogram::bucket_high(b) - Histogram::bucket_low(b)) * 128 <= Histogram::bucket_low(b));
  }
  CHECK(Histogram::bucket_of(UINT64_MAX) == Histogram::k_buckets - 1);
  CHECK(Histogram::bucket_of(256) == 256);
  CHECK(Histogram::bucket_of(511) == 383);
  CHECK(Histogram::bucket_of(512) == 384);
  // Consecutive buckets tile the line without gaps.
  for (size_t b = 0; b + 1 < Histogram::k_buckets; ++b) CHECK(Histogram::bucket_high(b) == Histogram::bucket_low(b + 1));
}

TEST_CASE("load::Histogram percentiles of known samples") {
  SUBCASE("1..100: small values are exact") {
    std::vector<uint64_t> s;
    for (uint64_t v = 1; v <= 100; ++v) s.push_back(v);
    Histogram h;
    for (auto v : s) h.record(v);
    CHECK(h.percentile(0.5) == 50);
    CHECK(h.percentile(0.9) == 90);
    CHECK(h.percentile(0.99) == 99);
    CHECK(h.percentile(0.999) == 100);
    CHECK(h.percentile(0.0) == 1);
    CHECK(h.mean() == doctest::Approx(50.5));
  }
  SUBCASE("latencies in nanoseconds, uniform 50us..5ms") {
    std::mt19937_64 rng(1);
    std::uniform_int_distribution<uint64_t> d(50'000, 5'000'000);
    std::vector<uint64_t> s;
    for (int i = 0; i < 20000; ++i) s.push_back(d(rng));
    check_against_exact(s);
  }
  SUBCASE("long tail: log-normal around 1ms with rare 2s outliers") {
    std::mt19937_64 rng(2);
    std::lognormal_distribution<double> d(std::log(1e6), 0.8);
    std::vector<uint64_t> s;
    for (int i = 0; i < 50000; ++i) s.push_back(static_cast<uint64_t>(d(rng)));
    for (int i = 0; i < 60; ++i) s.push_back(2'000'000'000);
    check_against_exact(s);
  }
  SUBCASE("a single value") {
    check_against_exact({123'456'789});
    Histogram h;
    h.record(123'456'789);
    CHECK(h.percentile(0.5) == 123'456'789);  // clamped to the exact min and max
  }
}

TEST_CASE("load::Histogram empty, merge and reset") {
  Histogram empty;
  CHECK(empty.count() == 0);
  CHECK(empty.min() == 0);
  CHECK(empty.max() == 0);
  CHECK(empty.mean() == 0);
  CHECK(empty.percentile(0.99) == 0);

  Histogram a, b, all;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 10000; ++i) {
    const uint64_t v = rng() % 10'000'000;
    (i % 3 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  a.merge(empty);
  CHECK(a.count() == all.count());
  CHECK(a.min() == all.min());
  CHECK(a.max() == all.max());
  CHECK(a.mean() == doctest::Approx(all.mean()));
  for (double q : {0.5, 0.9, 0.99, 0.999}) CHECK(a.percentile(q) == all.percentile(q));
  uint64_t counted = 0;
  a.for_each_bucket([&](uint64_t low, uint64_t high, uint64_t n) {
    CHECK(low < high);
    counted += n;
  });
  CHECK(counted == a.count());
  a.reset();
  CHECK(a.count() == 0);
  CHECK(a.percentile(0.5) == 0);
  // Fixed memory: the size of the object is the whole of it, whatever is recorded.
  CHECK(sizeof(Histogram) < 64 * 1024);
}
