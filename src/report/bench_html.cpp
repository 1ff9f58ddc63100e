// Rendering a bench run as a self-contained HTML page with SVG charts.
#include "report/bench_html.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "rpc/status_codes.hpp"

namespace grpcdx::report {

namespace {

constexpr const char* k_style = R"(
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d232a;
       background: #fff; max-width: 980px; margin: 24px auto; padding: 0 20px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #d9dee4; }
.sub { color: #57606a; margin: 0; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { border: 1px solid #d9dee4; border-radius: 6px; padding: 10px 14px; min-width: 130px; }
.card .label { display: block; color: #57606a; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .big { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card.bad .big { color: #b42318; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 12px 4px 0; text-align: right; }
th:first-child, td:first-child, .params td, .params th { text-align: left; }
th { color: #57606a; font-weight: 600; border-bottom: 1px solid #d9dee4; }
td.msg { text-align: left; color: #57606a; max-width: 420px; overflow-wrap: anywhere; }
pre { background: #f4f6f8; border: 1px solid #d9dee4; border-radius: 6px; padding: 10px 12px;
      white-space: pre-wrap; overflow-wrap: anywhere; }
svg text { font: 11px system-ui, sans-serif; fill: #57606a; }
svg .bar { fill: #3b82c4; }
svg .axis { stroke: #8c959f; stroke-width: 1; }
svg .grid { stroke: #eaeef2; stroke-width: 1; }
svg .pct { stroke: #d1242f; stroke-width: 1.5; stroke-dasharray: 4 3; }
svg text.pct-label { fill: #d1242f; font-weight: 600; }
svg .line { fill: none; stroke-width: 2; stroke-linejoin: round; }
svg .line.rps { stroke: #3b82c4; }
svg .line.errors { stroke: #d1242f; }
svg .line.p50 { stroke: #2da44e; }
svg .line.p99 { stroke: #8250df; }
svg .dot.rps { fill: #3b82c4; } svg .dot.errors { fill: #d1242f; } svg .dot.p50 { fill: #2da44e; } svg .dot.p99 { fill: #8250df; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
footer { margin-top: 32px; color: #8c959f; font-size: 12px; }
)";

// The colour of a status in the mix: OK green, the rest from a fixed palette by code.
std::string status_color(int code) {
  static constexpr const char* k_palette[] = {"#d1242f", "#bf8700", "#8250df", "#cf5f00", "#0969da", "#6e7781",
                                              "#a40e26", "#1b7c83", "#953800", "#4d2d8f"};
  return code == 0 ? "#2da44e" : k_palette[static_cast<size_t>(code) % std::size(k_palette)];
}

// An element carrying one JSON figure: its text is the JSON number (with a unit), so what a
// person reads and what a program reads are the same value.
std::string figure(const std::string& tag, const std::string& css_class, const std::string& key,
                   const nlohmann::ordered_json& value, const std::string& unit) {
  const std::string number = value.dump();
  return fmt::format("<{0}{1} data-key=\"{2}\" data-value=\"{3}\">{3}{4}</{0}>", tag,
                     css_class.empty() ? "" : " class=\"" + css_class + "\"", html_escape(key), html_escape(number),
                     unit.empty() ? "" : " " + unit);
}

std::string card(const std::string& label, const std::string& key, const nlohmann::ordered_json& value,
                 const std::string& unit, bool bad = false) {
  return fmt::format("<div class=\"card{}\"><span class=\"label\">{}</span>{}</div>\n", bad ? " bad" : "",
                     html_escape(label), figure("span", "big", key, value, unit));
}

std::string latency_table(const nlohmann::ordered_json& json, const load::LoadResult& r) {
  static constexpr const char* k_keys[] = {"min", "mean", "p50", "p90", "p99", "p999", "max"};
  std::string out = "<table class=\"lat\">\n<tr><th></th>";
  for (const char* k : k_keys) out += fmt::format("<th>{}</th>", std::string_view(k) == "p999" ? "p99.9" : k);
  out += "</tr>\n";
  auto row = [&](const char* label, const char* object) {
    out += fmt::format("<tr><td>{}</td>", label);
    for (const char* k : k_keys)
      out += figure("td", "", fmt::format("{}.{}", object, k), json[object][k], "ms");
    out += "</tr>\n";
  };
  if (r.count) row("all calls", "latency_ms");
  if (json.contains("latency_failed_ms")) row("failed calls", "latency_failed_ms");
  out += "</table>\n";
  return out;
}

// The histogram of call latencies, with the percentiles as dashed lines.
std::string histogram_svg(const load::Histogram& h) {
  constexpr double k_width = 940, k_height = 330, k_left = 64, k_right = 16, k_top = 72, k_bottom = 44;
  constexpr double plot_w = k_width - k_left - k_right, plot_h = k_height - k_top - k_bottom;
  const auto rows = latency_rows(h, 48);
  if (rows.empty()) return "<p>No calls finished: nothing to draw.</p>\n";
  uint64_t peak = 1;
  for (const auto& row : rows) peak = std::max(peak, row.count);
  const double lo = rows.front().low_ns, hi = rows.back().high_ns;
  const bool log_spaced = rows.front().log_spaced;
  auto x_of = [&](double ns) {
    if (hi <= lo) return k_left + plot_w / 2;
    double f = log_spaced ? std::log(std::max(ns, lo) / lo) / std::log(hi / lo) : (ns - lo) / (hi - lo);
    return k_left + std::clamp(f, 0.0, 1.0) * plot_w;
  };
  std::string svg = fmt::format(
      "<svg id=\"latency-histogram\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {0} {1}\" width=\"{0}\" "
      "height=\"{1}\" role=\"img\" aria-label=\"Latency histogram\">\n",
      k_width, k_height);
  // Grid and the count axis.
  for (int i = 0; i <= 4; ++i) {
    const double y = k_top + plot_h - plot_h * i / 4;
    svg += fmt::format("<line class=\"grid\" x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\"/>", k_left, y,
                       k_left + plot_w, y);
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", k_left - 6, y + 4,
                       static_cast<uint64_t>(std::llround(static_cast<double>(peak) * i / 4)));
  }
  const double bar_w = plot_w / static_cast<double>(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    if (!row.count) continue;
    const double bh = std::max(1.0, plot_h * static_cast<double>(row.count) / static_cast<double>(peak));
    svg += fmt::format(
        "<rect class=\"bar\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\"><title>{} to {}: {} "
        "calls</title></rect>\n",
        k_left + bar_w * static_cast<double>(i) + 0.5, k_top + plot_h - bh, std::max(bar_w - 1, 1.0), bh,
        html_escape(human_ms(row.low_ns / 1e6)), html_escape(human_ms(row.high_ns / 1e6)), row.count);
  }
  // The latency axis: five labels along it.
  svg += fmt::format("<line class=\"axis\" x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\"/>\n", k_left,
                     k_top + plot_h, k_left + plot_w);
  for (int i = 0; i <= 4; ++i) {
    const size_t edge = rows.size() * static_cast<size_t>(i) / 4;
    const double ns = edge < rows.size() ? rows[edge].low_ns : hi;
    const double x = k_left + bar_w * static_cast<double>(edge);
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", x, k_top + plot_h + 16,
                       html_escape(human_ms(ns / 1e6)));
  }
  svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">latency ({}), calls per range</text>\n",
                     k_left + plot_w / 2, k_height - 6, log_spaced ? "log scale" : "linear scale");
  // Percentile markers, their labels stacked above the plot so they never overlap.
  const std::pair<const char*, double> marks[] = {
      {"p50", 0.50}, {"p90", 0.90}, {"p99", 0.99}, {"p99.9", 0.999}};
  int i = 0;
  for (const auto& [name, q] : marks) {
    const double ns = static_cast<double>(h.percentile(q));
    const double x = x_of(ns);
    const double label_y = 14 + 14.0 * i++;
    svg += fmt::format("<line class=\"pct\" x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\"/>", x,
                       label_y + 3, k_top + plot_h);
    const bool right = x > k_left + plot_w * 0.7;
    svg += fmt::format("<text class=\"pct-label\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"{}\">{} {}</text>\n",
                       right ? x - 4 : x + 4, label_y, right ? "end" : "start", name,
                       html_escape(human_ms(ns / 1e6)));
  }
  svg += "</svg>\n";
  return svg;
}

// One line per figure over the run's seconds: x is the end of each second (t_s), y from 0 to the
// largest value. Each line is a <polyline> with data-points="N" (one point a second); a lone point
// is drawn as a dot too, since a line of one point is invisible.
struct ChartLine {
  std::string name;       // legend text
  std::string css;        // rps, errors, p50, p99
  std::vector<double> values;
};

std::string line_chart(const std::string& id, const std::string& label, const std::string& unit,
                       const std::vector<double>& t_s, const std::vector<ChartLine>& lines) {
  constexpr double k_width = 940, k_height = 220, k_left = 64, k_right = 16, k_top = 24, k_bottom = 40;
  constexpr double plot_w = k_width - k_left - k_right, plot_h = k_height - k_top - k_bottom;
  double peak = 0;
  for (const auto& line : lines)
    for (double v : line.values) peak = std::max(peak, v);
  // A round top for the axis: 1, 2 or 5 times a power of ten.
  double top = 1;
  if (peak > 0) {
    const double magnitude = std::pow(10.0, std::floor(std::log10(peak)));
    top = peak <= magnitude ? magnitude : peak <= 2 * magnitude ? 2 * magnitude : peak <= 5 * magnitude ? 5 * magnitude : 10 * magnitude;
  }
  const double t_max = t_s.empty() ? 1 : std::max(1.0, t_s.back());
  auto x_of = [&](double t) { return k_left + plot_w * t / t_max; };
  auto y_of = [&](double v) { return k_top + plot_h - plot_h * std::clamp(v / top, 0.0, 1.0); };
  std::string svg = fmt::format(
      "<svg id=\"{0}\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {1} {2}\" width=\"{1}\" height=\"{2}\" "
      "role=\"img\" aria-label=\"{3}\">\n",
      id, k_width, k_height, html_escape(label));
  for (int i = 0; i <= 4; ++i) {
    const double v = top * i / 4, y = y_of(v);
    svg += fmt::format("<line class=\"grid\" x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\"/>", k_left, y,
                       k_left + plot_w, y);
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", k_left - 6, y + 4,
                       html_escape(fmt::format("{:g}", v)));
  }
  svg += fmt::format("<line class=\"axis\" x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\"/>\n", k_left,
                     k_top + plot_h, k_left + plot_w);
  for (int i = 0; i <= 5; ++i) {
    const double t = t_max * i / 5;
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{:g} s</text>\n", x_of(t),
                       k_top + plot_h + 16, std::round(t * 10) / 10);
  }
  svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{} ({}) over time, one point a second</text>\n",
                     k_left + plot_w / 2, k_height - 6, html_escape(label), html_escape(unit));
  double legend_x = k_left;
  for (const auto& line : lines) {
    std::string points;
    for (size_t i = 0; i < line.values.size() && i < t_s.size(); ++i)
      points += fmt::format("{}{:.1f},{:.1f}", points.empty() ? "" : " ", x_of(t_s[i]), y_of(line.values[i]));
    svg += fmt::format("<polyline class=\"line {}\" data-points=\"{}\" points=\"{}\"><title>{}</title></polyline>\n",
                       line.css, std::min(line.values.size(), t_s.size()), points, html_escape(line.name));
    if (line.values.size() == 1 && !t_s.empty())
      svg += fmt::format("<circle class=\"dot {}\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\"/>\n", line.css, x_of(t_s[0]),
                         y_of(line.values[0]));
    svg += fmt::format("<rect class=\"dot {}\" x=\"{:.1f}\" y=\"6\" width=\"10\" height=\"10\"/><text x=\"{:.1f}\" y=\"15\">{}</text>\n",
                       line.css, legend_x, legend_x + 14, html_escape(line.name));
    legend_x += 24 + 7.0 * static_cast<double>(line.name.size());
  }
  svg += "</svg>\n";
  return svg;
}

// Throughput, error rate and p50/p99 second by second, from the JSON's series.
std::string series_section(const nlohmann::ordered_json& series) {
  std::vector<double> t_s, rps, errors, p50, p99;
  for (const auto& p : series) {
    t_s.push_back(p["t_s"].get<double>());
    rps.push_back(p["rps"].get<double>());
    const double calls = p["calls"].get<double>();
    errors.push_back(calls > 0 ? 100.0 * p["errors"].get<double>() / calls : 0.0);
    p50.push_back(p["p50"].get<double>());
    p99.push_back(p["p99"].get<double>());
  }
  std::string out = "<section>\n<h2>Over time</h2>\n";
  out += fmt::format("<p>One point a second ({} seconds): the calls that ended in that second.</p>\n", series.size());
  out += line_chart("series-rps", "Throughput", "calls/s", t_s, {{"calls/s", "rps", rps}});
  out += line_chart("series-errors", "Error rate", "% of calls", t_s, {{"errors %", "errors", errors}});
  out += line_chart("series-latency", "Latency", "ms", t_s, {{"p50", "p50", p50}, {"p99", "p99", p99}});
  out += "</section>\n";
  return out;
}

std::string status_section(const nlohmann::ordered_json& json, const load::LoadResult& r) {
  if (!r.count) return "<p>No calls finished.</p>\n";
  constexpr double k_width = 940, k_height = 28;
  std::string bar = fmt::format(
      "<svg id=\"status-mix\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {0} {1}\" width=\"{0}\" "
      "height=\"{1}\" role=\"img\" aria-label=\"Status mix\">\n",
      k_width, k_height);
  std::string table = "<table class=\"status\">\n<tr><th>status</th><th>calls</th><th>share</th><th></th></tr>\n";
  double x = 0;
  for (int code = 0; code < load::k_status_codes; ++code) {
    const uint64_t n = r.status[static_cast<size_t>(code)];
    if (!n) continue;
    const std::string name = rpc::status_name(code);
    const double share = static_cast<double>(n) / static_cast<double>(r.count);
    const double w = k_width * share;
    bar += fmt::format("<rect x=\"{:.2f}\" y=\"0\" width=\"{:.2f}\" height=\"{}\" fill=\"{}\"><title>{}: {} ({:.2f}%)</title></rect>\n",
                       x, w, k_height, status_color(code), name, n, share * 100);
    x += w;
    const std::string& example = r.status_example[static_cast<size_t>(code)];
    table += fmt::format("<tr><td><span class=\"swatch\" style=\"background:{}\"></span>{}</td>{}<td>{:.2f}%</td><td class=\"msg\">{}</td></tr>\n",
                         status_color(code), name, figure("td", "", "status." + name, json["status"][name], ""),
                         share * 100, html_escape(example.substr(0, 200)));
  }
  bar += "</svg>\n";
  return bar + table + "</table>\n";
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string bench_html(const load::LoadResult& r, const BenchContext& c, const BenchHtmlInfo& info) {
  const nlohmann::ordered_json json = bench_json(r, c);
  const uint64_t failed = r.count - r.ok;
  const double error_rate = r.count ? std::round(10000.0 * static_cast<double>(failed) / static_cast<double>(r.count)) / 100 : 0.0;
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += fmt::format("<title>grpcdx bench: {} on {}</title>\n", html_escape(c.method), html_escape(c.target));
  out += fmt::format("<style>{}</style>\n</head>\n<body>\n", k_style);
  out += "<header>\n<h1>grpcdx bench</h1>\n";
  out += fmt::format("<p class=\"sub\"><span id=\"method\">{}</span> ({}) on <span id=\"target\">{}</span>{}</p>\n</header>\n",
                     html_escape(c.method), load::kind_name(c.kind), html_escape(c.target),
                     r.interrupted ? " &mdash; <strong>interrupted</strong>: the figures cover the calls made" : "");

  out += "<section>\n<h2>Summary</h2>\n<div class=\"cards\">\n";
  out += card("Calls", "count", json["count"], "");
  out += card("OK", "ok", json["ok"], "");
  out += fmt::format("<div class=\"card{}\"><span class=\"label\">Errors</span><span class=\"big\" id=\"error-rate\">{}%</span></div>\n",
                     failed ? " bad" : "", nlohmann::ordered_json(error_rate).dump());
  out += card("Duration", "duration_ms", json["duration_ms"], "ms");
  out += card("Throughput", "rps", json["rps"], "calls/s");
  out += card("p99 latency", "latency_ms.p99", json["latency_ms"]["p99"], "ms", false);
  out += "</div>\n</section>\n";

  out += "<section>\n<h2>Latency</h2>\n" + latency_table(json, r);
  out += "<p>Histogram of all calls; dashed lines mark the percentiles.</p>\n" + histogram_svg(r.latency);
  out += "</section>\n";

  out += "<section>\n<h2>Status</h2>\n" + status_section(json, r) + "</section>\n";

  if (json.contains("series")) out += series_section(json["series"]);

  if (json.contains("backends")) {
    out += "<section>\n<h2>Backends</h2>\n<table class=\"params\">\n";
    for (const auto& [address, calls] : json["backends"].items())
      out += fmt::format("<tr><th>{}</th>{}</tr>\n", html_escape(address),
                         figure("td", "", "backends." + address, calls, "calls"));
    out += "</table>\n</section>\n";
  }
  if (json.contains("compare")) {
    const auto& d = json["compare"];
    out += fmt::format("<section>\n<h2>Compared with {}</h2>\n<table class=\"params\">\n", html_escape(c.baseline_name));
    out += fmt::format("<tr><th>Throughput</th>{}</tr>\n", figure("td", "", "compare.rps_change_pct", d["rps_change_pct"], "%"));
    out += fmt::format("<tr><th>p50 latency</th>{}</tr>\n", figure("td", "", "compare.p50_change_pct", d["p50_change_pct"], "%"));
    out += fmt::format("<tr><th>p99 latency</th>{}</tr>\n", figure("td", "", "compare.p99_change_pct", d["p99_change_pct"], "%"));
    out += fmt::format("<tr><th>Error rate</th>{}</tr>\n",
                       figure("td", "", "compare.error_rate_change", d["error_rate_change"], "points"));
    out += fmt::format("<tr><th>Verdict</th><td id=\"regressed\">{}</td></tr>\n",
                       d["regressed"].get<bool>() ? "regression" : "no regression");
    out += "</table>\n</section>\n";
  }

  out += "<section>\n<h2>Parameters</h2>\n<table class=\"params\">\n";
  for (const auto& [name, value] : info.parameters)
    out += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", html_escape(name), html_escape(value));
  out += fmt::format("<tr><th>CPU in grpcdx</th><td>{}</td></tr>\n",
                     figure("span", "", "cpu_ms", json["cpu_ms"], "ms"));
  out += "</table>\n</section>\n";

  out += "<section>\n<h2>Command line</h2>\n";
  out += fmt::format("<pre id=\"command\">{}</pre>\n</section>\n", html_escape(info.command_line));
  out += fmt::format("<footer>Made by grpcdx {}. This page is self-contained: it loads nothing from the network.</footer>\n",
                     GRPCDX_VERSION);
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace grpcdx::report
