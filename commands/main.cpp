// grpcdx entry point: parse the command line, run the chosen subcommand, turn its result into
// output and an exit code. The only place that catches CLI11's parse errors.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <string_view>
#include <vector>
#include <thread>

#include <absl/synchronization/mutex.h>
#include <fmt/format.h>

#include "commands/argv_hints.hpp"
#include "commands/command.hpp"
#include "commands/error_output.hpp"
#include "core/keep_until_exit.hpp"
#include "report/terminal.hpp"
#include "rpc/exit_codes.hpp"

#if defined(__SANITIZE_ADDRESS__)
namespace {

// ASan builds only (they return from main so the leak check runs): waits (at most 2 s) until
// this is the process's only thread. gRPC's threads end on their own after its shutdown; one
// still exiting holds OpenSSL's per-thread error state (904 bytes), which the leak check at exit
// then reported as leaked, about once in 30 runs under load.
void wait_until_single_threaded() {
  for (int i = 0; i < 200; ++i) {
    std::error_code ec;
    auto tasks = std::filesystem::directory_iterator("/proc/self/task", ec);
    if (ec || std::distance(tasks, std::filesystem::directory_iterator{}) <= 1) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace
#endif

int main(int argc, char** argv) {
  // gRPC core logs to stderr by default; a diagnostic tool prints its own errors instead.
  if (!std::getenv("GRPC_VERBOSITY")) setenv("GRPC_VERBOSITY", "NONE", 1);
  std::signal(SIGPIPE, SIG_IGN);
  // Debian builds abseil without NDEBUG, so every absl::Mutex lock inside gRPC runs abseil's
  // lock-order (deadlock) graph check, a debugging aid: 12 % of the chaos proxy's instructions
  // per call (docs/performance.md). It checks abseil's own users, never grpcdx's behaviour.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  // --color is global and valid anywhere on the line: it is taken out before CLI11 parses, so
  // the fast path below (declare only the named subcommand) still sees the command first.
  auto color_option = grpcdx::report::take_color_option(argc, argv);
  grpcdx::report::ColorMode color_mode = grpcdx::report::ColorMode::automatic;
  if (color_option && *color_option) {
    auto mode = grpcdx::report::parse_color_mode(**color_option);
    if (!mode) color_option = std::unexpected(mode.error());
    else color_mode = *mode;
  }
  if (!color_option) return grpcdx::commands::print_error(std::cerr, color_option.error());

  // `grpcdx --version` is `grpcdx version`.
  char version_word[] = "version";
  if (argc >= 2 && std::string_view(argv[1]) == "--version") argv[1] = version_word;
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  if (argc >= 2 && std::string_view(argv[1]) != "--help" && std::string_view(argv[1]) != "-h" &&
      std::string_view(argv[1]) != "--help-all") {
    // grpcurl's order (`-plaintext HOST list`): say the line grpcdx takes.
    const auto commands = grpcdx::commands::command_names();
    auto verb = std::find_if(args.begin(), args.end(), [&](std::string_view a) {
      return std::find(commands.begin(), commands.end(), a) != commands.end();
    });
    if (verb != args.end() && verb != args.begin()) {
      CLI::App full{"grpcdx", "grpcdx"};
      grpcdx::commands::CommandSlot unused;
      grpcdx::commands::register_all(full, unused);
      if (auto line = grpcdx::commands::reordered_command_line(
              args, commands, grpcdx::commands::long_flag_names(full, *verb))) {
        std::cerr << "error: the command comes first: " << *line << std::endl;
        return grpcdx::k_exit_usage;
      }
    }
  }

  CLI::App app{"grpcdx: diagnose gRPC services and inject faults into them", "grpcdx"};
  grpcdx::commands::CommandSlot slot;
  grpcdx::commands::register_for(app, slot, argc, argv);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::string what = e.what();
    // A grpcurl habit: long flags with one dash. Looked up in the whole definition (the parsed
    // one declares only the options the line names).
    {
      CLI::App full{"grpcdx", "grpcdx"};
      grpcdx::commands::CommandSlot unused;
      grpcdx::commands::register_all(full, unused);
      std::string_view command = app.get_subcommands().empty() ? std::string_view() : app.get_subcommands().front()->get_name();
      std::string hints = grpcdx::commands::single_dash_hints(args, grpcdx::commands::long_flag_names(full, command));
      if (!hints.empty()) what += " (" + hints + ")";
    }
    std::cerr << "error: " << what << " (see 'grpcdx " << (app.get_subcommands().empty() ? std::string("--help")
                                                                                          : app.get_subcommands().front()->get_name() + " --help")
              << "')" << std::endl;
    return grpcdx::k_exit_usage;
  }
  if (!slot.run) {
    std::cerr << app.help();
    return grpcdx::k_exit_usage;
  }
  grpcdx::Io io{std::cout, std::cerr, std::cin};
  io.out_is_tty = isatty(STDOUT_FILENO);
  io.err_is_tty = isatty(STDERR_FILENO);
  const char* no_color = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  io.color_out = grpcdx::report::use_color(color_mode, io.out_is_tty, no_color, term);
  io.color_err = grpcdx::report::use_color(color_mode, io.err_is_tty, no_color, term);
  io.out_columns = grpcdx::report::terminal_columns(STDOUT_FILENO, std::getenv("COLUMNS"));
  io.err_columns = grpcdx::report::terminal_columns(STDERR_FILENO, std::getenv("COLUMNS"));
  grpcdx::Result<int> result = slot.run(io);
  int code = result ? *result : grpcdx::commands::print_error(std::cerr, result.error());
  std::cout.flush();
  std::cerr.flush();
#if !defined(__SANITIZE_ADDRESS__)
  // Everything the user needs is written: skip tearing down channels, gRPC's threads and the
  // descriptor pools, which takes milliseconds for nothing. ASan builds exit normally so the
  // leak checker runs.
  std::fflush(nullptr);
  _exit(code);
#else
  grpcdx::release_kept_objects();
  wait_until_single_threaded();
  return code;
#endif
}
