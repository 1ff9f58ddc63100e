// Rendering a bench run: SPEC's JSON object, or a text report a person reads at a glance
// (summary, latency table, a latency histogram drawn in the terminal, the status table), and the
// progress line drawn on stderr while it runs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/duration.hpp"
#include "core/io.hpp"
#include "load/engine.hpp"
#include "report/bench_compare.hpp"
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
  std::optional<BenchComparison> comparison;  // --compare: the change against the baseline
  std::string baseline_name;                  // the baseline's file name, for the text
  std::string rate_shape;         // a --load-schedule as words ("step from 50 to 150 by 10 every 5s"), or ""
  std::string concurrency_shape;  // a --concurrency-schedule as words, or ""
};

// SPEC's JSON: count, ok, duration_ms, rps, latency_ms{min,mean,p50,p90,p99,p999,max}, status,
// then extra keys: latency_failed_ms (when calls failed), cpu_ms, cpu_us_per_call, warmup_calls,
// interrupted, messages{...} for streaming methods, backends{address: calls} when they were
// tracked, series[{t_s, calls, rps, errors, p50, p99}] (one point a second), and compare{...} with
// a comparison.
nlohmann::ordered_json bench_json(const load::LoadResult& result, const BenchContext& context);

// The min..max figures of a histogram of nanoseconds, in milliseconds rounded to microseconds.
nlohmann::ordered_json latency_json(const load::Histogram& histogram);

// Prints the result as one JSON line or as the text report (colour when io.color_out; the
// histogram as wide as io.out_columns allows).
void print_bench(Io& io, OutputFormat format, const load::LoadResult& result, const BenchContext& context);

// "0.123 ms", "12.3 ms", "1.23 s": three significant figures, as people read latencies.
std::string human_ms(double value_ms);

// One range of a latency histogram drawn for people: values in [low_ns, high_ns) (the last row
// includes max), with their count.
struct HistogramRow {
  double low_ns = 0;
  double high_ns = 0;
  uint64_t count = 0;
  bool log_spaced = false;  // the rows are log-spaced (max/min > 20), else linear
};

// About `rows` ranges between the histogram's min and max (log-spaced when max/min is large);
// one row when every value is the same; none when it is empty.
std::vector<HistogramRow> latency_rows(const load::Histogram& histogram, int rows);

// The lines of the text latency histogram: about `rows` ranges between min and max (log-spaced
// when max/min is large), each with a bar of up to `width` characters and its count.
std::string latency_histogram_text(const load::Histogram& histogram, int rows, int width);

// The series as SPEC's JSON: t_s is the end of each second (1 for the first); rps is its calls
// over its length (the last point runs to `duration`, the end of the last call); p50 and p99 in
// milliseconds.
nlohmann::ordered_json series_json(const std::vector<load::SeriesPoint>& series, Duration duration);

// One progress line (no newline) that fits in `columns`: a bar and the figures so far, and the
// rate and p99 of the last closed second when there is one (else the average rate). `total` > 0
// for -n runs; otherwise `planned` is the -z duration. On a narrow terminal the p99 goes first,
// then the bar.
std::string progress_line(uint64_t done, uint64_t total, Duration elapsed, Duration planned,
                          const load::SeriesPoint* last_second, int columns);

// A few lines on how the run went second by second (for the text report): the spread of the
// per-second rate, the worst second's p99, the seconds with errors. Empty with fewer than 3 seconds.
std::string series_summary_text(const std::vector<load::SeriesPoint>& series, Duration duration);

}  // namespace grpcdx::report
