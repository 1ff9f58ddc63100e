// Terminal manners decided once at start-up: whether a stream gets colour (--color, NO_COLOR,
// TERM=dumb) and how wide output may be (COLUMNS, the terminal's size). Pure apart from the
// ioctl in terminal_columns, so the rules are unit-tested.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace grpcdx::report {

enum class ColorMode { automatic, always, never };

// Parses the value of --color: auto, always or never. Fails (usage) on anything else.
Result<ColorMode> parse_color_mode(std::string_view text);

// Whether a stream gets ANSI colour. always/never decide alone; automatic colours only a
// terminal, and not when NO_COLOR is set to a non-empty value (https://no-color.org) or
// TERM is "dumb". Null pointers mean "not set".
bool use_color(ColorMode mode, bool is_tty, const char* no_color_env, const char* term_env);

// The width output written to `fd` should fit: COLUMNS when it holds a number, else the
// terminal's width when `fd` is a terminal, else 80. Clamped to [20, 1000].
int terminal_columns(int fd, const char* columns_env);

// `line` cut to fit in `columns - 1` terminal columns (counting UTF-8 code points), so a
// progress line redrawn with "\r" never wraps. Plain text only (no escape sequences).
std::string fit_width(std::string_view line, int columns);

// The `--color X` / `--color=X` options of a command line (the last one wins), removed from it: main() takes the
// option out before CLI11 parses, so it is valid before or after the subcommand. Arguments after
// a bare `--` are left alone. Returns the value, std::nullopt when absent; fails (usage) when the
// value is missing.
Result<std::optional<std::string>> take_color_option(int& argc, char** argv);

}  // namespace grpcdx::report
