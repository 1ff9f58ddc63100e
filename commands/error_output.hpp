// The one way an error reaches the user: a single "error: ..." line on stderr, and its exit code.
#pragma once

#include <ostream>

#include "core/error.hpp"

namespace grpcdx::commands {

// Prints `error: [CODE (n): ]message[ (hint)]` and returns the exit code for the error.
int print_error(std::ostream& err, const Error& e);

}  // namespace grpcdx::commands
