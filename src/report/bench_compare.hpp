// `bench --compare BASELINE.json`: the change of throughput, latency and error rate against an
// earlier `-o json` report, and whether it is a regression (a CI gate, exit 7).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace grpcdx::report {

struct BenchComparison {
  double baseline_rps = 0, current_rps = 0;
  double baseline_p50 = 0, current_p50 = 0;  // ms
  double baseline_p99 = 0, current_p99 = 0;  // ms
  double baseline_error_rate = 0, current_error_rate = 0;  // percent of calls not OK
  double rps_change_pct = 0, p50_change_pct = 0, p99_change_pct = 0;
  double error_rate_change = 0;  // percentage points
  double max_regression_pct = 10;
  bool regressed = false;  // rps fell, or p99 rose, by more than max_regression_pct
  std::string reason;      // what regressed, for the error line; empty when nothing did
};

// Reads a bench report written by `bench -o json`. Fails (local) when the file cannot be read,
// is not JSON, or lacks the keys of a bench report (count, ok, rps, latency_ms.p50/p99).
Result<nlohmann::ordered_json> read_bench_baseline(const std::string& path);

// Compares two bench reports (the JSON of bench_json). Pure.
BenchComparison compare_bench(const nlohmann::ordered_json& baseline, const nlohmann::ordered_json& current,
                              double max_regression_pct);

// {"rps_change_pct", "p50_change_pct", "p99_change_pct", "error_rate_change", "regressed"}.
nlohmann::ordered_json comparison_json(const BenchComparison& c);

// The text section: a line each for rps, p50, p99 and errors (before -> after, change) and the
// verdict. Ends with a newline.
std::string comparison_text(const BenchComparison& c, const std::string& baseline_name);

}  // namespace grpcdx::report
