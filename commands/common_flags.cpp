// The shared flag groups and their conversion into library options.
#include "commands/common_flags.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "core/current_step.hpp"
#include "core/printable.hpp"
#include "net/security.hpp"
#include "rpc/exit_codes.hpp"

namespace grpcdx::commands {

namespace {

// A repeatable flag takes exactly one value each time it is given, so `--proto a.proto TARGET`
// leaves TARGET a positional (CLI11 otherwise lets a vector option swallow what follows it).
CLI::Option* one_value_each(CLI::Option* option) {
  return option->expected(1)->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

const MentionedOptions* g_mentioned = nullptr;  // the live filter, if any

}  // namespace

MentionedOptions::MentionedOptions(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") break;  // the rest is positional
    if (arg.starts_with("--")) {
      std::string_view name = arg.substr(2);
      name = name.substr(0, name.find('='));
      if (name == "help" || name == "help-all") m_everything = true;
      m_long.push_back(name);
    } else if (arg.size() >= 2 && arg[0] == '-') {
      // "-v", or a cluster such as "-vo" or "-ojson": every letter may name an option.
      m_short.append(arg.substr(1));
    }
  }
  if (m_short.find('h') != std::string::npos) m_everything = true;
  g_mentioned = this;
}

MentionedOptions::~MentionedOptions() { g_mentioned = nullptr; }

bool MentionedOptions::declares(std::string_view names) {
  const MentionedOptions* m = g_mentioned;
  if (!m || m->m_everything) return true;
  while (!names.empty()) {
    size_t comma = names.find(',');
    std::string_view name = names.substr(0, comma);
    names = comma == std::string_view::npos ? std::string_view() : names.substr(comma + 1);
    if (name.starts_with("--")) {
      for (std::string_view mentioned : m->m_long)
        if (mentioned == name.substr(2)) return true;
    } else if (name.size() == 2 && name[0] == '-') {
      if (m->m_short.find(name[1]) != std::string::npos) return true;
    } else {
      return true;  // a positional
    }
  }
  return false;
}

void add_connection_flags(CLI::App* app, ConnectionFlags& f) {
  using M = MentionedOptions;
  app->add_option("target", f.target, "host:port, [v6addr]:port, unix:/path or a URI like dns:///host:port")
      ->required();
  if (M::declares("--plaintext")) app->add_flag("--plaintext", f.plaintext, "Use plaintext HTTP/2 (h2c), no TLS");
  if (M::declares("--insecure"))
    app->add_flag("--insecure", f.insecure, "Use TLS but skip verifying the server certificate");
  if (M::declares("--cacert"))
    app->add_option("--cacert", f.cacert, "Trust this CA bundle (PEM) instead of the system roots");
  if (M::declares("--cert")) app->add_option("--cert", f.cert, "Client certificate (PEM) for mutual TLS");
  if (M::declares("--key")) app->add_option("--key", f.key, "Client private key (PEM) for mutual TLS");
  if (M::declares("--servername"))
    app->add_option("--servername", f.servername, "Name used for SNI and to check the server certificate");
  if (M::declares("--authority"))
    app->add_option("--authority", f.authority, "Value of the :authority pseudo-header");
  if (M::declares("-H,--header"))
    one_value_each(app->add_option("-H,--header", f.headers,
                                   "Request metadata 'key: value' (repeatable; -bin keys take base64)"));
  if (M::declares("--rpc-header"))
    one_value_each(app->add_option("--rpc-header", f.rpc_headers,
                                   "Like -H, but only on the command's own RPCs, not on reflection (repeatable)"));
  if (M::declares("--reflect-header"))
    one_value_each(app->add_option("--reflect-header", f.reflect_headers,
                                   "Like -H, but only on server reflection requests (repeatable)"));
  if (M::declares("--connect-timeout"))
    app->add_option("--connect-timeout", f.connect_timeout, "Give up connecting after this long")
        ->capture_default_str();
  if (M::declares("--timeout")) app->add_option("--timeout", f.timeout, "Deadline of each RPC (e.g. 2s)");
  if (M::declares("--keepalive")) app->add_option("--keepalive", f.keepalive, "HTTP/2 keepalive ping interval");
  if (M::declares("--max-msg-size"))
    app->add_option("--max-msg-size", f.max_msg_size, "Largest message accepted, in bytes (e.g. 4MB)");
  if (M::declares("--user-agent"))
    app->add_option("--user-agent", f.user_agent, "Put TEXT before gRPC's own user-agent (as -H 'user-agent: TEXT')")
        ->type_name("TEXT");
  if (M::declares("--expand-headers"))
    app->add_flag("--expand-headers", f.expand_headers,
                  "Replace ${NAME} in header values with the environment variable NAME");
  if (M::declares("--show-secrets"))
    app->add_flag("--show-secrets", f.show_secrets,
                  "Do not redact secrets (authorization, cookies, tokens) in -v output and --record files");
}

void add_max_time_flag(CLI::App* app, ConnectionFlags& f) {
  if (MentionedOptions::declares("--max-time"))
    app->add_option("--max-time", f.max_time,
                    "Bound the whole command (connecting, reflection, every RPC); exit 68 when it fires")
        ->type_name("DUR");
}

void add_upstream_flags(CLI::App* app, ConnectionFlags& f) {
  add_connection_flags(app, f);
  app->remove_option(app->get_option("target"));
  app->add_option("--target", f.target,
                  "Upstream to forward to: host:port, [v6addr]:port, unix:/path or a URI like dns:///host:port");
}

void add_schema_flags(CLI::App* app, schema::SchemaOptions& s) {
  using M = MentionedOptions;
  if (M::declares("--proto"))
    one_value_each(app->add_option("--proto", s.proto_files, "Take the schema from this .proto file (repeatable)"));
  if (M::declares("-I,--import-path"))
    one_value_each(app->add_option("-I,--import-path", s.import_paths,
                                   "Directory to search for .proto imports (repeatable)"));
  if (M::declares("--protoset"))
    one_value_each(app->add_option("--protoset", s.protosets,
                                   "Take the schema from this FileDescriptorSet file (repeatable)"));
  if (M::declares("--use-reflection"))
    app->add_flag("--use-reflection", s.use_reflection,
                  "With --proto/--protoset: ask server reflection for what the files lack");
}

void add_protoset_out_flag(CLI::App* app, std::string& path) {
  if (MentionedOptions::declares("--protoset-out"))
    app->add_option("--protoset-out", path,
                    "Save the schema used (with its imports) to FILE as a FileDescriptorSet, for --protoset later");
}

void add_output_flags(CLI::App* app, OutputFlags& f, const std::vector<std::string>& formats) {
  if (MentionedOptions::declares("-o,--output"))
    app->add_option("-o,--output", f.output, "Output format")
        ->check(CLI::IsMember(formats))
        ->capture_default_str();
  if (MentionedOptions::declares("-v,--verbose"))
    app->add_flag("-v,--verbose", f.verbose, "Show headers, trailers and timings");
}

report::OutputFormat output_format(const OutputFlags& f) {
  if (f.output == "json") return report::OutputFormat::json;
  if (f.output == "html") return report::OutputFormat::html;
  return report::OutputFormat::text;
}

Result<int> parse_byte_size(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + i, value);
  std::string unit = text.substr(i);
  long long scale = 0;
  if (unit.empty() || unit == "B") scale = 1;
  else if (unit == "KB" || unit == "kB" || unit == "K") scale = 1000;
  else if (unit == "KiB") scale = 1024;
  else if (unit == "MB" || unit == "M") scale = 1000 * 1000;
  else if (unit == "MiB") scale = 1024 * 1024;
  else if (unit == "GB" || unit == "G") scale = 1000LL * 1000 * 1000;
  else if (unit == "GiB") scale = 1024LL * 1024 * 1024;
  // value > limit / scale, not value * scale > limit: the product of two large numbers overflows.
  if (i == 0 || ec != std::errc() || scale == 0 || value > 0x7fffffffLL / scale)
    return usage_error(fmt::format("invalid size '{}': expected bytes, e.g. 4194304, 4MB or 4MiB (at most 2GiB)", text));
  return static_cast<int>(value * scale);
}

