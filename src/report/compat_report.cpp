// `compat` output.
#include "report/compat_report.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "report/json_line.hpp"

namespace grpcdx::report {

namespace {

std::string plural(int n, std::string_view word) { return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s"); }

std::string paint(const Io& io, std::string_view text, const char* code) {
  return io.color_out ? fmt::format("\x1b[{}m{}\x1b[0m", code, text) : std::string(text);
}

}  // namespace

void print_compat(Io& io, OutputFormat format, const compat::Report& report, bool compatible) {
  const int errors = report.count(compat::Severity::error);
  const int warnings = report.count(compat::Severity::warning);
  if (format == OutputFormat::json) {
    nlohmann::ordered_json findings = nlohmann::ordered_json::array();
    for (const auto& f : report.findings)
      findings.push_back({{"severity", compat::severity_name(f.severity)},
                          {"rule", f.rule},
                          {"symbol", f.symbol},
                          {"client", f.client},
                          {"server", f.server},
                          {"message", f.message}});
    const auto& c = report.checked;
    io.out << json_line({{"compatible", compatible},
                         {"checked", {{"services", c.services}, {"methods", c.methods}, {"messages", c.messages},
                                      {"enums", c.enums}}},
                         {"findings", findings}})
           << std::endl;
    return;
  }
  size_t next = 0;  // findings are sorted by their first method
  for (const auto& method : report.methods) {
    std::string lines;
    for (; next < report.findings.size() && !report.findings[next].methods.empty() &&
           report.findings[next].methods.front() == method;
         ++next) {
      const auto& f = report.findings[next];
      const bool error = f.severity == compat::Severity::error;
      lines += fmt::format("  {} {} {}\n", paint(io, error ? "error  " : "warning", error ? "31" : "33"), f.rule,
                           f.symbol);
      lines += fmt::format("          {}\n", f.message);
      if (f.methods.size() > 1) {
        std::string also;
        for (size_t i = 1; i < f.methods.size() && i <= 3; ++i) also += (i > 1 ? ", " : "") + f.methods[i];
        if (f.methods.size() > 4) also += fmt::format(" and {} more", f.methods.size() - 4);
        lines += fmt::format("          (also through {})\n", also);
      }
    }
    if (!lines.empty()) {
      io.out << method << "\n" << lines;
      continue;
    }
    // No finding was first reached through this method; some may reach it too.
    int errors_above = 0, warnings_above = 0;
    for (const auto& f : report.findings)
      if (std::find(f.methods.begin(), f.methods.end(), method) != f.methods.end())
        ++(f.severity == compat::Severity::error ? errors_above : warnings_above);
    if (errors_above + warnings_above == 0)
      io.out << fmt::format("{}  {}\n", method, paint(io, "ok", "32"));
    else
      io.out << fmt::format("{}  {}\n", method,
                            paint(io, fmt::format("{} and {} above", plural(errors_above, "error"),
                                                  plural(warnings_above, "warning")),
                                  errors_above > 0 ? "31" : "33"));
  }
  const auto& c = report.checked;
  std::string verdict = compatible ? paint(io, "compatible", "32")
                                   : paint(io, errors > 0 ? "NOT compatible" : "NOT compatible (--fail-on warning)", "31");
  io.out << fmt::format("{}: {}, {} ({}, {}, {}, {} checked)", verdict, plural(errors, "error"),
                        plural(warnings, "warning"), plural(c.services, "service"), plural(c.methods, "method"),
                        plural(c.messages, "message"), plural(c.enums, "enum"))
         << std::endl;
}

}  // namespace grpcdx::report
