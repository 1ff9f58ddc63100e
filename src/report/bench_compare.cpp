// Comparing a bench run with a baseline report.
#include "report/bench_compare.hpp"

#include <cmath>

#include <fmt/format.h>

#include "net/channel.hpp"

namespace grpcdx::report {

namespace {

double change_pct(double before, double after) {
  if (before == 0) return after == 0 ? 0.0 : 100.0;
  return (after - before) / before * 100.0;
}

double round2(double v) { return std::round(v * 100) / 100; }

double error_rate(const nlohmann::ordered_json& report) {
  const double count = report["count"].get<double>();
  return count > 0 ? (count - report["ok"].get<double>()) / count * 100.0 : 0.0;
}

}  // namespace

Result<nlohmann::ordered_json> read_bench_baseline(const std::string& path) {
  TRY(auto text, net::read_file(path, "--compare file"));
  auto report = nlohmann::ordered_json::parse(text, nullptr, false);
  auto is_number = [&](const nlohmann::ordered_json& j, const char* key) {
    return j.is_object() && j.contains(key) && j[key].is_number();
  };
  if (report.is_discarded() || !is_number(report, "count") || !is_number(report, "ok") || !is_number(report, "rps") ||
      !report.contains("latency_ms") || !is_number(report["latency_ms"], "p50") || !is_number(report["latency_ms"], "p99"))
    return local_error(fmt::format("--compare '{}' is not a bench report", path),
                       "write one with `grpcdx bench ... -o json > baseline.json`");
  return report;
}

BenchComparison compare_bench(const nlohmann::ordered_json& baseline, const nlohmann::ordered_json& current,
                              double max_regression_pct) {
  BenchComparison c;
  c.max_regression_pct = max_regression_pct;
  c.baseline_rps = baseline["rps"].get<double>();
  c.current_rps = current["rps"].get<double>();
  c.baseline_p50 = baseline["latency_ms"]["p50"].get<double>();
  c.current_p50 = current["latency_ms"]["p50"].get<double>();
  c.baseline_p99 = baseline["latency_ms"]["p99"].get<double>();
  c.current_p99 = current["latency_ms"]["p99"].get<double>();
  c.baseline_error_rate = error_rate(baseline);
  c.current_error_rate = error_rate(current);
  c.rps_change_pct = round2(change_pct(c.baseline_rps, c.current_rps));
  c.p50_change_pct = round2(change_pct(c.baseline_p50, c.current_p50));
  c.p99_change_pct = round2(change_pct(c.baseline_p99, c.current_p99));
  c.error_rate_change = round2(c.current_error_rate - c.baseline_error_rate);
  if (-c.rps_change_pct > max_regression_pct)
    c.reason = fmt::format("throughput fell {:.1f}% ({:.1f} -> {:.1f} calls/s)", -c.rps_change_pct, c.baseline_rps,
                           c.current_rps);
  if (c.p99_change_pct > max_regression_pct)
    c.reason += fmt::format("{}p99 latency rose {:.1f}% ({:.3f} -> {:.3f} ms)", c.reason.empty() ? "" : "; ",
                            c.p99_change_pct, c.baseline_p99, c.current_p99);
  c.regressed = !c.reason.empty();
  return c;
}

nlohmann::ordered_json comparison_json(const BenchComparison& c) {
  return {{"rps_change_pct", c.rps_change_pct},
          {"p50_change_pct", c.p50_change_pct},
          {"p99_change_pct", c.p99_change_pct},
          {"error_rate_change", c.error_rate_change},
          {"regressed", c.regressed}};
}

std::string comparison_text(const BenchComparison& c, const std::string& baseline_name) {
  std::string out = fmt::format("Compared with {}\n", baseline_name);
  out += fmt::format("  rps       {:>10.1f} -> {:<10.1f} {:+.1f}%\n", c.baseline_rps, c.current_rps, c.rps_change_pct);
  out += fmt::format("  p50       {:>10.3f} -> {:<10.3f} {:+.1f}%  (ms)\n", c.baseline_p50, c.current_p50, c.p50_change_pct);
  out += fmt::format("  p99       {:>10.3f} -> {:<10.3f} {:+.1f}%  (ms)\n", c.baseline_p99, c.current_p99, c.p99_change_pct);
  out += fmt::format("  errors    {:>10} -> {:<10} {:+.2f} points\n", fmt::format("{:.2f}%", c.baseline_error_rate),
                     fmt::format("{:.2f}%", c.current_error_rate), c.error_rate_change);
  out += c.regressed ? fmt::format("  regression: {} (limit {}%)\n", c.reason, c.max_regression_pct)
                     : fmt::format("  no regression (limit {}% for rps and p99)\n", c.max_regression_pct);
  return out;
}

}  // namespace grpcdx::report
