// `grpcdx completion bash|zsh|fish`: prints a shell completion script generated from the real
// CLI11 definition (register_all), so completions cannot drift from the flags.
#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "commands/command.hpp"

namespace grpcdx::commands {

namespace {

// What the value of an option (or a positional) completes to.
enum class ValueKind {
  none,      // a flag: takes no value
  any,       // free text: nothing to complete
  file,      // a file name
  dir,       // a directory name
  at_file,   // a literal, or @FILE (completes file names after '@')
  choices,   // one of a fixed set (CLI::IsMember)
};

struct OptionModel {
  std::vector<std::string> shorts;  // "-H"
  std::vector<std::string> longs;   // "--header"
  std::string name;                 // positionals: their name
  std::string description;
  ValueKind value = ValueKind::none;
  std::vector<std::string> choices;
  bool repeatable = false;
  bool required = false;

  std::vector<std::string> names() const {
    std::vector<std::string> all = shorts;
    all.insert(all.end(), longs.begin(), longs.end());
    return all;
  }
};

struct CommandModel {
  std::string name;  // empty for the top level
  std::string description;
  std::vector<OptionModel> options;
  std::vector<OptionModel> positionals;
};

struct CliModel {
  CommandModel top;
  std::vector<CommandModel> commands;
};

// Options whose values are paths. Options declared elsewhere may also opt in by setting
// ->type_name("FILE") or ->type_name("DIR") (or an ExistingFile/ExistingDirectory check).
const std::set<std::string_view> k_file_options = {
    "--proto",    "--protoset", "--cacert",      "--cert",        "--key",  "--tls-cert",
    "--tls-key",  "--client-ca", "--listen-cert", "--listen-key", "--in",   "--record",
    "--rules",    "--protoset-out"};
const std::set<std::string_view> k_dir_options = {"--import-path"};
const std::set<std::string_view> k_at_file_options = {"--data"};

// The {a,b,c} set of an IsMember check, as it appears in the option's type name
// ("TEXT:{text,json}").
std::vector<std::string> member_choices(const std::string& type_name) {
  auto open = type_name.find(":{");
  if (open == std::string::npos) return {};
  auto close = type_name.find('}', open);
  if (close == std::string::npos) return {};
  std::vector<std::string> out;
  std::string_view body(type_name.data() + open + 2, close - open - 2);
  while (!body.empty()) {
    auto comma = body.find(',');
    out.emplace_back(body.substr(0, comma));
    if (comma == std::string_view::npos) break;
    body.remove_prefix(comma + 1);
  }
  return out;
}

OptionModel model_option(const CLI::Option& opt) {
  OptionModel m;
  for (const auto& s : opt.get_snames()) m.shorts.push_back("-" + s);
  for (const auto& l : opt.get_lnames()) m.longs.push_back("--" + l);
  m.name = opt.get_name(true);
  m.description = opt.get_description();
  m.required = opt.get_required();
  // add_flag() declares options that expect no value (expected 0).
  m.repeatable = opt.get_items_expected_max() > 1 ||
                 opt.get_multi_option_policy() == CLI::MultiOptionPolicy::TakeAll;
  if (opt.get_expected_max() == 0) {
    m.value = ValueKind::none;
    return m;
  }
  const std::string type_name = opt.get_type_name();
  m.choices = member_choices(type_name);
  auto named = [&](const std::set<std::string_view>& set) {
    return std::any_of(m.longs.begin(), m.longs.end(), [&](const auto& l) { return set.contains(l); });
  };
  // "FILE" / "DIR" as the type name or as a check's description ("TEXT:FILE").
  auto typed = [&](std::string_view word) {
    return type_name == word || type_name.starts_with(std::string(word) + ":") ||
           type_name.find(":" + std::string(word)) != std::string::npos;
  };
  if (!m.choices.empty()) m.value = ValueKind::choices;
  else if (typed("FILE") || named(k_file_options)) m.value = ValueKind::file;
  else if (typed("DIR") || named(k_dir_options)) m.value = ValueKind::dir;
  else if (named(k_at_file_options)) m.value = ValueKind::at_file;
  else m.value = ValueKind::any;
  return m;
}

CommandModel model_command(CLI::App& app) {
  CommandModel c;
  c.name = app.get_name();
  c.description = app.get_description();
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->get_positional() && !opt->nonpositional()) c.positionals.push_back(model_option(*opt));
    else c.options.push_back(model_option(*opt));
  }
  return c;
}

