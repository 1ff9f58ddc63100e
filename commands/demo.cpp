// `grpcdx demo` (being written in this session).
#include "commands/command.hpp"

namespace grpcdx::commands {

void register_demo(CLI::App& app, CommandSlot& slot) {
  auto* cmd = app.add_subcommand("demo", "demo");
  cmd->callback([&slot] { slot.run = [](Io&) -> Result<int> { return local_error("not built yet"); }; });
}

}  // namespace grpcdx::commands
