// The whole command-line definition: every subcommand, in the order `grpcdx --help` lists them.
#include "commands/command.hpp"

namespace grpcdx::commands {

void register_all(CLI::App& app, CommandSlot& slot) {
  app.require_subcommand(0, 1);
  app.set_help_all_flag("--help-all", "Show help for every command");
  register_list(app, slot);
  register_describe(app, slot);
  register_call(app, slot);
  register_replay(app, slot);
  register_probe(app, slot);
  register_health(app, slot);
  register_chaos(app, slot);
  register_interop(app, slot);
  register_serve(app, slot);
  register_demo(app, slot);
  register_completion(app, slot);
  register_version(app, slot);
}

}  // namespace grpcdx::commands
