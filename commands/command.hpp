// What every subcommand file provides: a register_x(CLI::App&, CommandSlot&) that declares the
// flags and, when the subcommand is chosen, puts its run into the slot.
#pragma once

#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/error.hpp"
#include "core/io.hpp"

namespace grpcdx::commands {

// The run of the chosen subcommand; main() calls it once, after parsing.
struct CommandSlot {
  std::function<Result<int>(Io&)> run;
};

void register_list(CLI::App& app, CommandSlot& slot);
void register_describe(CLI::App& app, CommandSlot& slot);
void register_call(CLI::App& app, CommandSlot& slot);
void register_replay(CLI::App& app, CommandSlot& slot);
void register_probe(CLI::App& app, CommandSlot& slot);
void register_conn(CLI::App& app, CommandSlot& slot);
void register_health(CLI::App& app, CommandSlot& slot);
void register_chaos(CLI::App& app, CommandSlot& slot);
void register_interop(CLI::App& app, CommandSlot& slot);
void register_bench(CLI::App& app, CommandSlot& slot);
void register_compat(CLI::App& app, CommandSlot& slot);
void register_channelz(CLI::App& app, CommandSlot& slot);
void register_serve(CLI::App& app, CommandSlot& slot);
void register_demo(CLI::App& app, CommandSlot& slot);
void register_version(CLI::App& app, CommandSlot& slot);
void register_completion(CLI::App& app, CommandSlot& slot);
void register_help(CLI::App& app, CommandSlot& slot);

// The subcommand names, in the order `grpcdx --help` lists them.
std::vector<std::string_view> command_names();

// One page of docs/ (docs/NAME.md), embedded in the binary at build time (cmake/embed_docs.cmake),
// so `grpcdx help` and the man page are rendered from the same text as the docs.
struct DocPage {
  std::string_view name;      // "bench"
  std::string_view markdown;  // the whole file
};
// Every embedded page, in the order of the registry.
std::span<const DocPage> doc_pages();

// Builds the whole command-line definition (used by the completion generator and demo).
void register_all(CLI::App& app, CommandSlot& slot);

// Builds what parsing `argv` needs: only the subcommand argv[1] names, or everything when
// argv[1] is not a command (help, errors).
void register_for(CLI::App& app, CommandSlot& slot, int argc, const char* const* argv);

}  // namespace grpcdx::commands