CLI::Validator whole_number(uint64_t min, uint64_t max) {
  return CLI::Validator(
      [min, max](std::string& text) -> std::string {
        uint64_t value = 0;
        const bool digits = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
          return c >= '0' && c <= '9';
        });
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (!digits || ec != std::errc() || value < min || value > max)
          return fmt::format("expected a whole number from {} to {}, got '{}'", min, max, text);
        text = std::to_string(value);
        return {};
      },
      "");
}

CLI::Validator real_number(double min, double max) {
  return CLI::Validator(
      [min, max](std::string& text) -> std::string {
        double value = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
            value < min || value > max)
          return fmt::format("expected a number from {} to {}, got '{}'", min, max, text);
        return {};
      },
      "");
}

Result<Duration> parse_flag_duration(const std::string& text, std::string_view flag, bool allow_zero) {
  auto parsed = parse_duration(text);
  if (!parsed) return std::unexpected(parsed.error().with_context(fmt::format("invalid {}", flag)));
  if (!allow_zero && *parsed == Duration::zero())
    return usage_error(fmt::format("invalid {}: duration '{}' must be positive (up to 100000h)", flag, text),
                       "write durations like 250ms, 2s, 1m30s or 10us");
  return *parsed;
}

Result<net::ConnectionOptions> to_connection_options(const ConnectionFlags& f,
                                                     const std::string& default_timeout,
                                                     std::ostream& warnings) {
  net::ConnectionOptions o;
  TRY(o.target, net::parse_target(f.target));
  o.plaintext = f.plaintext;
  o.insecure = f.insecure;
  o.cacert = f.cacert;
  o.cert = f.cert;
  o.key = f.key;
  o.servername = f.servername;
  o.authority = f.authority;
  o.show_secrets = f.show_secrets;
  o.user_agent = f.user_agent;
  for (auto [flags, into] : {std::pair{&f.headers, &o.metadata}, std::pair{&f.rpc_headers, &o.rpc_metadata},
                              std::pair{&f.reflect_headers, &o.reflect_metadata}}) {
    for (const auto& h : *flags) {
      std::string text = h;
      if (f.expand_headers) {
        TRY(text, expand_environment(h));
      }
      TRY(auto entry, net::parse_header(text));
      // gRPC writes user-agent itself and drops it from the metadata: it goes into the channel.
      if (entry.key == "user-agent" && into != &o.reflect_metadata) {
        if (o.user_agent.empty()) o.user_agent = entry.value;
        continue;
      }
      into->push_back(std::move(entry));
    }
  }
  if (f.expand_headers && !o.user_agent.empty()) {
    TRY(o.user_agent, expand_environment(o.user_agent));
  }
  TRY_VOID(arm_max_time_flag(f));
  TRY(o.connect_timeout, parse_flag_duration(f.connect_timeout, "--connect-timeout"));
  const std::string& timeout = f.timeout.empty() ? default_timeout : f.timeout;
  if (!timeout.empty()) {
    // --timeout 0 is no deadline.
    TRY(auto t, parse_flag_duration(timeout, "--timeout", true));
    if (t.count() > 0) o.rpc_timeout = t;
  }
  if (!f.keepalive.empty()) {
    TRY(auto k, parse_flag_duration(f.keepalive, "--keepalive"));
    o.keepalive = k;
  }
  int max_msg_size = f.default_max_msg_size;
  if (!f.max_msg_size.empty()) {
    auto size = parse_byte_size(f.max_msg_size);
    if (!size) return std::unexpected(size.error().with_context("invalid --max-msg-size"));
    max_msg_size = *size;
  }
  if (max_msg_size > 0) o.max_msg_size = max_msg_size;  // 0: no limit
  if (o.plaintext && (o.insecure || !o.cacert.empty() || !o.cert.empty()))
    return usage_error("--plaintext cannot be combined with --insecure, --cacert, --cert or --key");
  if (o.cert.empty() != o.key.empty())
    return usage_error("--cert and --key go together: give both for a client certificate");
  if (auto warning = net::exposure_warning(o.target, o.plaintext, o.insecure))
    warnings << "warning: " << *warning << std::endl;
  return o;
}

