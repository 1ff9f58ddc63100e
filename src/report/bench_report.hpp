// Rendering a bench run: SPEC's JSON object, or a text report a person reads at a glance
// (summary, latency table, a latency histogram drawn in the terminal, the status table), and the
// progress line drawn on stderr while it runs.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/duration.hpp"
#include "core/io.hpp"
#include "load/engine.hpp"
#include "report/output_format.hpp"

namespace grpcdx::report {

// What the report says besides the figures.
struct BenchContext {
  std::string method;      // "pkg.Service/Method"
  std::string target;
  load::CallKind kind = load::CallKind::unary;
  int concurrency = 0;
  int connections = 1;
  double rps = 0;          // 0: as fast as possible
};

// SPEC's JSON: count, ok, duration_ms, rps, latency_ms{min,mean,p50,p90,p99,p999,max}, status,
// then extra keys: latency_failed_ms (when calls failed), cpu_ms, cpu_us_per_call, warmup_calls,
// interrupted, and messages{...} for streaming methods.
nlohmann::ordered_json bench_json(const load::LoadResult& result, const BenchContext& context);

// The min..max figures of a histogram of nanoseconds, in milliseconds rounded to microseconds.
nlohmann::ordered_json latency_json(const load::Histogram& histogram);

// Prints the result as one JSON line or as the text report (colour when io.out_is_tty).
void print_bench(Io& io, OutputFormat format, const load::LoadResult& result, const BenchContext& context);

// The lines of the text latency histogram: about `rows` ranges between min and max (log-spaced
// when max/min is large), each with a bar of up to `width` characters and its count.
std::string latency_histogram_text(const load::Histogram& histogram, int rows, int width);

// One progress line (no newline): a bar and the figures so far. `total` > 0 for -n runs;
// otherwise `planned` is the -z duration.
std::string progress_line(uint64_t done, uint64_t total, Duration elapsed, Duration planned, int width);

}  // namespace grpcdx::report
