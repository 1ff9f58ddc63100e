// `grpcdx bench TARGET METHOD [-d DATA] [-c N] [-n N | -z DUR] [--rps R]`: the load generator,
// its thresholds for CI gates (exit 7) and `--emit k6`.

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>

#include <fmt/format.h>

#include "codec/json_codec.hpp"
#include "commands/command.hpp"
#include "commands/common_flags.hpp"
#include "core/stop_signals.hpp"
#include "load/engine.hpp"
#include "load/k6_script.hpp"
#include "load/request_set.hpp"
#include "report/bench_html.hpp"
#include "report/bench_compare.hpp"
#include "report/bench_prometheus.hpp"
#include "report/bench_report.hpp"
#include "report/json_line.hpp"
#include "rpc/status_codes.hpp"
#include "rpc/exit_codes.hpp"
#include "rpc/json_requests.hpp"

namespace grpcdx::commands {

namespace pb = google::protobuf;

struct BenchOptions {
  ConnectionFlags conn;
  schema::SchemaOptions schema;
  OutputFlags output;
  std::string method;
  std::string data;
  bool has_data = false;
  int concurrency = 50;
  uint64_t total_calls = 0;
  bool has_total = false;
  std::string duration;  // -z; empty: none
  double rps = 0;
  int connections = 1;
  std::string warmup;
  std::optional<double> max_error_rate;
  std::string max_p99;
  std::string emit;
  std::string html_file;  // --html FILE: also write the HTML report there
  bool allow_unknown_fields = false;
  std::string lb;             // --lb: pick_first or round_robin
  std::string compare;        // --compare BASELINE.json
  double max_regression = 10; // --max-regression P
  std::string out_file;       // --out FILE: the -o format goes there, the text summary to stdout
  bool has_concurrency = false;  // -c given
  // --load-schedule and --concurrency-schedule with their flags (ghz's), durations as text.
  struct Shape {
    std::string kind = "const";
    std::optional<double> start, end, step;
    std::string step_duration, max_duration;
  };
  Shape load, conc;
};

namespace {

// The schedule a family of flags describes ("--load" or "--concurrency"), validated as ghz does.
Result<load::Schedule> shape_schedule(const BenchOptions::Shape& shape, const std::string& family, double minimum) {
  load::ScheduleFlags flags;
  flags.kind = shape.kind;
  flags.start = shape.start;
  flags.end = shape.end;
  flags.step = shape.step;
  if (!shape.step_duration.empty()) {
    TRY(flags.step_duration, parse_flag_duration(shape.step_duration, family + "-step-duration"));
  }
  if (!shape.max_duration.empty()) {
    TRY(flags.max_duration, parse_flag_duration(shape.max_duration, family + "-max-duration"));
  }
  return load::make_schedule(flags, family, minimum);
}

constexpr uint64_t k_default_calls = 200;  // as ghz, when neither -n nor -z is given

load::CallKind kind_of(const pb::MethodDescriptor* method) {
  if (method->client_streaming() && method->server_streaming()) return load::CallKind::bidi;
  if (method->client_streaming()) return load::CallKind::client_streaming;
  if (method->server_streaming()) return load::CallKind::server_streaming;
  return load::CallKind::unary;
}

// The flags k6 has no equivalent for, as comment lines.
std::vector<std::string> k6_unsupported(const BenchOptions& opt) {
  std::vector<std::string> out;
  if (opt.connections > 1)
    out.push_back(fmt::format("--connections {} (each k6 VU opens its own connection)", opt.connections));
  if (!opt.warmup.empty()) out.push_back(fmt::format("--warmup {} (k6 has no warm-up left out of its figures)", opt.warmup));
  if (!opt.conn.keepalive.empty()) out.push_back(fmt::format("--keepalive {}", opt.conn.keepalive));
  if (!opt.conn.servername.empty()) out.push_back(fmt::format("--servername {}", opt.conn.servername));
  if (!opt.conn.authority.empty()) out.push_back(fmt::format("--authority {}", opt.conn.authority));
  if (opt.load.kind != "const")
    out.push_back(fmt::format("--load-schedule {} (the script keeps a constant rate; k6's ramping-arrival-rate "
                              "stages would carry the shape)", opt.load.kind));
  if (opt.conc.kind != "const")
    out.push_back(fmt::format("--concurrency-schedule {} (the script keeps -c virtual users; k6's ramping-vus "
                              "stages would carry the shape)", opt.conc.kind));
  if (opt.rps > 0 && opt.has_total && opt.duration.empty())
    out.push_back(fmt::format("-n {} with --rps (k6's arrival-rate executor has no call count; the script runs "
                              "for n / rps seconds instead)", opt.total_calls));
  return out;
}

// The grpcdx command line that makes the same run (what the HTML report shows), flags in a
// fixed order; output flags are left out.
std::string equivalent_command(const BenchOptions& opt) {
  std::vector<std::string> args = {"grpcdx", "bench", opt.conn.target, opt.method};
  auto add = [&](const std::string& flag, const std::string& value) {
    if (value.empty()) return;
    args.push_back(flag);
    args.push_back(value);
  };
  if (opt.conn.plaintext) args.push_back("--plaintext");
  if (opt.conn.insecure) args.push_back("--insecure");
  add("--cacert", opt.conn.cacert);
  add("--cert", opt.conn.cert);
  add("--key", opt.conn.key);
  add("--servername", opt.conn.servername);
  add("--authority", opt.conn.authority);
  for (const auto& h : opt.conn.headers) add("-H", h);
  if (opt.conn.connect_timeout != "10s") add("--connect-timeout", opt.conn.connect_timeout);
  add("--timeout", opt.conn.timeout);
  add("--keepalive", opt.conn.keepalive);
  add("--max-msg-size", opt.conn.max_msg_size);
  for (const auto& f : opt.schema.proto_files) add("--proto", f);
  for (const auto& d : opt.schema.import_paths) add("-I", d);
  for (const auto& f : opt.schema.protosets) add("--protoset", f);
  if (opt.has_data) add("-d", opt.data);
  if (opt.conc.kind == "const") add("-c", std::to_string(opt.concurrency));
  if (opt.has_total) add("-n", std::to_string(opt.total_calls));
  add("-z", opt.duration);
  if (opt.rps > 0) add("--rps", fmt::format("{}", opt.rps));
  for (const auto& [family, shape] : {std::pair{std::string("--load"), &opt.load}, std::pair{std::string("--concurrency"), &opt.conc}}) {
    if (shape->kind == "const") continue;
    add(family + "-schedule", shape->kind);
    if (shape->start) add(family + "-start", fmt::format("{}", *shape->start));
    if (shape->end) add(family + "-end", fmt::format("{}", *shape->end));
    if (shape->step) add(family + "-step", fmt::format("{}", *shape->step));
    add(family + "-step-duration", shape->step_duration);
    add(family + "-max-duration", shape->max_duration);
  }
  if (opt.connections != 1) add("--connections", std::to_string(opt.connections));
  add("--warmup", opt.warmup);
  if (opt.max_error_rate) add("--max-error-rate", fmt::format("{}", *opt.max_error_rate));
  add("--max-p99", opt.max_p99);
  if (opt.allow_unknown_fields) args.push_back("--allow-unknown-fields");
  add("--lb", opt.lb);
  std::string line;
  for (const auto& a : args) line += (line.empty() ? "" : " ") + shell_quote(a);
  return line;
}

// The run's parameters as the HTML report lists them.
std::vector<std::pair<std::string, std::string>> html_parameters(const BenchOptions& opt,
                                                                 const net::ConnectionOptions& conn,
                                                                 uint64_t total, const report::BenchContext& context) {
  std::vector<std::pair<std::string, std::string>> p;
  p.emplace_back("Target", opt.conn.target);
  p.emplace_back("Method", opt.method);
  p.emplace_back("Transport", conn.plaintext ? "plaintext (h2c)" : conn.insecure ? "TLS, certificate not verified" : "TLS");
  p.emplace_back("Concurrency", context.concurrency_shape.empty() ? std::to_string(opt.concurrency)
                                                                  : context.concurrency_shape + " calls in flight");
  p.emplace_back("Connections", std::to_string(opt.connections));
  if (total) p.emplace_back("Calls (-n)", std::to_string(total));
  if (!opt.duration.empty()) p.emplace_back("Duration (-z)", opt.duration);
  p.emplace_back("Rate", !context.rate_shape.empty() ? context.rate_shape + " calls/s (open loop)"
                         : opt.rps > 0            ? fmt::format("{} calls/s (open loop)", opt.rps)
                                                  : "as fast as possible (closed loop)");
  if (!opt.warmup.empty()) p.emplace_back("Warm-up", opt.warmup);
  p.emplace_back("Deadline per call", conn.rpc_timeout ? format_duration(*conn.rpc_timeout) : "none");
  if (opt.has_data) p.emplace_back("Request data", opt.data.size() > 300 ? opt.data.substr(0, 300) + "..." : opt.data);
  if (opt.max_error_rate) p.emplace_back("--max-error-rate", fmt::format("{}%", *opt.max_error_rate));
  if (!opt.max_p99.empty()) p.emplace_back("--max-p99", opt.max_p99);
  return p;
}

Result<int> run_bench(const BenchOptions& opt, Io& io) {
  TRY(auto conn, to_connection_options(opt.conn, "10s"));
  conn.timeout_bounds_connect = false;  // --timeout is each call's deadline under load
  conn.lb_policy = opt.lb;
  if (!(opt.max_regression >= 0) || !std::isfinite(opt.max_regression))
    return usage_error(fmt::format("invalid --max-regression {}: expected a percentage of 0 or more", opt.max_regression));
  const report::OutputFormat format = output_format(opt.output);
  const bool csv_out = opt.output.output == "csv", prometheus_out = opt.output.output == "prometheus";
  // The baseline is read before the run: a missing or wrong file fails before any load.
  std::optional<nlohmann::ordered_json> baseline;
  if (!opt.compare.empty()) {
    TRY(baseline, report::read_bench_baseline(opt.compare));
  }
  // --out FILE takes the -o format; opened before the run so a bad path fails first.
  std::ofstream out_file;
  if (!opt.out_file.empty()) {
    out_file.open(opt.out_file, std::ios::out | std::ios::trunc);
    if (!out_file) return local_error(fmt::format("cannot write --out {}: {}", opt.out_file, std::strerror(errno)));
  }
  std::ostream& formatted = out_file.is_open() ? static_cast<std::ostream&>(out_file) : io.out;
  if (opt.concurrency < 1) return usage_error("invalid -c: the number of concurrent calls must be at least 1");
  if (opt.connections < 1) return usage_error("invalid --connections: must be at least 1");
  if (opt.has_total && opt.total_calls == 0) return usage_error("invalid -n 0: give a positive number of calls");
  if (!(opt.rps >= 0) || !std::isfinite(opt.rps))
    return usage_error("invalid --rps: must be 0 (as fast as possible) or a positive rate");
  if (opt.max_error_rate && (*opt.max_error_rate < 0 || *opt.max_error_rate > 100))
    return usage_error(fmt::format("invalid --max-error-rate {}: expected a percentage from 0 to 100", *opt.max_error_rate));
  if (!opt.emit.empty() && opt.emit != "k6")
    return usage_error(fmt::format("invalid --emit '{}': the only script format is k6", opt.emit));
  Duration duration{}, warmup{};
  if (!opt.duration.empty()) {
    TRY(duration, parse_flag_duration(opt.duration, "-z"));
  }
  if (!opt.warmup.empty()) {
    TRY(warmup, parse_flag_duration(opt.warmup, "--warmup", true));
  }
  std::optional<Duration> max_p99;
  if (!opt.max_p99.empty()) {
    TRY(max_p99, parse_flag_duration(opt.max_p99, "--max-p99"));
  }
  TRY(const load::Schedule rate_shape, shape_schedule(opt.load, "--load", 0));
  TRY(const load::Schedule conc_shape, shape_schedule(opt.conc, "--concurrency", 1));
  const bool rate_scheduled = rate_shape.kind != load::ScheduleKind::constant;
  const bool conc_scheduled = conc_shape.kind != load::ScheduleKind::constant;
  if (rate_scheduled && opt.rps > 0)
    return usage_error(fmt::format("--rps sets a constant rate: it does not go with --load-schedule {}", opt.load.kind),
                       "the schedule sets the rate: --load-start, --load-step, --load-end");
  if (conc_scheduled && opt.has_concurrency)
    return usage_error(fmt::format("-c sets a constant concurrency: it does not go with --concurrency-schedule {}", opt.conc.kind),
                       "the schedule sets it: --concurrency-start, --concurrency-step, --concurrency-end");
  const uint64_t total = opt.has_total ? opt.total_calls : (opt.duration.empty() ? k_default_calls : 0);
  const bool html_out = format == report::OutputFormat::html;
  if ((html_out || !opt.html_file.empty()) && !opt.emit.empty())
    return usage_error("--emit prints a script and runs no load: it does not go with -o html or --html");

  // The --html file is opened before the run, so a bad path fails before any load is made.
  std::ofstream html_file;
  bool html_written = false;
  std::shared_ptr<void> remove_unwritten(nullptr, [&](void*) {
    if (html_file.is_open() && !html_written) std::remove(opt.html_file.c_str());
  });
  if (!opt.html_file.empty()) {
    html_file.open(opt.html_file, std::ios::out | std::ios::trunc);
    if (!html_file) return local_error(fmt::format("cannot write --html {}: {}", opt.html_file, std::strerror(errno)));
  }

  // Input is read and split before connecting: bad data fails fast.
  std::string source = opt.has_data ? rpc::request_source_name(opt.data) : "-d";
  std::vector<std::string> json_messages;
  if (opt.has_data) {
    TRY(auto text, rpc::read_request_text(opt.data));
    TRY(json_messages, codec::split_json_values(text, source));
  }

  // Stop signals are watched before any channel exists, so gRPC's threads inherit the mask.
  std::atomic<bool> stop_asked{false};
  std::atomic<load::LoadRun*> active{nullptr};
  StopSignals stop([&](int) {
    stop_asked = true;
    if (auto* run = active.load()) run->stop();
  });

  // The method, resolved from files (no connection) or from reflection on the first channel.
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::unique_ptr<schema::SchemaSource> schema;
  const bool need_load = opt.emit.empty();
  if (!opt.schema.uses_reflection()) {
    TRY(schema, schema::open_schema(opt.schema, nullptr, conn));
  } else {
    TRY(auto channel, net::open_channel(conn));
    channels.push_back(channel);
    TRY(schema, schema::open_schema(opt.schema, channel, conn));
  }
  TRY(const pb::MethodDescriptor* method, schema->find_method(opt.method));
  if (opt.output.verbose) print_schema_notes(io, *schema);
  TRY_VOID(schema::check_method_types(method));
  const load::CallKind kind = kind_of(method);
  const std::string method_name = method->service()->full_name() + "/" + method->name();
  codec::JsonOptions json_options;
  json_options.allow_unknown_fields = opt.allow_unknown_fields;
  codec::MessageCodec codec(json_options);
  load::MethodNames names{method->full_name(),
                          method->name(),
                          method->service()->full_name(),
                          method->input_type()->full_name(),
                          method->output_type()->full_name(),
                          method->client_streaming(),
                          method->server_streaming()};
  TRY(auto requests, load::RequestSet::create(json_messages, method->input_type(), codec, source, std::move(names)));

  if (!need_load) {
    // The k6 script substitutes the four original placeholders in JavaScript; ghz's others would
    // reach k6 as text and break its JSON.
    for (const auto& message : json_messages) {
      for (size_t open = message.find("{{"); open != std::string::npos; open = message.find("{{", open + 2)) {
        const std::string placeholder = message.substr(open, message.find("}}", open) + 2 - open);
        if (placeholder != "{{.RequestNumber}}" && placeholder != "{{.WorkerID}}" && placeholder != "{{.UUID}}" &&
            placeholder != "{{.Timestamp}}")
          return local_error(fmt::format("--emit k6: the template {} has no k6 equivalent", placeholder),
                             "k6 scripts take {{.RequestNumber}}, {{.WorkerID}}, {{.UUID}} and {{.Timestamp}}");
      }
    }
    load::K6Plan plan;
    plan.target = opt.conn.target;
    plan.method = method_name;
    plan.kind = kind;
    plan.messages = json_messages;
    plan.plaintext = conn.plaintext;
    plan.insecure = conn.insecure;
    plan.cacert = conn.cacert;
    plan.cert = conn.cert;
    plan.key = conn.key;
    plan.proto_files = opt.schema.proto_files;
    plan.import_paths = opt.schema.import_paths;
    plan.protosets = opt.schema.protosets;
    plan.metadata = net::rpc_metadata(conn);
    plan.timeout = conn.rpc_timeout;
    plan.connect_timeout = conn.connect_timeout;
    plan.max_msg_size = conn.max_msg_size;
    plan.concurrency = opt.concurrency;
    plan.total_calls = total;
    plan.duration = duration;
    plan.rps = opt.rps;
    plan.max_error_rate = opt.max_error_rate;
    plan.max_p99 = max_p99;
    plan.unsupported = k6_unsupported(opt);
    io.out << load::k6_script(plan) << std::flush;
    if (!plan.unsupported.empty()) {
      std::string names;
      for (const auto& u : plan.unsupported) names += (names.empty() ? "" : ", ") + u.substr(0, u.find(' '));
      io.err << "note: no k6 equivalent for " << names << "; see the comments at the top of the script" << std::endl;
    }
    return k_exit_ok;
  }

  // Distinct channels: make_channel gives each its own subchannel pool, so each is its own
  // connection. All must connect before the clock starts.
  while (static_cast<int>(channels.size()) < opt.connections) {
    TRY(auto channel, net::make_channel(conn));
    channels.push_back(channel);
  }
  for (auto& channel : channels) {
    TRY_VOID(net::wait_for_connection(*channel, conn));
    if (channel->GetState(false) != GRPC_CHANNEL_READY)
      return status_error(14, fmt::format("could not connect to {}", opt.conn.target),
                          "check the address and port; `grpcdx probe` shows which layer fails");
  }

  load::LoadOptions lo;
  lo.channels = channels;
  lo.method_path = "/" + method_name;
  lo.kind = kind;
  lo.concurrency = opt.concurrency;
  lo.total_calls = total;
  lo.duration = duration;
  lo.rps = opt.rps;
  if (rate_scheduled) lo.rate_schedule = rate_shape;
  if (conc_scheduled) lo.concurrency_schedule = conc_shape;
  lo.warmup = warmup;
  lo.prepare = [&conn](grpc::ClientContext& ctx) { net::prepare_context(ctx, conn); };
  lo.track_backends = !opt.lb.empty() || csv_out;
  std::mutex csv_mutex;
  if (csv_out) {
    formatted << "start_ms,latency_ms,status,backend\n";
    lo.on_call = [&formatted, &csv_mutex](const load::CallRecord& call) {
      // One row a call as it ends: memory stays flat however long the run.
      std::string row = fmt::format("{:.3f},{:.3f},{},{}\n", call.start_ms, call.latency_ms, rpc::status_name(call.code),
                                    call.backend);
      std::lock_guard lock(csv_mutex);
      formatted << row;
    };
  }
  const bool progress = io.err_is_tty;
  if (progress) {
    lo.on_tick = [&io, total, duration](uint64_t done, Duration elapsed, const load::SeriesPoint* last) {
      io.err << "\r" << report::progress_line(done, total, elapsed, duration, last, io.err_columns) << "\x1b[K"
             << std::flush;
    };
  }
  load::LoadRun run(std::move(lo), *requests);
  active = &run;
  if (stop_asked) run.stop();
  auto result = run.run();
  active = nullptr;
  if (progress) io.err << "\r\x1b[K" << std::flush;
  if (!result) return std::unexpected(result.error());

  report::BenchContext context{method_name, opt.conn.target, kind, opt.concurrency, opt.connections, opt.rps, {}, {}, {}, {}};
  if (rate_scheduled) context.rate_shape = load::describe_schedule(rate_shape);
  if (conc_scheduled) context.concurrency_shape = load::describe_schedule(conc_shape);
  if (baseline) {
    context.comparison = report::compare_bench(*baseline, report::bench_json(*result, context), opt.max_regression);
    context.baseline_name = opt.compare;
  }
  if (html_out || html_file.is_open()) {
    const std::string page =
        report::bench_html(*result, context, {equivalent_command(opt), html_parameters(opt, conn, total, context)});
    if (html_out) formatted << page << std::flush;
    if (html_file.is_open()) {
      html_file << page;
      html_file.close();
      html_written = true;
      if (!html_file) return local_error(fmt::format("cannot write --html {}: {}", opt.html_file, std::strerror(errno)));
    }
  }
  if (prometheus_out) formatted << report::bench_prometheus(*result, context) << std::flush;
  if (format == report::OutputFormat::json && out_file.is_open()) {
    formatted << report::json_line(report::bench_json(*result, context)) << "\n";
  }
  // The report people read: the chosen format on stdout, or the text summary when --out took it.
  if (out_file.is_open()) {
    report::print_bench(io, report::OutputFormat::text, *result, context);
  } else if (!csv_out && !prometheus_out && format != report::OutputFormat::html) {
    report::print_bench(io, format, *result, context);
  }
  if (out_file.is_open()) {
    out_file.close();
    if (!out_file) return local_error(fmt::format("cannot write --out {}: {}", opt.out_file, std::strerror(errno)));
  }

  int exit_code = k_exit_ok;
  if (opt.max_error_rate && result->count > 0) {
    const double rate = 100.0 * static_cast<double>(result->count - result->ok) / static_cast<double>(result->count);
    if (rate > *opt.max_error_rate) {
      io.err << fmt::format("error: error rate {:.2f}% is above --max-error-rate {}%", rate, *opt.max_error_rate)
             << std::endl;
      exit_code = k_exit_threshold;
    }
  }
  if (max_p99 && result->count > 0) {
    const uint64_t p99 = result->latency.percentile(0.99);
    if (static_cast<double>(p99) > static_cast<double>(max_p99->count())) {
      io.err << fmt::format("error: p99 latency {:.3f} ms is above --max-p99 {}", static_cast<double>(p99) / 1e6,
                            format_duration(*max_p99))
             << std::endl;
      exit_code = k_exit_threshold;
    }
  }
  if (context.comparison && context.comparison->regressed) {
    io.err << "error: slower than " << opt.compare << ": " << context.comparison->reason << " (more than --max-regression "
           << opt.max_regression << "%)" << std::endl;
    exit_code = k_exit_threshold;
  }
  return exit_code;
}

}  // namespace

void register_bench(CLI::App& app, CommandSlot& slot) {
  auto opt = std::make_shared<BenchOptions>();
  auto* cmd = app.add_subcommand("bench", "Load test a method: throughput, latency percentiles and status counts");
  add_connection_flags(cmd, opt->conn);
  cmd->add_option("method", opt->method, "pkg.Service/Method or pkg.Service.Method")->required();
  cmd->add_option("-d,--data", opt->data,
                  "Request JSON; several messages are sent round-robin (or all per call for client and bidi "
                  "streams); @FILE reads a file, @- standard input. Templates as ghz's: {{.RequestNumber}}, "
                  "{{.WorkerID}}, {{.UUID}}, {{.Timestamp}}, {{.TimestampUnix}}, {{.MethodName}}, {{newUUID}}, "
                  "{{randomString N}}, {{randomInt MIN MAX}}, ... (docs/bench.md)");
  add_schema_flags(cmd, opt->schema);
  add_output_flags(cmd, opt->output, {"text", "json", "html", "csv", "prometheus"});
  cmd->add_option("--out", opt->out_file,
                  "Write the -o format (json, html, csv, prometheus) to FILE; the text summary goes to stdout")
      ->type_name("FILE");
  cmd->add_option("--lb", opt->lb, "Client load balancing over the target's addresses; reports calls per backend")
      ->check(CLI::IsMember({"pick_first", "round_robin"}));
  cmd->add_option("--compare", opt->compare,
                  "Compare with an earlier -o json report; exit 7 when rps fell or p99 rose by more than "
                  "--max-regression")
      ->type_name("BASELINE.json");
  cmd->add_option("--max-regression", opt->max_regression, "With --compare: the change in percent that fails")
      ->capture_default_str();
  cmd->add_option("--html", opt->html_file,
                  "Also write the report as a self-contained HTML page (SVG charts) to FILE")
      ->type_name("FILE");
  cmd->add_option("-c,--concurrency", opt->concurrency, "Concurrent calls")
      ->transform(whole_number(1, 100'000))
      ->capture_default_str();
  cmd->add_option("-n,--total", opt->total_calls, "Number of calls to make (default 200 when -z is not given)")
      ->transform(whole_number(1, 1'000'000'000'000));
  cmd->add_option("-z,--duration", opt->duration, "Make calls for DUR (e.g. 30s); with -n, whichever ends first");
  cmd->add_option("--rps", opt->rps, "Open loop at R calls per second, latency measured from each call's due time "
                                     "(0 = as fast as possible)")
      ->transform(real_number(0, 1e9));
  auto shape_flags = [&](const std::string& family, BenchOptions::Shape& shape, const std::string& noun,
                         const std::string& unit, double bound) {
    cmd->add_option(family + "-schedule", shape.kind,
                    fmt::format("How the {} changes over the run: const, step (by {}-step every {}-step-duration) or "
                                "line (by {}-step every second), as ghz's", noun, family, family, family))
        ->check(CLI::IsMember({"const", "step", "line"}));
    auto value = [&](const std::string& flag, std::optional<double>& field, const std::string& help) {
      cmd->add_option(flag, field, help)->type_name(unit)->transform(real_number(-bound, bound));
    };
    value(family + "-start", shape.start, fmt::format("The {} at the start of a step or line schedule", noun));
    value(family + "-end", shape.end, fmt::format("Where the {} stops changing (optional)", noun));
    value(family + "-step", shape.step, fmt::format("The change of the {} at each step (step) or each second (line); "
                                                    "negative to decrease", noun));
    cmd->add_option(family + "-step-duration", shape.step_duration, "How long each step lasts (step schedule)")
        ->type_name("DUR");
    cmd->add_option(family + "-max-duration", shape.max_duration,
                    fmt::format("Stop changing the {} after DUR; from then on it is {}-end when given", noun, family))
        ->type_name("DUR");
  };
  shape_flags("--load", opt->load, "rate", "R", 1e9);
  shape_flags("--concurrency", opt->conc, "concurrency", "N", 100'000);
  cmd->add_option("--connections", opt->connections, "Spread the calls over K connections")
      ->transform(whole_number(1, 10'000))
      ->capture_default_str();
  cmd->add_option("--warmup", opt->warmup, "Make calls for DUR first, left out of the figures");
  cmd->add_option("--max-error-rate", opt->max_error_rate, "Exit 7 when more than P percent of calls fail")
      ->transform(real_number(0, 100));
  cmd->add_option("--max-p99", opt->max_p99, "Exit 7 when the p99 latency is above DUR");
  cmd->add_option("--emit", opt->emit, "Print the same load as a script instead of running it: k6");
  cmd->add_flag("--allow-unknown-fields", opt->allow_unknown_fields, "Ignore request fields the message type does not have");
  cmd->callback([opt, cmd, &slot] {
    opt->has_data = cmd->count("--data") > 0;
    opt->has_total = cmd->count("--total") > 0;
    opt->has_concurrency = cmd->count("--concurrency") > 0;
    slot.run = [opt](Io& io) { return run_bench(*opt, io); };
  });
}

}  // namespace grpcdx::commands
