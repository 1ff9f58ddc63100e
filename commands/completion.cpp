// `grpcdx completion` (being written in this session).
#include "commands/command.hpp"

namespace grpcdx::commands {

void register_completion(CLI::App& app, CommandSlot& slot) {
  auto* cmd = app.add_subcommand("completion", "completion");
  cmd->callback([&slot] { slot.run = [](Io&) -> Result<int> { return local_error("not built yet"); }; });
}

}  // namespace grpcdx::commands
