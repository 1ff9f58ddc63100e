// Unit tests for report::terminal: --color parsing, the colour decision (NO_COLOR, TERM=dumb,
// always/never), COLUMNS, fitting progress lines and taking --color out of a command line.
#include <doctest.h>

#include <unistd.h>

#include <string>
#include <vector>

#include "report/terminal.hpp"

using namespace grpcdx::report;

TEST_CASE("terminal::parse_color_mode") {
  CHECK(*parse_color_mode("auto") == ColorMode::automatic);
  CHECK(*parse_color_mode("always") == ColorMode::always);
  CHECK(*parse_color_mode("never") == ColorMode::never);
  auto bad = parse_color_mode("yes");
  REQUIRE(!bad);
  CHECK(bad.error().kind == grpcdx::ErrorKind::usage);
  CHECK(bad.error().message == "invalid --color 'yes': expected auto, always or never");
}

TEST_CASE("terminal::use_color") {
  // auto: a terminal only, unless NO_COLOR is non-empty or TERM is dumb.
  CHECK(use_color(ColorMode::automatic, true, nullptr, "xterm"));
  CHECK(!use_color(ColorMode::automatic, false, nullptr, "xterm"));
  CHECK(!use_color(ColorMode::automatic, true, "1", "xterm"));
  CHECK(use_color(ColorMode::automatic, true, "", "xterm"));  // empty NO_COLOR does not count
  CHECK(!use_color(ColorMode::automatic, true, nullptr, "dumb"));
  // always wins over NO_COLOR and a pipe; never wins over a terminal.
  CHECK(use_color(ColorMode::always, false, "1", "dumb"));
  CHECK(!use_color(ColorMode::never, true, nullptr, "xterm"));
}

TEST_CASE("terminal::terminal_columns: COLUMNS, else 80 when not a terminal") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  CHECK(terminal_columns(fds[1], nullptr) == 80);
  CHECK(terminal_columns(fds[1], "132") == 132);
  CHECK(terminal_columns(fds[1], "5") == 20);        // clamped
  CHECK(terminal_columns(fds[1], "99999") == 1000);  // clamped
  CHECK(terminal_columns(fds[1], "wide") == 80);     // not a number: ignored
  CHECK(terminal_columns(fds[1], "") == 80);
  close(fds[0]);
  close(fds[1]);
}

TEST_CASE("terminal::fit_width counts code points") {
  CHECK(fit_width("abcdef", 5) == "abcd");
  CHECK(fit_width("abc", 80) == "abc");
  CHECK(fit_width("\u2588\u2588\u2588\u2588", 3) == "\u2588\u2588");
}

namespace {

// Runs take_color_option over `args` (argv[0] included); returns the value and what is left.
std::pair<grpcdx::Result<std::optional<std::string>>, std::vector<std::string>> take(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(args.size());
  auto value = take_color_option(argc, argv.data());
  std::vector<std::string> rest(argv.begin(), argv.begin() + argc);
  CHECK(argv[static_cast<size_t>(argc)] == nullptr);
  return {value, rest};
}

}  // namespace

TEST_CASE("terminal::take_color_option takes --color anywhere before --") {
  auto [v1, r1] = take({"grpcdx", "--color", "never", "probe", "x:1"});
  REQUIRE(v1);
  CHECK(**v1 == "never");
  CHECK(r1 == std::vector<std::string>{"grpcdx", "probe", "x:1"});

  auto [v2, r2] = take({"grpcdx", "probe", "x:1", "--color=always", "--plaintext"});
  CHECK(**v2 == "always");
  CHECK(r2 == std::vector<std::string>{"grpcdx", "probe", "x:1", "--plaintext"});

  auto [v3, r3] = take({"grpcdx", "list", "x:1"});
  CHECK(!v3->has_value());
  CHECK(r3.size() == 3);

  auto [v4, r4] = take({"grpcdx", "call", "--", "--color", "never"});
  CHECK(!v4->has_value());
  CHECK(r4.size() == 5);

  auto [v5, r5] = take({"grpcdx", "--color=never", "list", "--color", "always"});
  CHECK(**v5 == "always");  // the last one wins
  CHECK(r5 == std::vector<std::string>{"grpcdx", "list"});

  auto [v6, r6] = take({"grpcdx", "list", "--color"});
  REQUIRE(!v6);
  CHECK(v6.error().message == "--color needs a value: auto, always or never");
}
