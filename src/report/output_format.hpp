// The -o/--output choice shared by every command.
#pragma once

namespace grpcdx::report {

enum class OutputFormat { text, json };

}  // namespace grpcdx::report
