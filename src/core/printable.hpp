// A peer's text (a status message, a type name, a certificate's subject) made safe for one line
// of a terminal, so a server cannot move the cursor, recolour or retitle the terminal through
// grpcdx's text output. JSON output keeps such text exact (JSON escapes it).
#pragma once

#include <string>
#include <string_view>

namespace grpcdx {

// Line breaks and tabs become spaces, other control characters (ESC, BEL, NUL, DEL, ...) '?'.
inline std::string printable_line(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

}  // namespace grpcdx
