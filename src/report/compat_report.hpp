// Rendering of `compat`'s findings: grouped by method with one verdict line for people, SPEC's
// object for scripts.
#pragma once

#include "compat/compare.hpp"
#include "core/io.hpp"
#include "report/output_format.hpp"

namespace grpcdx::report {

// Text: each method checked, with the findings first reached through it (or "ok"), then one
// verdict line. JSON: {"compatible": .., "checked": {..}, "findings": [..]} on one line.
// `compatible` is the verdict the exit code follows (with --fail-on warning, warnings count).
void print_compat(Io& io, OutputFormat format, const compat::Report& report, bool compatible);

}  // namespace grpcdx::report
