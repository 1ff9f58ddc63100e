// Unit tests for report::bench_html: every JSON figure is on the page with the same value, text
// is escaped, nothing is loaded from elsewhere, and the SVG charts are drawn.
#include <doctest.h>

#include <map>
#include <regex>
#include <string>

#include "report/bench_html.hpp"

using namespace grpcdx;

namespace {

load::LoadResult sample_result() {
  load::LoadResult r;
  for (uint64_t i = 1; i <= 900; ++i) r.latency.record(200'000 + i * 1'000);  // 0.2 .. 1.1 ms
  for (uint64_t i = 1; i <= 100; ++i) {
    r.latency.record(5'000'000 + i * 10'000);  // a slow tail, 5 .. 6 ms
    r.failed_latency.record(5'000'000 + i * 10'000);
  }
  r.count = 1000;
  r.ok = 900;
  r.status[0] = 900;
  r.status[14] = 100;
  r.status_example[14] = "injected <fault> & more";
  r.duration = std::chrono::milliseconds(250);
  r.cpu_ms = 120.5;
  return r;
}

// data-key -> data-value of every figure on the page.
std::map<std::string, std::string> figures(const std::string& page) {
  std::map<std::string, std::string> out;
  std::regex figure("data-key=\"([^\"]+)\" data-value=\"([^\"]+)\"");
  for (auto it = std::sregex_iterator(page.begin(), page.end(), figure); it != std::sregex_iterator(); ++it)
    out[(*it)[1]] = (*it)[2];
  return out;
}

}  // namespace

TEST_CASE("bench_html: the figures equal the JSON report's") {
  const auto r = sample_result();
  report::BenchContext context{"grpc.testing.TestService/EmptyCall", "127.0.0.1:50051", load::CallKind::unary, 50, 1, 0, {}, {}, {}, {}};
  const std::string page = report::bench_html(r, context, {"grpcdx bench 127.0.0.1:50051 x", {{"Target", "127.0.0.1:50051"}}});
  const auto json = report::bench_json(r, context);
  const auto shown = figures(page);
  CHECK(shown.at("count") == json["count"].dump());
  CHECK(shown.at("ok") == json["ok"].dump());
  CHECK(shown.at("duration_ms") == json["duration_ms"].dump());
  CHECK(shown.at("rps") == json["rps"].dump());
  for (const char* k : {"min", "mean", "p50", "p90", "p99", "p999", "max"}) {
    CHECK(shown.at(std::string("latency_ms.") + k) == json["latency_ms"][k].dump());
    CHECK(shown.at(std::string("latency_failed_ms.") + k) == json["latency_failed_ms"][k].dump());
  }
  CHECK(shown.at("status.OK") == "900");
  CHECK(shown.at("status.UNAVAILABLE") == "100");
  CHECK(shown.at("cpu_ms") == json["cpu_ms"].dump());
}

TEST_CASE("bench_html: self-contained, escaped, with the charts and the command line") {
  const auto r = sample_result();
  report::BenchContext context{"pkg.S/<M>", "host:1\"", load::CallKind::unary, 50, 1, 0, {}, {}, {}, {}};
  const std::string page = report::bench_html(r, context, {"grpcdx bench 'a<b' -d '{\"x\": 1}'", {{"Request data", "<script>"}}});
  CHECK(page.starts_with("<!DOCTYPE html>"));
  CHECK(page.find("<script") == std::string::npos);
  CHECK(page.find("src=") == std::string::npos);
  CHECK(page.find("href=") == std::string::npos);
  CHECK(page.find("url(") == std::string::npos);
  CHECK(page.find("@import") == std::string::npos);
  CHECK(page.find("pkg.S/&lt;M&gt;") != std::string::npos);
  CHECK(page.find("host:1&quot;") != std::string::npos);
  CHECK(page.find("&lt;script&gt;") != std::string::npos);
  CHECK(page.find("injected &lt;fault&gt; &amp; more") != std::string::npos);
  CHECK(page.find("<pre id=\"command\">grpcdx bench &#39;a&lt;b&#39; -d &#39;{&quot;x&quot;: 1}&#39;</pre>") != std::string::npos);
  CHECK(page.find("<svg id=\"latency-histogram\"") != std::string::npos);
  CHECK(page.find("<svg id=\"status-mix\"") != std::string::npos);
  for (const char* p : {">p50 ", ">p90 ", ">p99 ", ">p99.9 "}) CHECK(page.find(p) != std::string::npos);
  // A bar per non-empty range; the slow tail makes the scale logarithmic.
  CHECK(page.find("class=\"bar\"") != std::string::npos);
  CHECK(page.find("log scale") != std::string::npos);
}

TEST_CASE("bench_html: a run without calls still makes a page") {
  load::LoadResult r;
  report::BenchContext context{"pkg.S/M", "h:1", load::CallKind::unary, 1, 1, 0, {}, {}, {}, {}};
  const std::string page = report::bench_html(r, context, {"grpcdx bench h:1 pkg.S/M", {}});
  CHECK(page.find("No calls finished") != std::string::npos);
  CHECK(page.find("data-key=\"count\" data-value=\"0\"") != std::string::npos);
  CHECK(page.ends_with("</html>\n"));
}
