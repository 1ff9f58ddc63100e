// Interop output.
#include "report/interop_report.hpp"

#include <cmath>
#include <fmt/format.h>

#include "core/printable.hpp"
#include "report/json_line.hpp"

namespace grpcdx::report {

void interop_case(Io& io, OutputFormat format, const interop::CaseResult& r) {
  if (format == OutputFormat::json) return;
  const bool color = io.color_out;
  std::string mark = r.passed ? (color ? "\x1b[32mPASS\x1b[0m" : "PASS") : (color ? "\x1b[31mFAIL\x1b[0m" : "FAIL");
  io.out << fmt::format("{}  {:<30} {:>9.1f} ms", mark, r.name, r.ms);
  if (!r.passed) io.out << "  " << printable_line(r.error);  // may quote the server's status message
  io.out << std::endl;
}

void interop_summary(Io& io, OutputFormat format, const std::vector<interop::CaseResult>& results) {
  int passed = 0;
  for (const auto& r : results) passed += r.passed ? 1 : 0;
  const int failed = static_cast<int>(results.size()) - passed;
  if (format == OutputFormat::json) {
    nlohmann::ordered_json cases = nlohmann::ordered_json::array();
    for (const auto& r : results)
      cases.push_back({{"name", r.name}, {"passed", r.passed}, {"ms", std::round(r.ms * 1000) / 1000}, {"error", r.error}});
    io.out << json_line({{"cases", cases}, {"passed", passed}, {"failed", failed}}) << std::endl;
    return;
  }
  io.out << fmt::format("\n{} passed, {} failed", passed, failed) << std::endl;
}

}  // namespace grpcdx::report
