// The bench report as JSON and as text, and the progress line.
#include "report/bench_report.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "core/printable.hpp"
#include "report/json_line.hpp"
#include "rpc/status_codes.hpp"

namespace grpcdx::report {

namespace {

double ms(uint64_t nanos) { return std::round(static_cast<double>(nanos) / 1e3) / 1e3; }
double ms(double nanos) { return std::round(nanos / 1e3) / 1e3; }
double round3(double v) { return std::round(v * 1000) / 1000; }

}  // namespace

std::string human_ms(double value_ms) {
  if (value_ms >= 1000) return fmt::format("{:.2f} s", value_ms / 1000);
  if (value_ms >= 100) return fmt::format("{:.0f} ms", value_ms);
  if (value_ms >= 10) return fmt::format("{:.1f} ms", value_ms);
  if (value_ms >= 1) return fmt::format("{:.2f} ms", value_ms);
  return fmt::format("{:.3f} ms", value_ms);
}

nlohmann::ordered_json latency_json(const load::Histogram& h) {
  return {{"min", ms(h.min())},
          {"mean", ms(h.mean())},
          {"p50", ms(h.percentile(0.50))},
          {"p90", ms(h.percentile(0.90))},
          {"p99", ms(h.percentile(0.99))},
          {"p999", ms(h.percentile(0.999))},
          {"max", ms(h.max())}};
}

nlohmann::ordered_json bench_json(const load::LoadResult& r, const BenchContext& context) {
  nlohmann::ordered_json status = nlohmann::ordered_json::object();
  for (int code = 0; code < load::k_status_codes; ++code)
    if (r.status[static_cast<size_t>(code)]) status[rpc::status_name(code)] = r.status[static_cast<size_t>(code)];
  nlohmann::ordered_json out = {{"count", r.count},
                                {"ok", r.ok},
                                {"duration_ms", round3(to_ms(r.duration))},
                                {"rps", std::round(r.rps() * 10) / 10},
                                {"latency_ms", latency_json(r.latency)},
                                {"status", status}};
  if (r.failed_latency.count()) out["latency_failed_ms"] = latency_json(r.failed_latency);
  out["cpu_ms"] = round3(r.cpu_ms);
  out["cpu_us_per_call"] = r.count ? round3(r.cpu_ms * 1000 / static_cast<double>(r.count)) : 0.0;
  out["warmup_calls"] = r.warmup_calls;
  out["interrupted"] = r.interrupted;
  if (context.kind != load::CallKind::unary) {
    const double secs = std::chrono::duration<double>(r.duration).count();
    out["messages"] = {{"sent", r.messages_sent},
                       {"received", r.messages_received},
                       {"per_call", r.count ? round3(static_cast<double>(r.messages_received) / static_cast<double>(r.count)) : 0.0},
                       {"per_second", secs > 0 ? std::round(static_cast<double>(r.messages_received) / secs * 10) / 10 : 0.0},
                       {"latency_ms", latency_json(r.message_latency)}};
  }
  if (!r.backends.empty()) {
    nlohmann::ordered_json backends = nlohmann::ordered_json::object();
    for (const auto& [address, calls] : r.backends) backends[address] = calls;
    out["backends"] = backends;
  }
  if (!r.series.empty()) out["series"] = series_json(r.series, r.duration);
  if (context.comparison) out["compare"] = comparison_json(*context.comparison);
  return out;
}

namespace {

// The length of a point in seconds: 1, except the last, which runs from its second to `duration`
// (less than a second, or up to 1.25 s when a sliver was folded into it).
double point_seconds(const load::SeriesPoint& p, Duration duration, bool last) {
  const double left = std::chrono::duration<double>(duration).count() - static_cast<double>(p.second);
  return last && left > 0 ? left : 1.0;
}

}  // namespace

nlohmann::ordered_json series_json(const std::vector<load::SeriesPoint>& series, Duration duration) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& p : series)
    out.push_back({{"t_s", p.second + 1},
                   {"calls", p.calls},
                   {"rps", std::round(static_cast<double>(p.calls) / point_seconds(p, duration, &p == &series.back()) * 10) / 10},
                   {"errors", p.errors},
                   {"p50", ms(p.p50_ns)},
                   {"p99", ms(p.p99_ns)}});
  return out;
}

std::string series_summary_text(const std::vector<load::SeriesPoint>& series, Duration duration) {
  if (series.size() < 3) return {};
  std::vector<double> rates;
  const load::SeriesPoint* worst = &series.front();
  size_t with_errors = 0;
  for (const auto& p : series) {
    rates.push_back(static_cast<double>(p.calls) / point_seconds(p, duration, &p == &series.back()));
    if (p.p99_ns > worst->p99_ns) worst = &p;
    if (p.errors) ++with_errors;
  }
  std::vector<double> sorted = rates;
  std::sort(sorted.begin(), sorted.end());
  std::string out;
  out += fmt::format("  Calls/s:     {:.0f} min, {:.0f} median, {:.0f} max over {} seconds\n", sorted.front(),
                     sorted[sorted.size() / 2], sorted.back(), series.size());
  out += fmt::format("  Worst p99:   {} in second {}\n", human_ms(static_cast<double>(worst->p99_ns) / 1e6), worst->second + 1);
  if (with_errors) {
    const auto first = std::find_if(series.begin(), series.end(), [](const auto& p) { return p.errors > 0; });
    out += fmt::format("  Errors:      in {} of {} seconds, from second {}\n", with_errors, series.size(), first->second + 1);
  }
  // The rate second by second as a sparkline, when it fits (up to 60 seconds).
  if (series.size() <= 60 && sorted.back() > 0) {
    static constexpr const char* k_levels[] = {"\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588"};
    std::string line;
    for (double r : rates) line += k_levels[std::min<size_t>(7, static_cast<size_t>(r / sorted.back() * 7.999))];
    out += "  Shape:       " + line + "\n";
  }
  return out;
}

