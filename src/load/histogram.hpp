// A compact log-linear latency histogram (HdrHistogram-style buckets): fixed memory, exact
// count/min/max/mean, percentiles within 1/256 (0.4 %) of the true value, mergeable across threads.
#pragma once

#include <array>
#include <cstdint>
#include <functional>

namespace grpcdx::load {

// Records non-negative integer values (the engine records nanoseconds). Values below 256 are
// kept exactly; above, each power of two is cut into 128 equal buckets, so a bucket is never
// wider than 1/128 of its lower bound and the bucket midpoint a percentile reports is within
// 1/256 of any value in it. Percentiles are also clamped to the exact min and max.
// Not thread-safe: give each thread its own and merge() them.
class Histogram {
 public:
  static constexpr int k_sub_bucket_bits = 8;
  static constexpr uint64_t k_linear = uint64_t{1} << k_sub_bucket_bits;  // 256 exact values
  static constexpr uint64_t k_half = k_linear / 2;                          // buckets per octave
  static constexpr size_t k_buckets = k_linear + (64 - k_sub_bucket_bits) * k_half;

  // Adds one value.
  void record(uint64_t value);
  // Adds every value of `other`.
  void merge(const Histogram& other);
  // Forgets every value.
  void reset();

  uint64_t count() const { return m_count; }
  // 0 when empty.
  uint64_t min() const { return m_count ? m_min : 0; }
  uint64_t max() const { return m_max; }
  double mean() const { return m_count ? m_sum / static_cast<double>(m_count) : 0.0; }

  // The value at quantile q in [0, 1] by nearest rank (the ceil(q * count)-th smallest value,
  // at least the first), as its bucket's midpoint clamped to [min, max]. 0 when empty.
  uint64_t percentile(double q) const;

  // Calls fn(low, high, count) for every non-empty bucket in increasing order; the bucket holds
  // values in [low, high).
  void for_each_bucket(const std::function<void(uint64_t low, uint64_t high, uint64_t count)>& fn) const;

  // The bucket of a value and the [low, high) range of a bucket (exposed for tests).
  static size_t bucket_of(uint64_t value);
  static uint64_t bucket_low(size_t index);
  static uint64_t bucket_high(size_t index);

 private:
  std::array<uint64_t, k_buckets> m_counts{};
  uint64_t m_count = 0;
  uint64_t m_min = UINT64_MAX;
  uint64_t m_max = 0;
  double m_sum = 0;
};

}  // namespace grpcdx::load
