// Flag groups shared by the subcommands: connection, schema source and output.
#pragma once

#include <climits>
#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/duration.hpp"
#include "core/error.hpp"
#include "core/io.hpp"
#include "net/channel.hpp"
#include "report/output_format.hpp"
#include "schema/schema_source.hpp"

namespace grpcdx::commands {

// The --max-msg-size of every command but `chaos` when the flag is not given: 4 MiB, as gRPC's
// own clients and grpcurl.
inline constexpr int k_default_max_msg_size = 4 * 1024 * 1024;

// The raw text of the connection flags, converted once by to_connection_options().
struct ConnectionFlags {
  std::string target;
  bool plaintext = false;
  bool insecure = false;
  std::string cacert, cert, key, servername, authority;
  std::vector<std::string> headers;
  std::vector<std::string> rpc_headers;      // --rpc-header: the command's own RPCs only
  std::vector<std::string> reflect_headers;  // --reflect-header: server reflection only
  std::string connect_timeout = "10s";
  std::string timeout;  // empty: the command's default
  std::string keepalive;
  std::string max_msg_size;
  std::string user_agent;     // --user-agent
  bool expand_headers = false;  // --expand-headers: ${NAME} in header values from the environment
  std::string max_time;       // --max-time (one-shot commands only; add_max_time_flag)
  int default_max_msg_size = k_default_max_msg_size;  // without --max-msg-size; 0: no limit (chaos)
  bool show_secrets = false;
};

struct OutputFlags {
  std::string output = "text";
  bool verbose = false;
};

// Start-up (issue 2): each CLI11 option costs thousands of instructions to declare, more than a
// short command's own work. While a MentionedOptions is alive (register_for makes one for the
// commands that opt in), declares() is false for an option none of whose names the command line
// mentions, and the add_*_flags below skip it. CLI11 treats an undeclared option exactly like an
// unknown one, so a definition that holds every option the line names parses it exactly like the
// whole definition. The filter declares everything (declares() always true) when the line asks for
// help (-h, --help, --help-all), so help is complete; positionals are always declared.
class MentionedOptions {
 public:
  // `argv` as main() received it (after --color was taken out).
  MentionedOptions(int argc, const char* const* argv);
  ~MentionedOptions();
  MentionedOptions(const MentionedOptions&) = delete;
  MentionedOptions& operator=(const MentionedOptions&) = delete;

  // Whether an option named `names` ("-o,--output", "--plaintext") is to be declared: true when
  // no filter is alive.
  static bool declares(std::string_view names);

 private:
  std::string m_short;                   // every letter of the single-dash words
  std::vector<std::string_view> m_long;  // the double-dash words without "--" and "=VALUE"
  bool m_everything = false;
};

// Adds TARGET (positional, required) and the connection flags of SPEC.md.
void add_connection_flags(CLI::App* app, ConnectionFlags& flags);

// Adds --max-time DUR: a bound on the whole command (one-shot commands: list, describe, call,
// health, probe, interop).
void add_max_time_flag(CLI::App* app, ConnectionFlags& flags);

// Adds the connection flags of add_connection_flags with `--target` (an option, not required by
// CLI11: commands that can run without it check it themselves) instead of the positional TARGET.
// For commands that talk to an upstream while serving, like `chaos`.
void add_upstream_flags(CLI::App* app, ConnectionFlags& flags);

// Adds --proto, -I/--import-path and --protoset.
void add_schema_flags(CLI::App* app, schema::SchemaOptions& flags);

// Adds --protoset-out FILE: save the schema the command used (with its imports) as a
// FileDescriptorSet, for --protoset where reflection is off (list, describe, call).
void add_protoset_out_flag(CLI::App* app, std::string& path);

// Adds -o/--output (one of `formats`) and -v/--verbose.
void add_output_flags(CLI::App* app, OutputFlags& flags,
                      const std::vector<std::string>& formats = {"text", "json"});

// Validates and converts the connection flags. `default_timeout` is the command's RPC
// deadline when --timeout is not given (empty: none). Prints one "warning: ..." line to
// `warnings` when --plaintext or --insecure is used toward a target that is not loopback.
// With --max-time it arms the whole command's bound (arm_max_time). Fails (usage) on bad
// values and, with --expand-headers, on a ${NAME} that is not set.
// A `user-agent` header (-H or --rpc-header) becomes the channel's user-agent prefix, as
// --user-agent: gRPC writes that header itself and would drop the metadata.
Result<net::ConnectionOptions> to_connection_options(const ConnectionFlags& flags,
                                                     const std::string& default_timeout = "",
                                                     std::ostream& warnings = std::cerr);

report::OutputFormat output_format(const OutputFlags& flags);

// From now on the process ends after `limit`: one error line naming the step that was running
// (current_step()) and exit 68 (DEADLINE_EXCEEDED), wherever it is. Once per process.
void arm_max_time(Duration limit, std::string limit_text);

// arm_max_time for --max-time when it is given (to_connection_options calls it; a command that
// connects to nothing calls it itself). Fails (usage) on a bad duration.
Result<void> arm_max_time_flag(const ConnectionFlags& flags);

// `value` with each ${NAME} replaced by the environment variable NAME. Fails (usage) naming a
// variable that is not set, or a '${' without its '}'.
Result<std::string> expand_environment(const std::string& value);

// For -v: one "reflection: NOTE" line on io.err for each repair or substitution made to the
// schema the server's reflection sent (see ReflectionDatabase::notes).
void print_schema_notes(Io& io, const schema::SchemaSource& source);

// Parses a byte size such as "4194304", "4MB", "4MiB" or "512KB", at most 2GiB. Fails (usage).
Result<int> parse_byte_size(const std::string& text);

// CLI11 transforms for numeric flags (bad input, issue 17). CLI11 2.1 reads integers with
// strtoull, so "-5" wraps around to 2^64-5 and "99999999999999999999" saturates; these reject
// what is not in [min, max] with "expected a whole number from MIN to MAX, got '-5'" (CLI11
// puts the flag's name first; main() makes it an "error:" line, exit 2).
// whole_number: decimal digits only (no sign, no 0x, no exponent); leading zeros are dropped so
// CLI11 does not read "010" as octal.
CLI::Validator whole_number(uint64_t min, uint64_t max);
// real_number: a finite decimal number ("0.5", "1e3"); NaN and infinities are refused.
CLI::Validator real_number(double min, double max);

// Parses the value of a duration flag. Fails (usage) with parse_duration's message after the
// flag's name ("invalid --timeout: invalid duration '10': missing unit ..."), and on zero
// unless `allow_zero` ("invalid --keepalive: duration '0' must be positive (up to 100000h)").
Result<Duration> parse_flag_duration(const std::string& text, std::string_view flag, bool allow_zero = false);

// `arg` as one POSIX shell word: unchanged when it has only safe characters, else in single
// quotes (for the equivalent command lines bench and demo print).
std::string shell_quote(const std::string& arg);

}  // namespace grpcdx::commands
