// The log-linear histogram: bucket arithmetic, percentiles and merging.
#include "load/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace grpcdx::load {

size_t Histogram::bucket_of(uint64_t value) {
  if (value < k_linear) return static_cast<size_t>(value);
  const int msb = 63 - std::countl_zero(value);
  const int shift = msb - (k_sub_bucket_bits - 1);  // value >> shift is in [k_half, k_linear)
  return static_cast<size_t>(k_linear + static_cast<uint64_t>(shift - 1) * k_half + ((value >> shift) - k_half));
}

uint64_t Histogram::bucket_low(size_t index) {
  if (index < k_linear) return index;
  const uint64_t k = index - k_linear;
  const int shift = static_cast<int>(k / k_half) + 1;
  return (k % k_half + k_half) << shift;
}

uint64_t Histogram::bucket_high(size_t index) {
  if (index < k_linear) return index + 1;
  const uint64_t k = index - k_linear;
  const int shift = static_cast<int>(k / k_half) + 1;
  const uint64_t low = (k % k_half + k_half) << shift;
  const uint64_t width = uint64_t{1} << shift;
  return width > UINT64_MAX - low ? UINT64_MAX : low + width;
}

void Histogram::record(uint64_t value) {
  ++m_counts[bucket_of(value)];
  ++m_count;
  m_min = std::min(m_min, value);
  m_max = std::max(m_max, value);
  m_sum += static_cast<double>(value);
}

void Histogram::merge(const Histogram& other) {
  if (other.m_count == 0) return;
  for (size_t i = 0; i < k_buckets; ++i) m_counts[i] += other.m_counts[i];
  m_count += other.m_count;
  m_min = std::min(m_min, other.m_min);
  m_max = std::max(m_max, other.m_max);
  m_sum += other.m_sum;
}

void Histogram::reset() {
  m_counts.fill(0);
  m_count = 0;
  m_min = UINT64_MAX;
  m_max = 0;
  m_sum = 0;
}

uint64_t Histogram::percentile(double q) const {
  if (m_count == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // The rank is computed in integers where possible so that q = 0.99 of 100 samples is rank 99.
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(m_count) - 1e-9));
  rank = std::clamp<uint64_t>(rank, 1, m_count);
  uint64_t seen = 0;
  for (size_t i = 0; i < k_buckets; ++i) {
    seen += m_counts[i];
    if (seen >= rank) {
      const uint64_t low = bucket_low(i);
      const uint64_t mid = i < k_linear ? low : low + (bucket_high(i) - low) / 2;
      return std::clamp(mid, m_min, m_max);
    }
  }
  return m_max;
}

void Histogram::for_each_bucket(const std::function<void(uint64_t, uint64_t, uint64_t)>& fn) const {
  for (size_t i = 0; i < k_buckets; ++i)
    if (m_counts[i]) fn(bucket_low(i), bucket_high(i), m_counts[i]);
}

}  // namespace grpcdx::load
