// What the command is doing now ("connecting to HOST:PORT", "calling pkg.S/M"), recorded by the
// library at each step so that --max-time can say which step it cut short.
#pragma once

#include <string>
#include <string_view>

namespace grpcdx {

// Records the step now running. Thread-safe; cheap (one short string copy under a mutex).
void set_current_step(std::string_view step);

// The step last recorded; "starting" before any.
std::string current_step();

}  // namespace grpcdx
