// The whole command-line definition: every subcommand, in the order `grpcdx --help` lists them.
#include <array>
#include <optional>
#include <string_view>
#include <vector>

#include "commands/command.hpp"
#include "commands/common_flags.hpp"

namespace grpcdx::commands {

namespace {

struct Entry {
  std::string_view name;
  void (*add)(CLI::App&, CommandSlot&);
  // The command declares its options through MentionedOptions, so register_for may declare only
  // those the command line names (start-up of the short commands, issue 2).
  bool mentioned_only = false;
};

constexpr std::array k_commands = {
    Entry{"list", register_list, true},   Entry{"describe", register_describe, true},
    Entry{"call", register_call, true},   Entry{"replay", register_replay},
    Entry{"probe", register_probe},       Entry{"conn", register_conn},
    Entry{"health", register_health},     Entry{"chaos", register_chaos},
    Entry{"interop", register_interop},   Entry{"bench", register_bench},
    Entry{"compat", register_compat, true},  Entry{"channelz", register_channelz},
    Entry{"serve", register_serve},       Entry{"demo", register_demo},
    Entry{"completion", register_completion}, Entry{"version", register_version},
    Entry{"help", register_help},
};

void prepare_root(CLI::App& app) {
  app.require_subcommand(0, 1);
  if (MentionedOptions::declares("--help-all"))
    app.set_help_all_flag("--help-all", "Show help for every command");
  // Declared for --help and the completions only: main() takes --color out of the command line
  // before parsing, wherever it stands (report::take_color_option).
  if (!MentionedOptions::declares("--color")) return;
  app.add_option("--color", CLI::callback_t([](const CLI::results_t&) { return true; }),
                 "When to colour output: auto (on a terminal, unless NO_COLOR is set), always, never")
      ->type_name("WHEN")
      ->check(CLI::IsMember({"auto", "always", "never"}));
}

}  // namespace

std::vector<std::string_view> command_names() {
  std::vector<std::string_view> names;
  for (const auto& entry : k_commands) names.push_back(entry.name);
  return names;
}

void register_all(CLI::App& app, CommandSlot& slot) {
  prepare_root(app);
  for (const auto& entry : k_commands) entry.add(app, slot);
}

void register_for(CLI::App& app, CommandSlot& slot, int argc, const char* const* argv) {
  // Declaring every subcommand's flags costs more than a short command's own work, so when the
  // first argument names a command only that one is declared. Anything else (no command, a
  // root flag such as --help, a typo) gets the whole definition, so help and errors are complete.
  if (argc >= 2) {
    std::string_view first = argv[1];
    for (const auto& entry : k_commands) {
      if (entry.name == first) {
        std::optional<MentionedOptions> mentioned;
        if (entry.mentioned_only) mentioned.emplace(argc, argv);
        prepare_root(app);
        entry.add(app, slot);
        return;
      }
    }
  }
  register_all(app, slot);
}

}  // namespace grpcdx::commands
