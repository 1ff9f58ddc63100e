// Flag groups shared by the subcommands: connection, schema source and output.
#pragma once

#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/error.hpp"
#include "net/channel.hpp"
#include "report/output_format.hpp"
#include "schema/schema_source.hpp"

namespace grpcdx::commands {

// The raw text of the connection flags, converted once by to_connection_options().
struct ConnectionFlags {
  std::string target;
  bool plaintext = false;
  bool insecure = false;
  std::string cacert, cert, key, servername, authority;
  std::vector<std::string> headers;
  std::string connect_timeout = "10s";
  std::string timeout;  // empty: the command's default
  std::string keepalive;
  std::string max_msg_size;
  bool show_secrets = false;
};

struct OutputFlags {
  std::string output = "text";
  bool verbose = false;
};

// Adds TARGET (positional, required) and the connection flags of SPEC.md.
void add_connection_flags(CLI::App* app, ConnectionFlags& flags);

// Adds the connection flags of add_connection_flags with `--target` (an option, not required by
// CLI11: commands that can run without it check it themselves) instead of the positional TARGET.
// For commands that talk to an upstream while serving, like `chaos`.
void add_upstream_flags(CLI::App* app, ConnectionFlags& flags);

// Adds --proto, -I/--import-path and --protoset.
void add_schema_flags(CLI::App* app, schema::SchemaOptions& flags);

// Adds -o/--output (one of `formats`) and -v/--verbose.
void add_output_flags(CLI::App* app, OutputFlags& flags,
                      const std::vector<std::string>& formats = {"text", "json"});

// Validates and converts the connection flags. `default_timeout` is the command's RPC
// deadline when --timeout is not given (empty: none). Prints one "warning: ..." line to
// `warnings` when --plaintext or --insecure is used toward a target that is not loopback.
// Fails (usage) on bad values.
Result<net::ConnectionOptions> to_connection_options(const ConnectionFlags& flags,
                                                     const std::string& default_timeout = "",
                                                     std::ostream& warnings = std::cerr);

report::OutputFormat output_format(const OutputFlags& flags);

// Parses a byte size such as "4194304", "4MB", "4MiB" or "512KB". Fails (usage).
Result<int> parse_byte_size(const std::string& text);

// `arg` as one POSIX shell word: unchanged when it has only safe characters, else in single
// quotes (for the equivalent command lines bench and demo print).
std::string shell_quote(const std::string& arg);

}  // namespace grpcdx::commands
