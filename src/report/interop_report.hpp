// Rendering of interop results: a table for people, SPEC's JSON for scripts.
#pragma once

#include <vector>

#include "core/io.hpp"
#include "interop/cases.hpp"
#include "report/output_format.hpp"

namespace grpcdx::report {

// Text: one line a case as it finishes (mark, name, time, reason).
void interop_case(Io& io, OutputFormat format, const interop::CaseResult& result);

// Text: the totals line. JSON: {"cases": [...], "passed": N, "failed": M}.
void interop_summary(Io& io, OutputFormat format, const std::vector<interop::CaseResult>& results);

}  // namespace grpcdx::report