std::vector<HistogramRow> latency_rows(const load::Histogram& h, int rows) {
  if (h.count() == 0 || rows <= 0) return {};
  const double lo = static_cast<double>(h.min()), hi = static_cast<double>(h.max());
  std::vector<double> edges;  // rows + 1 edges from lo to hi
  const bool log_spaced = lo > 0 && hi / lo > 20;
  if (hi <= lo) {
    edges = {lo, lo + 1};
    rows = 1;
  } else {
    for (int i = 0; i <= rows; ++i) {
      const double f = static_cast<double>(i) / rows;
      edges.push_back(log_spaced ? lo * std::pow(hi / lo, f) : lo + (hi - lo) * f);
    }
  }
  std::vector<uint64_t> counts(static_cast<size_t>(rows), 0);
  h.for_each_bucket([&](uint64_t low, uint64_t high, uint64_t count) {
    // A bucket's values go to the row of its midpoint, clamped to the exact min and max.
    const double mid = std::clamp((static_cast<double>(low) + static_cast<double>(high - 1)) / 2, lo, hi);
    auto it = std::upper_bound(edges.begin() + 1, edges.end() - 1, mid);
    counts[static_cast<size_t>(it - (edges.begin() + 1))] += count;
  });
  std::vector<HistogramRow> out;
  for (int i = 0; i < rows; ++i)
    out.push_back({edges[static_cast<size_t>(i)], edges[static_cast<size_t>(i) + 1], counts[static_cast<size_t>(i)],
                   log_spaced});
  return out;
}

std::string latency_histogram_text(const load::Histogram& h, int rows, int width) {
  const auto table = latency_rows(h, rows);
  uint64_t peak = 0;
  for (const auto& row : table) peak = std::max(peak, row.count);
  std::string out;
  for (const auto& row : table) {
    const uint64_t c = row.count;
    const int len = peak ? static_cast<int>(std::ceil(static_cast<double>(c) * width / static_cast<double>(peak))) : 0;
    std::string bar;
    for (int k = 0; k < len; ++k) bar += "\u2587";
    out += fmt::format("  {:>10} | {} {}\n", human_ms(row.high_ns / 1e6), bar, c);
  }
  return out;
}