Result<void> arm_max_time_flag(const ConnectionFlags& f) {
  if (f.max_time.empty()) return {};
  TRY(auto limit, parse_flag_duration(f.max_time, "--max-time"));
  arm_max_time(limit, f.max_time);
  return {};
}

void arm_max_time(Duration limit, std::string limit_text) {
  static std::once_flag armed;
  std::call_once(armed, [&] {
    auto until = std::chrono::steady_clock::now() + limit;
    std::thread([until, text = std::move(limit_text)] {
      std::this_thread::sleep_until(until);
      // Whatever the command is doing, the bound wins: one line and exit 68, written with
      // write(2) so no stream lock another thread may hold can delay it.
      std::string line = fmt::format("error: DEADLINE_EXCEEDED (4): --max-time {} reached while {}\n", text,
                                     printable_line(current_step()));
      std::fflush(stdout);
      ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
      (void)ignored;
      _exit(exit_code_for_status(4));
    }).detach();
  });
}

Result<std::string> expand_environment(const std::string& value) {
  std::string out;
  size_t i = 0;
  while (i < value.size()) {
    size_t open = value.find("${", i);
    if (open == std::string::npos) break;
    size_t close = value.find('}', open + 2);
    if (close == std::string::npos)
      return usage_error(fmt::format("--expand-headers: '${{' without '}}' in '{}'", value));
    std::string name = value.substr(open + 2, close - open - 2);
    const char* env = name.empty() ? nullptr : std::getenv(name.c_str());
    if (!env)
      return usage_error(fmt::format("--expand-headers: environment variable '{}' is not set", name),
                         "export it, or drop --expand-headers to send '${...}' as written");
    out.append(value, i, open - i);
    out += env;
    i = close + 1;
  }
  out.append(value, i, std::string::npos);
  return out;
}

void print_schema_notes(Io& io, const schema::SchemaSource& source) {
  for (const auto& note : source.notes()) io.err << "reflection: " << note << "\n";
}

std::string shell_quote(const std::string& arg) {
  const bool plain = !arg.empty() && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                           "0123456789-_./:@=,+%") == std::string::npos;
  if (plain) return arg;
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace grpcdx::commands
