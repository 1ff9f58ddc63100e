// The bench summary as Prometheus text exposition.
#include "report/bench_prometheus.hpp"

#include <array>

#include <fmt/format.h>

#include "rpc/status_codes.hpp"

namespace grpcdx::report {

namespace {

// A label value with \, " and newline escaped, as the exposition format wants.
std::string label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

constexpr std::array<double, 16> k_bounds_s = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                               0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10};

}  // namespace

std::string bench_prometheus(const load::LoadResult& r, const BenchContext& c) {
  const std::string m = fmt::format("method=\"{}\"", label(c.method));
  std::string out;
  out += "# HELP grpcdx_bench_calls_total Calls made by grpcdx bench, by final status.\n";
  out += "# TYPE grpcdx_bench_calls_total counter\n";
  for (int code = 0; code < load::k_status_codes; ++code)
    if (r.status[static_cast<size_t>(code)] || code == 0)
      out += fmt::format("grpcdx_bench_calls_total{{{},status=\"{}\"}} {}\n", m, rpc::status_name(code),
                         r.status[static_cast<size_t>(code)]);
  out += "# HELP grpcdx_bench_latency_seconds Latency of each call (from its due time with --rps).\n";
  out += "# TYPE grpcdx_bench_latency_seconds histogram\n";
  std::array<uint64_t, k_bounds_s.size()> below{};
  r.latency.for_each_bucket([&](uint64_t low, uint64_t, uint64_t count) {
    const double seconds = static_cast<double>(low) / 1e9;
    for (size_t i = 0; i < k_bounds_s.size(); ++i)
      if (seconds <= k_bounds_s[i]) below[i] += count;
  });
  for (size_t i = 0; i < k_bounds_s.size(); ++i)
    out += fmt::format("grpcdx_bench_latency_seconds_bucket{{{},le=\"{}\"}} {}\n", m, k_bounds_s[i], below[i]);
  out += fmt::format("grpcdx_bench_latency_seconds_bucket{{{},le=\"+Inf\"}} {}\n", m, r.latency.count());
  out += fmt::format("grpcdx_bench_latency_seconds_sum{{{}}} {:.9f}\n", m,
                     r.latency.mean() * static_cast<double>(r.latency.count()) / 1e9);
  out += fmt::format("grpcdx_bench_latency_seconds_count{{{}}} {}\n", m, r.latency.count());
  out += "# HELP grpcdx_bench_duration_seconds Duration of the measured part of the run.\n";
  out += "# TYPE grpcdx_bench_duration_seconds gauge\n";
  out += fmt::format("grpcdx_bench_duration_seconds{{{}}} {:.6f}\n", m, std::chrono::duration<double>(r.duration).count());
  out += "# HELP grpcdx_bench_rps Calls per second over the measured part of the run.\n";
  out += "# TYPE grpcdx_bench_rps gauge\n";
  out += fmt::format("grpcdx_bench_rps{{{}}} {:.1f}\n", m, r.rps());
  return out;
}

}  // namespace grpcdx::report
