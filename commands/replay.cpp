// `grpcdx replay TARGET METHOD --in FILE`: send a recorded stream again, paced as recorded, as
// fast as possible or at a rate; catch stalls; optionally compare the answers with the recording.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/message_differencer.h>

#include "channelz/stall_view.hpp"
#include "codec/json_codec.hpp"
#include "commands/command.hpp"
#include "commands/common_flags.hpp"
#include "core/stop_signals.hpp"
#include "report/call_report.hpp"
#include "report/json_line.hpp"
#include "report/terminal.hpp"
#include "rpc/exit_codes.hpp"
#include "rpc/status_codes.hpp"
#include "rpc/status_hints.hpp"
#include "stream/pacing.hpp"
#include "stream/replay_file.hpp"
#include "stream/stall_monitor.hpp"

namespace grpcdx::commands {

namespace pb = google::protobuf;

struct ReplayOptions {
  ConnectionFlags conn;
  schema::SchemaOptions schema;
  OutputFlags output;
  std::string method;
  std::string in;
  std::string pace = "recorded";
  std::string stall_timeout = "5s";
  std::string on_stall = "fail";
  bool compare = false;
  bool emit_defaults = false;
  bool proto_names = false;
};

namespace {

// One difference between the replayed call and the recording.
struct Difference {
  int index = -1;  // 0-based response message, or -1 for the message count / status
  int line = 0;    // line of the replay file, 0 when none
  std::string detail;
};

// protobuf's field-by-field report of how `received` differs from `recorded`; empty when equal.
std::string message_difference(const pb::Message& recorded, const pb::Message& received) {
  std::string text;
  {
    pb::io::StringOutputStream stream(&text);
    pb::util::MessageDifferencer::StreamReporter reporter(&stream);
    pb::util::MessageDifferencer differencer;
    differencer.ReportDifferencesTo(&reporter);
    if (differencer.Compare(recorded, received)) return {};
  }
  while (text.ends_with('\n')) text.pop_back();
  for (char& c : text)
    if (c == '\n') c = ';';
  return text;
}

std::vector<Difference> compare(const stream::ReplayScript& script,
                                const std::vector<std::unique_ptr<pb::Message>>& received,
                                const rpc::CallResult& result) {
  std::vector<Difference> out;
  size_t n = std::min(script.recvs.size(), received.size());
  for (size_t i = 0; i < n; ++i) {
    std::string d = message_difference(*script.recvs[i].message, *received[i]);
    if (!d.empty()) out.push_back({static_cast<int>(i), script.recvs[i].line, d});
  }
  if (script.recvs.size() != received.size()) {
    int line = received.size() < script.recvs.size() ? script.recvs[received.size()].line : 0;
    out.push_back({-1, line,
                   fmt::format("recorded {} response messages, received {}", script.recvs.size(),
                               received.size())});
  }
  if (script.status && script.status->code != result.code)
    out.push_back(
        {-1, script.status->line,
         fmt::format("recorded status {} ({}), got {} ({})", rpc::status_name(script.status->code),
                     script.status->code, rpc::status_name(result.code), result.code)});
  return out;
}

Result<int> run_replay(const ReplayOptions& opt, Io& io) {
  TRY(auto conn, to_connection_options(opt.conn, "10s"));
  TRY(auto pace, stream::parse_pace(opt.pace));
  auto stall_timeout = parse_duration(opt.stall_timeout);
  if (!stall_timeout || *stall_timeout <= Duration::zero())
    return usage_error(
        fmt::format("invalid --stall-timeout '{}': expected a positive duration like 5s or 500ms",
                    opt.stall_timeout));
  TRY(auto text, net::read_file(opt.in, "replay file"));

  // Ctrl-C / SIGTERM cancel the call and end with the summary of what was exchanged. Signals are
  // watched before any channel exists, so gRPC's threads inherit the mask.
  std::mutex cancel_mutex;
  std::function<void()> cancel_call;  // set while the call is open
  std::atomic<bool> interrupted{false};
  std::condition_variable progress_wake;
  StopSignals stop([&](int) {
    std::lock_guard lock(cancel_mutex);
    interrupted = true;
    if (cancel_call) cancel_call();
    progress_wake.notify_all();
  });

  codec::JsonOptions json_options;
  json_options.emit_defaults = opt.emit_defaults;
  json_options.proto_names = opt.proto_names;
  json_options.pretty = output_format(opt.output) == report::OutputFormat::text;
  codec::MessageCodec codec(json_options);

  TRY(auto p, schema::resolve_method(opt.schema, conn, opt.method));
  if (opt.output.verbose) print_schema_notes(io, *p.schema);
  const pb::MethodDescriptor* method = p.method;
  TRY(auto script,
      stream::parse_replay(text, opt.in, method->input_type(), method->output_type(), codec));

  std::vector<stream::PacedRequestSource::Message> messages;
  const size_t to_send = std::max<size_t>(script.sends.size(), method->client_streaming() ? 0 : 1);
  for (auto& s : script.sends) messages.push_back({std::move(s.bytes), s.t_ms});
  if (!method->client_streaming()) {
    if (messages.size() > 1)
      return local_error(
          fmt::format("{}: {} takes one request message, but the file has {} send lines", opt.in,
                      method->full_name(), messages.size()));
    if (messages.empty()) messages.push_back({std::string(), 0});  // the empty message
  }
  stream::PacedRequestSource requests(std::move(messages), pace);

  report::CallReport report(io, {output_format(opt.output), opt.output.verbose, conn.show_secrets, json_options});
  std::string method_path = "/" + method->service()->full_name() + "/" + method->name();
  report.request(method_path, net::rpc_metadata(conn));

  std::mutex out_mutex;  // gRPC threads, the stall monitor and the progress line all print
  std::atomic<uint64_t> sent{0}, got{0};
  bool progress_shown = false;  // a progress line is on stderr (guarded by out_mutex)
  auto clear_progress = [&] {
    if (progress_shown) io.err << "\r\x1b[K" << std::flush;
    progress_shown = false;
  };
  std::optional<Error> decode_error;
  std::vector<std::unique_ptr<pb::Message>> received;
  rpc::CallSink sink;
  sink.on_headers = [&](const net::Metadata& md) {
    std::lock_guard lock(out_mutex);
    clear_progress();
    report.headers(md);
  };
  sink.on_sent = [&] { ++sent; };
  sink.on_message = [&](const std::string& bytes) {
    std::lock_guard lock(out_mutex);
    ++got;
    clear_progress();
    auto decoded = codec.decode(bytes, method->output_type());
    if (!decoded) {
      decode_error = decoded.error();
      return false;
    }
    report.message(decoded->json);
    if (opt.compare) received.push_back(std::move(decoded->message));
    return true;
  };
  const bool fail_on_stall = opt.on_stall == "fail";
  stream::StallDetector detector(*stall_timeout);
  stream::observe_progress(sink, detector);
  stream::StallMonitorOptions stall_options;
  stall_options.cancel_on_stall = fail_on_stall;
  // The server's view of this connection in the report, when the server offers channelz.
  stall_options.server_view = channelz::server_view_lookup(conn, channelz::k_stall_lookup_budget);
  stream::StallMonitor monitor(detector, p.channel, stall_options,
                               [&](const stream::StallEvent& event) {
                                 std::lock_guard lock(out_mutex);
                                 clear_progress();
                                 report.stall(event, !fail_on_stall);
                               });
  rpc::InvokeOptions invoke_options;
  invoke_options.method_path = method_path;
  invoke_options.prepare = [&](grpc::ClientContext& ctx) { net::prepare_context(ctx, conn); };
  const auto started = std::chrono::steady_clock::now();
  invoke_options.monitor = [&](const std::function<void()>& cancel, const std::atomic<bool>& ended) {
    {
      std::lock_guard lock(cancel_mutex);
      cancel_call = cancel;
      if (interrupted) cancel();
    }
    // On a terminal, a live line on stderr: messages sent and received so far.
    std::thread progress;
    if (io.err_is_tty) {
      progress = std::thread([&] {
        std::unique_lock wait_lock(cancel_mutex);
        while (!ended && !interrupted) {
          progress_wake.wait_for(wait_lock, std::chrono::milliseconds(200));
          if (ended || interrupted) break;
          std::lock_guard lock(out_mutex);
          const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
          io.err << "\r"
                 << report::fit_width(fmt::format("replay: sent {} of {}, received {}, {:.1f} s (Ctrl-C stops)",
                                                  sent.load(), to_send, got.load(), secs),
                                      io.err_columns)
                 << "\x1b[K" << std::flush;
          progress_shown = true;
        }
      });
    }
    monitor.run(cancel, ended);
    {
      std::lock_guard lock(cancel_mutex);
      cancel_call = nullptr;
      progress_wake.notify_all();
    }
    if (progress.joinable()) progress.join();
  };
  rpc::CallResult result = rpc::invoke(p.channel, invoke_options, requests, sink);
  {
    std::lock_guard lock(out_mutex);
    clear_progress();
  }

  if (decode_error) return std::unexpected(*decode_error);
  if (result.input_error) return std::unexpected(*result.input_error);
  if (auto stall = monitor.first_stall(); stall && fail_on_stall) {
    io.out.flush();
    io.err << "error: stream stalled: " << report::stall_summary(*stall)
           << "; the call was cancelled"
           << " (raise --stall-timeout if the peer is just slow, or use --on-stall report to keep "
              "waiting)"
           << std::endl;
    return k_exit_stall;
  }
  report.status(result, p.connect_time, method->file()->pool());
  if (interrupted) {
    io.out.flush();
    io.err << fmt::format("interrupted: the call was cancelled after sending {} of {} messages and receiving {}",
                          result.sent, to_send, result.received)
           << std::endl;
    return k_exit_ok;
  }
  if (opt.compare) {
    auto differences = compare(script, received, result);
    const bool json = output_format(opt.output) == report::OutputFormat::json;
    for (const auto& d : differences) {
      if (json) {
        nlohmann::ordered_json event;
        event["event"] = "difference";
        if (d.index >= 0) event["index"] = d.index;
        if (d.line > 0) event["line"] = d.line;
        event["detail"] = d.detail;
        io.out << report::json_line(event) << std::endl;
      } else {
        std::string where =
            d.index >= 0 ? fmt::format("response {}", d.index + 1) : std::string("call");
        if (d.line > 0) where += fmt::format(" ({}:{})", opt.in, d.line);
        io.err << "difference: " << where << ": " << d.detail << "\n";
      }
    }
    if (json)
      io.out << report::json_line({{"event", "compare"},
                                   {"recorded", script.recvs.size()},
                                   {"received", received.size()},
                                   {"differences", differences.size()}})
             << std::endl;
    if (!differences.empty())
      return local_error(fmt::format("the replay differs from {} in {} place{}", opt.in,
                                     differences.size(), differences.size() == 1 ? "" : "s"),
                         "the differences are listed above");
    if (!json && opt.output.verbose)
      io.err << fmt::format("Compared with {}: {} responses, no differences\n", opt.in,
                            received.size());
  }
  if (result.code != 0)
    return status_error(result.code, result.message,
                        rpc::hint_for_status(result.code, result.message, conn.plaintext));
  return k_exit_ok;
}

}  // namespace

void register_replay(CLI::App& app, CommandSlot& slot) {
  auto opt = std::make_shared<ReplayOptions>();
  auto* cmd = app.add_subcommand(
      "replay", "Replay a recorded stream (a replay file that `call` records), catching stalls");
  add_connection_flags(cmd, opt->conn);
  cmd->add_option("method", opt->method, "pkg.Service/Method or pkg.Service.Method")->required();
  cmd->add_option("--in", opt->in,
                  "The replay file: one JSON object a line (t_ms, dir send|recv|status, message)")
      ->required();
  add_schema_flags(cmd, opt->schema);
  add_output_flags(cmd, opt->output);
  cmd->add_option("--pace", opt->pace,
                  "When to send each message: recorded (keep the recorded gaps), asap, or N/s (a "
                  "fixed rate)")
      ->capture_default_str();
  cmd->add_option(
         "--stall-timeout", opt->stall_timeout,
         "No progress (no message received, no pending send completing) for DUR is a stall")
      ->capture_default_str();
  cmd->add_option(
         "--on-stall", opt->on_stall,
         "fail: cancel the call and exit 5; report: print the stall and keep waiting for the end")
      ->check(CLI::IsMember({"fail", "report"}))
      ->capture_default_str();
  cmd->add_flag("--compare", opt->compare,
                "Compare received messages with the recorded recv lines, field by field; exit 1 "
                "when they differ");
  cmd->add_flag("--emit-defaults", opt->emit_defaults, "Print fields that hold default values");
  cmd->add_flag("--proto-names", opt->proto_names,
                "Print .proto field names instead of lowerCamelCase");
  cmd->callback([opt, &slot] { slot.run = [opt](Io& io) { return run_replay(*opt, io); }; });
}

}  // namespace grpcdx::commands
