// The -o/--output choice shared by every command.
#pragma once

namespace grpcdx::report {

// html: only `bench` offers it (a self-contained page, report/bench_html.hpp).
enum class OutputFormat { text, json, html };

}  // namespace grpcdx::report