void print_bench(Io& io, OutputFormat format, const load::LoadResult& r, const BenchContext& c) {
  if (format == OutputFormat::json) {
    io.out << json_line(bench_json(r, c)) << std::endl;
    return;
  }
  const bool color = io.color_out;
  auto bold = [&](const std::string& s) { return color ? "\x1b[1m" + s + "\x1b[0m" : s; };
  auto paint = [&](const std::string& s, int code) { return color ? fmt::format("\x1b[{}m{}\x1b[0m", code, s) : s; };
  const uint64_t failed = r.count - r.ok;
  std::string text;
  text += bold("Summary") + "\n";
  text += fmt::format("  Method:      {} ({}) on {}\n", c.method, load::kind_name(c.kind), c.target);
  text += fmt::format("  Load:        {} concurrent over {} connection{}, {}\n", c.concurrency, c.connections,
                      c.connections == 1 ? "" : "s",
                      !c.rate_shape.empty() ? std::string("open loop at a scheduled rate (latency from the due time)")
                      : c.rps > 0           ? fmt::format("open loop at {} calls/s (latency from the due time)", c.rps)
                                            : std::string("closed loop, as fast as possible"));
  text += fmt::format("  Calls:       {} ({} OK, {} failed{}){}\n", r.count, r.ok, failed,
                      r.count ? fmt::format(", {:.2f}% errors", 100.0 * static_cast<double>(failed) / static_cast<double>(r.count)) : "",
                      r.warmup_calls ? fmt::format(" after {} warmup calls", r.warmup_calls) : "");
  text += fmt::format("  Duration:    {}\n", human_ms(to_ms(r.duration)));
  text += fmt::format("  Throughput:  {:.1f} calls/s\n", r.rps());
  text += fmt::format("  CPU:         {:.0f} ms in grpcdx ({:.1f} us per call)\n", r.cpu_ms,
                      r.count ? r.cpu_ms * 1000 / static_cast<double>(r.count) : 0.0);
  if (!c.rate_shape.empty() || !c.concurrency_shape.empty()) {
    if (!c.rate_shape.empty()) text += fmt::format("  Rate:        {} (calls/s)\n", c.rate_shape);
    if (!c.concurrency_shape.empty()) text += fmt::format("  In flight:   {} calls\n", c.concurrency_shape);
  }
  if (c.kind != load::CallKind::unary) {
    const double secs = std::chrono::duration<double>(r.duration).count();
    text += fmt::format("  Messages:    {} sent, {} received ({:.1f} per call, {:.1f}/s)\n", r.messages_sent,
                        r.messages_received, r.count ? static_cast<double>(r.messages_received) / static_cast<double>(r.count) : 0.0,
                        secs > 0 ? static_cast<double>(r.messages_received) / secs : 0.0);
  }
  if (r.interrupted) text += paint("  Interrupted: stopped early; the figures cover the calls made\n", 33);
  if (const std::string over_time = series_summary_text(r.series, r.duration); !over_time.empty())
    text += "\n" + bold("Over time") + " (second by second)\n" + over_time;

  auto row = [&](const std::string& name, const load::Histogram& h) {
    return fmt::format("  {:<10}{:>10}{:>10}{:>10}{:>10}{:>10}{:>10}{:>10}\n", name, human_ms(h.min() / 1e6),
                       human_ms(h.mean() / 1e6), human_ms(h.percentile(0.5) / 1e6), human_ms(h.percentile(0.9) / 1e6),
                       human_ms(h.percentile(0.99) / 1e6), human_ms(h.percentile(0.999) / 1e6), human_ms(h.max() / 1e6));
  };
  text += "\n" + bold("Latency") + "\n";
  text += fmt::format("  {:<10}{:>10}{:>10}{:>10}{:>10}{:>10}{:>10}{:>10}\n", "", "min", "mean", "p50", "p90", "p99",
                      "p99.9", "max");
  if (r.count) text += row("all", r.latency);
  if (r.failed_latency.count()) text += row("failed", r.failed_latency);
  if (r.message_latency.count()) text += row("message", r.message_latency);
  if (r.count) {
    text += "\n" + bold("Latency histogram") + " (calls up to each latency)\n";
    // The bars fill what the terminal leaves after the label and the count (COLUMNS, else 80).
    text += latency_histogram_text(r.latency, 10, std::clamp(io.out_columns - 30, 10, 60));
  }
  text += "\n" + bold("Status") + "\n";
  for (int code = 0; code < load::k_status_codes; ++code) {
    const uint64_t n = r.status[static_cast<size_t>(code)];
    if (!n) continue;
    std::string name = fmt::format("{:<20}", rpc::status_name(code));
    text += fmt::format("  {}{:>10}{:>9.2f}%", paint(name, code == 0 ? 32 : 31), n,
                        100.0 * static_cast<double>(n) / static_cast<double>(r.count));
    const std::string& example = r.status_example[static_cast<size_t>(code)];
    if (!example.empty()) text += "   " + printable_line(example.substr(0, 80));
    text += "\n";
  }
  if (!r.count) text += "  (no calls finished)\n";
  if (!r.backends.empty()) {
    text += "\n" + bold("Backends") + "\n";
    for (const auto& [address, calls] : r.backends)
      text += fmt::format("  {:<28}{:>10}{:>9.2f}%\n", address, calls,
                          r.count ? 100.0 * static_cast<double>(calls) / static_cast<double>(r.count) : 0.0);
  }
  if (c.comparison) text += "\n" + bold(comparison_text(*c.comparison, c.baseline_name));
  io.out << text << std::flush;
}

std::string progress_line(uint64_t done, uint64_t total, Duration elapsed, Duration planned,
                          const load::SeriesPoint* last, int columns) {
  double fraction = 0;
  if (total > 0) fraction = static_cast<double>(done) / static_cast<double>(total);
  else if (planned > Duration::zero()) fraction = static_cast<double>(elapsed.count()) / static_cast<double>(planned.count());
  fraction = std::clamp(fraction, 0.0, 1.0);
  const double secs = std::chrono::duration<double>(elapsed).count();
  const std::string figures = fmt::format("{:3.0f}%  {} calls  {:.1f} s", fraction * 100, done, secs);
  std::string rate, p99;
  if (last) {
    // The last closed second: what the load is now, not the average since the start.
    rate = fmt::format("  now {} calls/s", last->calls);
    p99 = last->calls ? fmt::format(", p99 {}", human_ms(static_cast<double>(last->p99_ns) / 1e6)) : "";
  } else {
    rate = fmt::format("  {:.0f} calls/s", secs > 0 ? static_cast<double>(done) / secs : 0.0);
  }
  // What is left for the bar (and a space), keeping the last column free.
  auto room = [&] { return columns - 2 - static_cast<int>(figures.size() + rate.size() + p99.size()); };
  if (room() < 10) p99.clear();
  int width = std::min(40, room());
  std::string bar;
  if (width >= 10) {
    const int filled = static_cast<int>(fraction * width);
    for (int i = 0; i < width; ++i) bar += i < filled ? "\u2588" : "\u2591";
    bar += " ";
  }
  return bar + figures + rate + p99;
}

}  // namespace grpcdx::report
