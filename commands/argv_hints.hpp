// Hints for command lines written the way other tools take them: grpcurl's single-dash long
// flags (`-plaintext`) and its order (flags, target, then the verb: `-plaintext HOST list`).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

namespace grpcdx::commands {

// When argv[1] is not a command but a later word is one (`grpcdx -plaintext HOST list`), the
// same line with the command first and single-dash long flags corrected, for an error line;
// nullopt otherwise. `commands` are the subcommand names; `long_flags` of the command found
// are the names without "--" that a single dash may stand for.
std::optional<std::string> reordered_command_line(const std::vector<std::string_view>& args,
                                                  const std::vector<std::string_view>& commands,
                                                  const std::vector<std::string>& long_flags);

// "did you mean --plaintext?" for each word of `args` written with one dash whose name (before
// any '=') is one of `long_flags`; empty when there is none. Joined with "; ".
std::string single_dash_hints(const std::vector<std::string_view>& args, const std::vector<std::string>& long_flags);

// The long option names (without "--") of subcommand `command` of the full definition, or of
// the root when `command` is empty or unknown.
std::vector<std::string> long_flag_names(CLI::App& full_app, std::string_view command);

}  // namespace grpcdx::commands
