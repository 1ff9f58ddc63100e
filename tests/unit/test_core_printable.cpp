// Unit tests for src/core/printable.hpp: a peer's text made safe for one terminal line.
#include <doctest.h>

#include <string>

#include "core/printable.hpp"

using namespace grpcdx;

TEST_CASE("printable_line keeps text on one line and control characters off the terminal") {
  CHECK(printable_line("plain text, ü ok") == "plain text, ü ok");
  CHECK(printable_line("a\nb\r\tc") == "a b  c");
  CHECK(printable_line("x\x1b[2Jy\x07z\x7f") == "x?[2Jy?z?");
  CHECK(printable_line(std::string("n\0ul", 4)) == "n?ul");
}
