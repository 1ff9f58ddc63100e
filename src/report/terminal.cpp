// Colour and width decisions for the streams a command writes to.
#include "report/terminal.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string>

#include <fmt/format.h>

namespace grpcdx::report {

Result<ColorMode> parse_color_mode(std::string_view text) {
  if (text == "auto") return ColorMode::automatic;
  if (text == "always") return ColorMode::always;
  if (text == "never") return ColorMode::never;
  return usage_error(fmt::format("invalid --color '{}': expected auto, always or never", text));
}

bool use_color(ColorMode mode, bool is_tty, const char* no_color_env, const char* term_env) {
  if (mode == ColorMode::always) return true;
  if (mode == ColorMode::never) return false;
  if (!is_tty) return false;
  if (no_color_env && *no_color_env) return false;
  if (term_env && std::string_view(term_env) == "dumb") return false;
  return true;
}

int terminal_columns(int fd, const char* columns_env) {
  constexpr int k_min = 20, k_max = 1000, k_default = 80;
  if (columns_env && *columns_env) {
    std::string_view text(columns_env);
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc() && end == text.data() + text.size() && value > 0) return std::clamp(value, k_min, k_max);
  }
  if (isatty(fd)) {
    winsize size{};
    if (ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return std::clamp<int>(size.ws_col, k_min, k_max);
  }
  return k_default;
}

std::string fit_width(std::string_view line, int columns) {
  const int limit = std::max(columns - 1, 1);
  int seen = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    if ((static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) continue;  // inside a code point
    if (seen == limit) return std::string(line.substr(0, i));
    ++seen;
  }
  return std::string(line);
}

Result<std::optional<std::string>> take_color_option(int& argc, char** argv) {
  std::optional<std::string> value;
  int out = 1;
  bool literal = false;  // after "--"
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (!literal && arg == "--color") {
      if (i + 1 >= argc) return usage_error("--color needs a value: auto, always or never");
      value = argv[++i];
      continue;
    }
    if (!literal && arg.starts_with("--color=")) {
      value = std::string(arg.substr(std::strlen("--color=")));
      continue;
    }
    if (arg == "--") literal = true;
    argv[out++] = argv[i];
  }
  argc = out;
  argv[argc] = nullptr;
  return value;
}

}  // namespace grpcdx::report
