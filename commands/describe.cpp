// `grpcdx describe` (being written in this session).
#include "commands/command.hpp"

namespace grpcdx::commands {

void register_describe(CLI::App& app, CommandSlot& slot) {
  auto* cmd = app.add_subcommand("describe", "describe");
  cmd->callback([&slot] { slot.run = [](Io&) -> Result<int> { return local_error("not built yet"); }; });
}

}  // namespace grpcdx::commands
