// The streams a command uses, and how to write to them, so commands can be run and tested
// without globals.
#pragma once

#include <iostream>

namespace grpcdx {

// main() decides the terminal facts once (report/terminal.hpp); everything that colours, draws
// progress or sizes a table reads them from here.
struct Io {
  std::ostream& out;
  std::ostream& err;
  std::istream& in;
  bool out_is_tty = false;   // stdout is a terminal
  bool err_is_tty = false;   // stderr is a terminal: live progress goes there only then
  bool color_out = false;    // ANSI colour on stdout (--color, NO_COLOR, a terminal)
  bool color_err = false;    // ANSI colour on stderr
  int out_columns = 80;      // width of stdout (COLUMNS, the terminal, else 80)
  int err_columns = 80;      // width of stderr, for progress lines
};

}  // namespace grpcdx
