// `grpcdx help [COMMAND]` and `grpcdx help --man`: the manual, rendered from the docs/ pages
// embedded at build time, as terminal text or as the grpcdx(1) man page.
#include <algorithm>
#include <cctype>
#include <string>

#include <fmt/format.h>

#include "commands/command.hpp"
#include "report/markdown.hpp"
#include "rpc/exit_codes.hpp"

namespace grpcdx::commands {

struct HelpOptions {
  std::string command;  // empty: the overview
  bool man = false;
};

namespace {

namespace md = report::markdown;

constexpr int k_max_width = 100;  // longer lines are hard to read, however wide the terminal

// The one-line description of each command, from the CLI definition itself.
struct CommandInfo {
  std::string name;
  std::string description;
};

std::string app_description(const CLI::App& app) {
  std::string d = app.get_description();
  if (auto colon = d.find(": "); colon != std::string::npos) d = d.substr(colon + 2);  // "grpcdx: ..."
  return d;
}

std::vector<CommandInfo> command_infos(const CLI::App& app) {
  std::vector<CommandInfo> out;
  const auto subs = app.get_subcommands([](const CLI::App*) { return true; });
  for (auto name : command_names()) {
    auto sub = std::find_if(subs.begin(), subs.end(), [&](const CLI::App* s) { return s->get_name() == name; });
    out.push_back({std::string(name), sub != subs.end() ? (*sub)->get_description() : std::string()});
  }
  return out;
}

const DocPage* find_page(std::string_view name) {
  for (const auto& page : doc_pages())
    if (page.name == name) return &page;
  return nullptr;
}

std::string without_title(std::string_view page) {
  if (page.starts_with("# ")) {
    auto nl = page.find('\n');
    page.remove_prefix(nl == std::string_view::npos ? page.size() : nl + 1);
  }
  return std::string(page);
}

// A command's page as it is shown: "grpcdx NAME" as title, the CLI's one-line description, then
// the page without its own title. The same markdown feeds the text and the man section.
std::string command_markdown(const CommandInfo& info, const DocPage& page, bool intro_only) {
  std::string body = without_title(page.markdown);
  if (intro_only) body = md::split_sections(body).front().body;
  std::string description = info.description;
  if (!description.empty() && description.back() != '.') description += ".";
  return fmt::format("# grpcdx {}\n\n{}\n\n{}", info.name, description, body);
}

// The synopsis lines (shown as code) and the description of grpcdx as a whole.
std::string synopsis_markdown() {
  return "```\n"
         "grpcdx [--color auto|always|never] COMMAND [ARGS...]\n"
         "grpcdx help [COMMAND]\n"
         "grpcdx COMMAND --help\n"
         "```\n";
}

std::string description_markdown(const std::vector<CommandInfo>& commands, const std::string& what) {
  std::string out = fmt::format(
      "`grpcdx` is one binary to {}: list and describe what a server offers, call any method with "
      "JSON in and out, probe a connection layer by layer, catch and replay stalled streams, put a "
      "fault-injecting proxy in front of a service, load-test it and run the interop cases.\n\n"
      "## Commands\n\n| command | what it does |\n|---|---|\n",
      what);
  for (const auto& c : commands) out += fmt::format("| `{}` | {} |\n", c.name, c.description);
  out += "\n`grpcdx help COMMAND` prints the manual of a command (the same text as `docs/COMMAND.md` and "
         "the man page); `grpcdx COMMAND --help` lists its flags.\n";
  return out;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string man_page(const CLI::App& app) {
  const auto commands = command_infos(app);
  const std::string what = app_description(app);
  std::string out;
  out += fmt::format(".TH GRPCDX 1 \"\" \"grpcdx {}\" \"User Commands\"\n", GRPCDX_VERSION);
  // No hyphenation and ragged-right text: flags and JSON keys stay whole, as in the terminal.
  out += ".nh\n.ad l\n";
  out += ".SH NAME\ngrpcdx \\- " + md::roff_escape(what) + "\n";
  out += ".SH SYNOPSIS\n" + md::to_roff(synopsis_markdown());
  out += ".SH DESCRIPTION\n" + md::to_roff(description_markdown(commands, what));
  std::vector<md::Section> general;  // the sections of docs/help.md, as top-level man sections
  for (const auto& info : commands) {
    const DocPage* page = find_page(info.name);
    if (!page) continue;
    const bool is_help = info.name == "help";
    out += fmt::format(".SH \"GRPCDX {}\"\n", upper(info.name));
    out += md::to_roff(command_markdown(info, *page, is_help));
    if (is_help) general = md::split_sections(without_title(page->markdown));
  }
  for (size_t i = 1; i < general.size(); ++i)
    out += ".SH \"" + upper(md::roff_escape(md::plain(general[i].title))) + "\"\n" + md::to_roff(general[i].body);
  out += ".SH \"SEE ALSO\"\n" +
         md::to_roff("`grpcdx help COMMAND` prints one section of this page; `grpcdx COMMAND --help` lists a "
                     "command's flags. The same pages, as markdown, are `docs/` in the grpcdx source tree.\n");
  return out;
}

Result<int> run_help(const HelpOptions& opt, Io& io) {
  CLI::App app{"grpcdx: diagnose gRPC services and inject faults into them", "grpcdx"};
  CommandSlot slot;
  register_all(app, slot);
  if (opt.man) {
    if (!opt.command.empty()) return usage_error("--man prints the whole manual: give no command with it");
    io.out << man_page(app) << std::flush;
    return k_exit_ok;
  }
  md::TextOptions text;
  text.width = std::min(io.out_columns, k_max_width);
  text.color = io.color_out;
  const auto commands = command_infos(app);
  if (opt.command.empty()) {
    std::string page = "# grpcdx\n\n" + synopsis_markdown() + "\n" +
                       description_markdown(commands, app_description(app));
    if (const DocPage* help = find_page("help")) {
      auto sections = md::split_sections(without_title(help->markdown));
      for (size_t i = 1; i < sections.size(); ++i) page += "\n## " + sections[i].title + "\n" + sections[i].body;
    }
    io.out << md::to_text(page, text) << std::flush;
    return k_exit_ok;
  }
  auto info = std::find_if(commands.begin(), commands.end(), [&](const auto& c) { return c.name == opt.command; });
  const DocPage* page = find_page(opt.command);
  if (info == commands.end() || !page)
    return local_error(fmt::format("this grpcdx was built without a manual page for '{}'", opt.command),
                       "docs/" + opt.command + ".md is embedded at build time: add it to grpcdx_doc_pages in CMakeLists.txt");
  io.out << md::to_text(command_markdown(*info, *page, false), text) << std::flush;
  return k_exit_ok;
}

}  // namespace

void register_help(CLI::App& app, CommandSlot& slot) {
  auto opt = std::make_shared<HelpOptions>();
  auto* cmd = app.add_subcommand("help", "Show the manual of grpcdx or of one command (also as a man page)");
  std::vector<std::string> names;
  for (auto name : command_names()) names.emplace_back(name);
  // IsMember: an unknown name is a usage error, and the completions offer the names.
  cmd->add_option("command", opt->command, "The command to show the manual of")->check(CLI::IsMember(names));
  cmd->add_flag("--man", opt->man, "Print the whole manual as a man page (roff): grpcdx help --man > grpcdx.1");
  cmd->callback([opt, &slot] { slot.run = [opt](Io& io) { return run_help(*opt, io); }; });
}

}  // namespace grpcdx::commands