CliModel build_model() {
  CLI::App app{"grpcdx", "grpcdx"};
  CommandSlot slot;
  register_all(app, slot);
  CliModel model;
  model.top = model_command(app);
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
    model.commands.push_back(model_command(*sub));
  return model;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

// Every option name of `c` that takes a value of `kind`.
std::vector<std::string> names_of_kind(const CommandModel& c, ValueKind kind) {
  std::vector<std::string> out;
  for (const auto& o : c.options)
    if (o.value == kind)
      for (const auto& n : o.names()) out.push_back(n);
  return out;
}

std::vector<std::string> all_option_names(const CommandModel& c) {
  std::vector<std::string> out;
  for (const auto& o : c.options)
    for (const auto& n : o.names()) out.push_back(n);
  return out;
}

// --- bash ----------------------------------------------------------------------------------

std::string bash_script(const CliModel& m) {
  std::vector<std::string> command_names;
  for (const auto& c : m.commands) command_names.push_back(c.name);
  std::vector<std::string> top_words = command_names;
  for (const auto& n : all_option_names(m.top)) top_words.push_back(n);

  std::string s;
  s += "# bash completion for grpcdx\n";
  s += "# Generated by `grpcdx completion bash` from the command-line definition; do not edit.\n";
  s += "# Use: source this file, or install it as\n";
  s += "# ~/.local/share/bash-completion/completions/grpcdx\n\n";
  // One completion a line, so file names with spaces survive; -W lists split at blanks.
  s += "_grpcdx_compgen() {\n"
       "  mapfile -t COMPREPLY < <(compgen \"$@\")\n"
       "}\n\n";
  s += "# -d @FILE: complete file names after the '@'.\n"
       "_grpcdx_at_files() {\n"
       "  [[ $1 == @* ]] || return 0\n"
       "  local f\n"
       "  COMPREPLY=()\n"
       "  while IFS= read -r f; do\n"
       "    [[ -d $f ]] && f+=/\n"
       "    COMPREPLY+=(\"@$f\")\n"
       "  done < <(compgen -f -- \"${1#@}\")\n"
       "  [[ ${#COMPREPLY[@]} == 1 && ${COMPREPLY[0]} == */ ]] && compopt -o nospace 2>/dev/null\n"
       "  return 0\n"
       "}\n\n";
  s += "_grpcdx() {\n"
       "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"\" cmd=\"\" i\n"
       "  (( COMP_CWORD > 0 )) && prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
       "  # --option=value: bash splits the word at '='.\n"
       "  if [[ $cur == = ]]; then\n"
       "    cur=\"\"\n"
       "  elif [[ $prev == = ]] && (( COMP_CWORD > 1 )); then\n"
       "    prev=\"${COMP_WORDS[COMP_CWORD-2]}\"\n"
       "  fi\n"
       "  for (( i = 1; i < COMP_CWORD; i++ )); do\n"
       "    case \"${COMP_WORDS[i]}\" in\n";
  s += fmt::format("      {}) cmd=\"${{COMP_WORDS[i]}}\"; break ;;\n", join(command_names, "|"));
  s += "    esac\n"
       "  done\n\n"
       "  case \"$cmd\" in\n";
  s += fmt::format("    \"\")\n      _grpcdx_compgen -W \"{}\" -- \"$cur\"\n      ;;\n",
                   join(top_words, " "));
  for (const auto& c : m.commands) {
    s += fmt::format("    {})\n", c.name);
    std::string value_cases;
    auto add_case = [&](const std::vector<std::string>& names, const std::string& action) {
      if (!names.empty()) value_cases += fmt::format("        {}) {}; return ;;\n", join(names, "|"), action);
    };
    add_case(names_of_kind(c, ValueKind::file), "compopt -o filenames 2>/dev/null; _grpcdx_compgen -f -- \"$cur\"");
    add_case(names_of_kind(c, ValueKind::dir), "compopt -o filenames 2>/dev/null; _grpcdx_compgen -d -- \"$cur\"");
    add_case(names_of_kind(c, ValueKind::at_file), "_grpcdx_at_files \"$cur\"");
    for (const auto& o : c.options)
      if (o.value == ValueKind::choices)
        add_case(o.names(), fmt::format("_grpcdx_compgen -W \"{}\" -- \"$cur\"", join(o.choices, " ")));
    add_case(names_of_kind(c, ValueKind::any), "COMPREPLY=()");
    if (!value_cases.empty()) s += "      case \"$prev\" in\n" + value_cases + "      esac\n";
    std::vector<std::string> positional_choices;
    for (const auto& p : c.positionals)
      positional_choices.insert(positional_choices.end(), p.choices.begin(), p.choices.end());
    s += "      if [[ $cur == -* ]]; then\n";
    s += fmt::format("        _grpcdx_compgen -W \"{}\" -- \"$cur\"\n", join(all_option_names(c), " "));
    if (!positional_choices.empty()) {
      s += "      else\n";
      s += fmt::format("        _grpcdx_compgen -W \"{}\" -- \"$cur\"\n", join(positional_choices, " "));
    }
    s += "      fi\n      ;;\n";
  }
  s += "  esac\n"
       "  return 0\n"
       "}\n\n"
       "complete -F _grpcdx grpcdx\n";
  return s;
}

// --- zsh -----------------------------------------------------------------------------------

// Text inside an _arguments [description] (quoted for the shell later, by zsh_quote).
std::string zsh_description(std::string_view text) {
  std::string out;
  for (char ch : text) {
    if (ch == '[' || ch == ']' || ch == '\\') { out += '\\'; out += ch; }
    else out += ch;
  }
  return out;
}

std::string zsh_quote(std::string_view text) {
  std::string out = "'";
  for (char ch : text) {
    if (ch == '\'') out += "'\\''";
    else out += ch;
  }
  return out + "'";
}

std::string zsh_action(const OptionModel& o) {
  switch (o.value) {
    case ValueKind::file: return "_files";
    case ValueKind::dir: return "_files -/";
    case ValueKind::at_file: return "_grpcdx_at_files";
    case ValueKind::choices: return "(" + join(o.choices, " ") + ")";
    case ValueKind::any:
    case ValueKind::none: return " ";
  }
  return " ";
}

// `exclusions` overrides the default exclusion list (the option's other names).
std::string zsh_option_spec(const OptionModel& o, const std::string& exclusions = {}) {
  std::vector<std::string> names = o.names();
  std::string desc = "[" + zsh_description(o.description) + "]";
  std::string value;
  if (o.value != ValueKind::none) {
    std::string label = o.longs.empty() ? o.name : o.longs.front().substr(2);
    value = ":" + label + ":" + zsh_action(o);
  }
  std::string prefix = exclusions;
  if (prefix.empty() && o.repeatable) prefix = "*";
  else if (prefix.empty() && names.size() > 1) prefix = "(" + join(names, " ") + ")";
  if (names.size() == 1) return zsh_quote(prefix + names.front() + desc + value);
  return zsh_quote(prefix) + "{" + join(names, ",") + "}" + zsh_quote(desc + value);
}

std::string zsh_positional_spec(const OptionModel& p) {
  std::string colons = p.required ? ":" : "::";
  if (p.repeatable) colons = "*:";
  return zsh_quote(colons + p.name + ":" + zsh_action(p));
}

std::string zsh_function_name(const std::string& command) {
  std::string out = "_grpcdx_";
  for (char ch : command) out += (ch == '-' ? '_' : ch);
  return out;
}

std::string zsh_script(const CliModel& m) {
  std::string s;
  s += "#compdef grpcdx\n";
  s += "# zsh completion for grpcdx\n";
  s += "# Generated by `grpcdx completion zsh` from the command-line definition; do not edit.\n";
  s += "# Use: put this file, named _grpcdx, in a directory of $fpath before compinit runs.\n\n";
  s += "# -d @FILE: complete file names after the '@'.\n"
       "_grpcdx_at_files() {\n"
       "  if compset -P '@'; then\n"
       "    _files\n"
       "  else\n"
       "    _message 'JSON, or @FILE, or @- for stdin'\n"
       "  fi\n"
       "}\n\n";
  s += "_grpcdx_commands() {\n  local -a commands\n  commands=(\n";
  for (const auto& c : m.commands) s += "    " + zsh_quote(c.name + ":" + c.description) + "\n";
  s += "  )\n  _describe -t commands 'grpcdx command' commands\n}\n\n";
  for (const auto& c : m.commands) {
    s += zsh_function_name(c.name) + "() {\n  _arguments -s -S";
    for (const auto& o : c.options) s += " \\\n    " + zsh_option_spec(o);
    for (const auto& p : c.positionals) s += " \\\n    " + zsh_positional_spec(p);
    s += "\n}\n\n";
  }
  s += "_grpcdx() {\n"
       "  local curcontext=\"$curcontext\" state line\n"
       "  typeset -A opt_args\n"
       "  _arguments -C";
  // The top-level options (--help, --help-all) exclude everything else.
  for (const auto& o : m.top.options) s += " \\\n    " + zsh_option_spec(o, "(- *)");
  s += " \\\n    '1: :_grpcdx_commands' \\\n    '*:: :->args' && return 0\n"
       "  case $state in\n"
       "    args)\n"
       "      curcontext=\"${curcontext%:*:*}:grpcdx-$words[1]:\"\n"
       "      case $words[1] in\n";
  for (const auto& c : m.commands) s += fmt::format("        {}) {} ;;\n", c.name, zsh_function_name(c.name));
  s += "      esac\n"
       "      ;;\n"
       "  esac\n"
       "}\n\n"
       "_grpcdx \"$@\"\n";
  return s;
}

// --- fish ----------------------------------------------------------------------------------

std::string fish_quote(std::string_view text) {
  std::string out = "'";
  for (char ch : text) {
    if (ch == '\'' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "'";
}

std::string fish_option_line(const std::string& condition, const OptionModel& o) {
  std::string line = "complete -c grpcdx -n " + fish_quote(condition);
  for (const auto& n : o.shorts) {
    // fish's -s takes one character; longer single-dash names are -o (old-style) options.
    line += (n.size() == 2 ? " -s " : " -o ") + n.substr(1);
  }
  for (const auto& n : o.longs) line += " -l " + n.substr(2);
  switch (o.value) {
    case ValueKind::none: break;
    case ValueKind::any: line += " -x"; break;
    case ValueKind::file: line += " -r -F"; break;
    case ValueKind::dir: line += " -x -a '(__fish_complete_directories)'"; break;
    case ValueKind::at_file: line += " -x -a '(__grpcdx_at_files)'"; break;
    case ValueKind::choices: line += " -x -a " + fish_quote(join(o.choices, " ")); break;
  }
  if (!o.description.empty()) line += " -d " + fish_quote(o.description);
  return line + "\n";
}

std::string fish_script(const CliModel& m) {
  std::string s;
  s += "# fish completion for grpcdx\n";
  s += "# Generated by `grpcdx completion fish` from the command-line definition; do not edit.\n";
  s += "# Use: copy this file to ~/.config/fish/completions/grpcdx.fish\n\n";
  s += "# -d @FILE: complete file names after the '@'.\n"
       "function __grpcdx_at_files\n"
       "    set -l token (commandline -ct)\n"
       "    string match -q -- '@*' $token; or return 0\n"
       "    for path in (__fish_complete_path (string sub -s 2 -- $token))\n"
       "        echo @$path\n"
       "    end\n"
       "end\n\n";
  s += "complete -c grpcdx -e\n";
  s += "complete -c grpcdx -f\n";
  for (const auto& o : m.top.options) s += fish_option_line("__fish_use_subcommand", o);
  for (const auto& c : m.commands)
    s += "complete -c grpcdx -n __fish_use_subcommand -a " + c.name + " -d " + fish_quote(c.description) + "\n";
  for (const auto& c : m.commands) {
    s += "\n";
    std::string condition = "__fish_seen_subcommand_from " + c.name;
    for (const auto& o : c.options) s += fish_option_line(condition, o);
    for (const auto& p : c.positionals)
      if (!p.choices.empty())
        s += "complete -c grpcdx -n " + fish_quote(condition) + " -a " + fish_quote(join(p.choices, " ")) +
             "\n";
  }
  return s;
}

}  // namespace

struct CompletionOptions {
  std::string shell;  // bash, zsh or fish
};

// Prints the completion script for `opt.shell`. Fails (usage) for any other shell.
Result<int> run_completion(const CompletionOptions& opt, Io& io) {
  CliModel model = build_model();
  if (opt.shell == "bash") io.out << bash_script(model);
  else if (opt.shell == "zsh") io.out << zsh_script(model);
  else if (opt.shell == "fish") io.out << fish_script(model);
  else return usage_error(fmt::format("unknown shell '{}'", opt.shell), "use bash, zsh or fish");
  return 0;
}

void register_completion(CLI::App& app, CommandSlot& slot) {
  auto* cmd = app.add_subcommand("completion", "Print a shell completion script (bash, zsh or fish)");
  auto opt = std::make_shared<CompletionOptions>();
  cmd->add_option("shell", opt->shell, "The shell to complete for")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));
  cmd->callback([&slot, opt] { slot.run = [opt](Io& io) { return run_completion(*opt, io); }; });
}

}  // namespace grpcdx::commands
