// The streams a command reads and writes, so commands can be run and tested without globals.
#pragma once

#include <iostream>

namespace grpcdx {

struct Io {
  std::ostream& out;
  std::ostream& err;
  std::istream& in;
  bool out_is_tty = false;
  bool err_is_tty = false;
};

}  // namespace grpcdx
