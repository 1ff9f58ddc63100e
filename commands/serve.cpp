// `grpcdx serve` (being written in this session).
#include "commands/command.hpp"

namespace grpcdx::commands {

void register_serve(CLI::App& app, CommandSlot& slot) {
  auto* cmd = app.add_subcommand("serve", "serve");
  cmd->callback([&slot] { slot.run = [](Io&) -> Result<int> { return local_error("not built yet"); }; });
}

}  // namespace grpcdx::commands
