// Hints for grpcurl-style command lines: single-dash long flags and the verb after the target.
#include "commands/argv_hints.hpp"

#include <algorithm>

#include "commands/common_flags.hpp"

namespace grpcdx::commands {

namespace {

// The name a single-dash word stands for when written with two dashes ("-max-time=1s" ->
// "max-time"); nullopt for short flags and clusters ("-v", "-vo") and non-flags.
std::optional<std::string_view> single_dash_name(std::string_view arg) {
  if (arg.size() < 3 || arg[0] != '-' || arg[1] == '-') return std::nullopt;
  std::string_view name = arg.substr(1);
  return name.substr(0, name.find('='));
}

bool contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

std::optional<std::string> reordered_command_line(const std::vector<std::string_view>& args,
                                                  const std::vector<std::string_view>& commands,
                                                  const std::vector<std::string>& long_flags) {
  if (args.empty() || std::find(commands.begin(), commands.end(), args.front()) != commands.end())
    return std::nullopt;
  auto is_command = [&](std::string_view a) { return std::find(commands.begin(), commands.end(), a) != commands.end(); };
  auto verb = std::find_if(args.begin() + 1, args.end(), is_command);
  if (verb == args.end()) return std::nullopt;
  std::string line = "grpcdx " + std::string(*verb);
  for (auto it = args.begin(); it != args.end(); ++it) {
    if (it == verb) continue;
    std::string word(*it);
    if (auto name = single_dash_name(*it); name && contains(long_flags, *name)) word = "-" + word;
    line += " " + shell_quote(word);
  }
  return line;
}

std::string single_dash_hints(const std::vector<std::string_view>& args, const std::vector<std::string>& long_flags) {
  std::string hints;
  for (std::string_view arg : args) {
    if (arg == "--") break;
    auto name = single_dash_name(arg);
    if (!name || !contains(long_flags, *name)) continue;
    if (!hints.empty()) hints += "; ";
    hints += "did you mean --" + std::string(*name) + "?";
  }
  return hints;
}

std::vector<std::string> long_flag_names(CLI::App& full_app, std::string_view command) {
  CLI::App* app = &full_app;
  if (!command.empty()) {
    for (CLI::App* sub : full_app.get_subcommands([](CLI::App*) { return true; }))
      if (sub->get_name() == command) app = sub;
  }
  std::vector<std::string> names;
  for (const CLI::Option* option : app->get_options())
    for (const std::string& name : option->get_lnames()) names.push_back(name);
  return names;
}

}  // namespace grpcdx::commands
