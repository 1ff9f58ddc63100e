// The bench report as one self-contained HTML page (`bench -o html`, `--html FILE`): inline CSS,
// the latency histogram and percentiles drawn as SVG, the status mix, the run's parameters and
// the equivalent command line. No script, font or image is loaded from anywhere.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "load/engine.hpp"
#include "report/bench_report.hpp"

namespace grpcdx::report {

// What the page says besides the figures.
struct BenchHtmlInfo {
  std::string command_line;  // the grpcdx command that makes the same run, shell-quoted
  std::vector<std::pair<std::string, std::string>> parameters;  // name, value; shown in order
};

// The whole page. Every figure the JSON report (bench_json) has is in an element with
// data-key="<the JSON path, e.g. latency_ms.p99>" and data-value="<the JSON number>", so a reader
// (or a test) can check the page against the JSON.
std::string bench_html(const load::LoadResult& result, const BenchContext& context, const BenchHtmlInfo& info);

// `text` with &, <, >, " and ' replaced by entities.
std::string html_escape(std::string_view text);

}  // namespace grpcdx::report
