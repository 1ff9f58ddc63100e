// `grpcdx call TARGET METHOD [-d DATA]`: call any method, of any streaming kind, with JSON in
// and out.
#include <unistd.h>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include "channelz/stall_view.hpp"
#include "codec/json_codec.hpp"
#include "commands/command.hpp"
#include "commands/common_flags.hpp"
#include "core/keep_until_exit.hpp"
#include "report/call_report.hpp"
#include "rpc/exit_codes.hpp"
#include "rpc/json_requests.hpp"
#include "rpc/status_codes.hpp"
#include "rpc/status_hints.hpp"
#include "schema/protoset_out.hpp"
#include "stream/replay_file.hpp"
#include "stream/stall_monitor.hpp"

namespace grpcdx::commands {

namespace pb = google::protobuf;

struct CallOptions {
  ConnectionFlags conn;
  schema::SchemaOptions schema;
  OutputFlags output;
  std::string method;
  std::string data;
  bool has_data = false;
  bool emit_defaults = false;
  bool proto_names = false;
  bool allow_unknown_fields = false;
  int max_messages = 0;
  std::string stall_timeout;  // empty: no stall detection
  std::string on_stall = "fail";
  std::string record;  // replay file to write; empty: none
  std::string protoset_out;  // where to save the method's schema; empty: nowhere
  std::string format = "json";  // --format: of -d and of the printed messages
};

namespace {

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

Result<int> run_call(const CallOptions& opt, Io& io) {
  TRY(auto conn, to_connection_options(opt.conn));
  conn.own_subchannels = false;  // the only channel
  std::optional<Duration> stall_timeout;
  if (!opt.stall_timeout.empty()) {
    auto parsed = parse_duration(opt.stall_timeout);
    if (!parsed || *parsed <= Duration::zero())
      return usage_error(fmt::format("invalid --stall-timeout '{}': expected a positive duration like 5s or 500ms",
                                     opt.stall_timeout));
    stall_timeout = *parsed;
  }
  codec::JsonOptions json_options;
  json_options.emit_defaults = opt.emit_defaults;
  json_options.proto_names = opt.proto_names;
  json_options.allow_unknown_fields = opt.allow_unknown_fields;
  json_options.pretty = output_format(opt.output) == report::OutputFormat::text;
  // --format text: requests in text format; responses too where they are printed as text (the
  // JSON events of -o json always hold JSON).
  const bool text_format = opt.format == "text";
  json_options.text_format = text_format && json_options.pretty;
  codec::MessageCodec codec(json_options);
  codec::JsonOptions request_options = json_options;
  request_options.text_format = text_format;
  codec::MessageCodec request_codec(request_options);

  // Input that is not a streaming stdin is read and checked before any RPC is made.
  std::string source_name = opt.has_data ? rpc::request_source_name(opt.data) : "-d";
  // Text-format messages are cut at record separators, so a text stdin is read whole.
  bool stream_stdin = opt.has_data && rpc::reads_stdin(opt.data) && !text_format;
  std::optional<std::string> data_text;
  if (opt.has_data && !stream_stdin) {
    TRY(auto text, rpc::read_request_text(opt.data));
    data_text = std::move(text);
  }

  TRY(auto p, schema::resolve_method(opt.schema, conn, opt.method));
  if (opt.output.verbose) print_schema_notes(io, *p.schema);
  // The channel and the schema (whose pool owns `method`) live until the process ends: main()
  // exits without tearing them down.
  keep_until_exit(p.channel);
  keep_until_exit(std::shared_ptr<const schema::SchemaSource>(std::move(p.schema)));
  const pb::MethodDescriptor* method = p.method;
  // Saved before the call, so a call that fails still leaves the schema behind.
  if (!opt.protoset_out.empty()) TRY_VOID(schema::write_protoset(opt.protoset_out, {method->service()->file()}));
  const bool client_streams = method->client_streaming();
  if (!client_streams && stream_stdin) {
    TRY(auto text, rpc::read_request_text(opt.data));
    data_text = std::move(text);
    stream_stdin = false;
  }

  std::unique_ptr<rpc::RequestSource> requests;
  std::optional<std::string> unary_request;  // the one request of a unary method
  if (stream_stdin) {
    requests = std::make_unique<rpc::StreamingJsonSource>(STDIN_FILENO, source_name, method->input_type(), request_codec);
  } else {
    std::vector<std::string> messages;
    if (data_text) {
      TRY(messages, rpc::encode_json_messages(*data_text, source_name, method->input_type(), request_codec));
    }
    if (!client_streams) {
      if (messages.size() > 1)
        return local_error(fmt::format("{} takes one request message, but {} were given", method->full_name(),
                                       messages.size()),
                           "pass a single JSON object with -d");
      if (messages.empty()) messages.emplace_back();  // the empty message
      if (!method->server_streaming()) unary_request = messages.front();
    }
    requests = std::make_unique<rpc::ListRequestSource>(std::move(messages));
  }

  report::CallReport report(io, {output_format(opt.output), opt.output.verbose, conn.show_secrets, json_options});
  std::string method_path = "/" + method->service()->full_name() + "/" + method->name();
  net::Metadata shown = net::rpc_metadata(conn);
  // gRPC writes user-agent itself, with the prefix --user-agent / -H 'user-agent: ...' gave.
  if (!conn.user_agent.empty()) shown.push_back({"user-agent", conn.user_agent + " grpc-c++/" + grpc::Version()});
  report.request(method_path, shown);

  std::unique_ptr<stream::ReplayRecorder> recorder;
  if (!opt.record.empty()) {
    TRY(recorder, stream::ReplayRecorder::open(opt.record, conn.show_secrets));
    recorder->request_metadata(0, net::rpc_metadata(conn));
  }
  // The recording is always compact JSON, whatever the output format.
  codec::JsonOptions record_options = json_options;
  record_options.pretty = false;
  record_options.text_format = false;
  codec::MessageCodec record_codec(record_options);
  const auto call_start = std::chrono::steady_clock::now();

  // Output comes from gRPC threads and, for stalls, from the monitor thread.
  std::mutex out_mutex;
  std::optional<Error> decode_error;
  rpc::CallSink sink;
  sink.on_headers = [&](const net::Metadata& md) {
    std::lock_guard lock(out_mutex);
    report.headers(md);
    if (recorder) recorder->headers(ms_since(call_start), md);
  };
  if (recorder) {
    sink.on_send_started = [&](const std::string& bytes) {
      double t = ms_since(call_start);
      auto message = record_codec.from_bytes(bytes, method->input_type());
      if (!message) return;
      if (auto json = record_codec.to_json(**message)) recorder->send(t, *json);
    };
  }
  int received = 0;
  sink.on_message = [&](const std::string& bytes) {
    std::lock_guard lock(out_mutex);
    double t = ms_since(call_start);
    auto decoded = codec.decode(bytes, method->output_type());
    if (!decoded) {
      decode_error = decoded.error();
      return false;
    }
    report.message(decoded->json);
    if (recorder) {
      if (auto compact = record_codec.to_json(*decoded->message)) recorder->recv(t, *compact);
    }
    ++received;
    return opt.max_messages <= 0 || received < opt.max_messages;
  };
  rpc::InvokeOptions invoke_options;
  invoke_options.method_path = method_path;
  invoke_options.prepare = [&](grpc::ClientContext& ctx) { net::prepare_context(ctx, conn); };
  std::optional<stream::StallDetector> detector;
  std::optional<stream::StallMonitor> monitor;
  const bool fail_on_stall = opt.on_stall == "fail";
  if (stall_timeout) {
    detector.emplace(*stall_timeout);
    stream::observe_progress(sink, *detector);
    stream::StallMonitorOptions stall_options;
    stall_options.cancel_on_stall = fail_on_stall;
    // The server's view of this connection in the report, when the server offers channelz.
    stall_options.server_view = channelz::server_view_lookup(conn, channelz::k_stall_lookup_budget);
    monitor.emplace(*detector, p.channel, stall_options,
                    [&](const stream::StallEvent& event) {
                      std::lock_guard lock(out_mutex);
                      report.stall(event, !fail_on_stall);
                    });
    invoke_options.monitor = [&](const std::function<void()>& cancel, const std::atomic<bool>& ended) {
      monitor->run(cancel, ended);
    };
  }
  // A plain unary call takes the lighter path; streams and stall watching need the reactor.
  rpc::CallResult result = unary_request && !invoke_options.monitor
                               ? rpc::invoke_unary(p.channel, invoke_options, *unary_request, sink)
                               : rpc::invoke(p.channel, invoke_options, *requests, sink);
  std::optional<stream::StallEvent> stall = monitor ? monitor->first_stall() : std::nullopt;

  if (recorder) {
    // A call we ended ourselves (a stall, --max-messages) has no status of the server's to replay.
    if (!result.cancelled_on_purpose && !(stall && fail_on_stall))
      recorder->status(std::chrono::duration<double, std::milli>(result.end - call_start).count(), result.code,
                       result.message, result.trailers);
    TRY_VOID(recorder->close());
  }
  if (decode_error) return std::unexpected(*decode_error);
  if (result.input_error) return std::unexpected(*result.input_error);
  if (stall && fail_on_stall) {
    io.out.flush();
    io.err << "error: stream stalled: " << report::stall_summary(*stall) << "; the call was cancelled"
           << " (raise --stall-timeout if the peer is just slow, or use --on-stall report to keep waiting)"
           << std::endl;
    return k_exit_stall;
  }
  if (result.cancelled_on_purpose) {
    result.code = 0;
    result.message = fmt::format("stopped after {} messages (--max-messages)", received);
  }
  report.status(result, p.connect_time, method->file()->pool());
  if (result.code != 0)
    return status_error(result.code, result.message, rpc::hint_for_status(result.code, result.message, conn.plaintext));
  return k_exit_ok;
}

}  // namespace

void register_call(CLI::App& app, CommandSlot& slot) {
  using M = MentionedOptions;  // declares only what the command line names (register_for)
  auto opt = std::make_shared<CallOptions>();
  auto* cmd = app.add_subcommand("call", "Call a method (unary, client, server or bidi streaming) with JSON in and out");
  add_connection_flags(cmd, opt->conn);
  add_max_time_flag(cmd, opt->conn);
  cmd->add_option("method", opt->method, "pkg.Service/Method or pkg.Service.Method")->required();
  CLI::Option* data = nullptr;
  if (M::declares("-d,--data"))
    data = cmd->add_option("-d,--data", opt->data,
                           "Request JSON: one object, or several for a client stream; @FILE reads a file, @- standard "
                           "input");
  add_schema_flags(cmd, opt->schema);
  add_protoset_out_flag(cmd, opt->protoset_out);
  add_output_flags(cmd, opt->output);
  if (M::declares("--format"))
    cmd->add_option("--format", opt->format,
                    "Messages in -d and in text output as protobuf JSON or protobuf text format (several text "
                    "messages are separated by the ASCII record separator, 0x1E)")
        ->check(CLI::IsMember({"json", "text"}))
        ->capture_default_str();
  if (M::declares("--emit-defaults"))
    cmd->add_flag("--emit-defaults", opt->emit_defaults, "Print fields that hold default values");
  if (M::declares("--proto-names"))
    cmd->add_flag("--proto-names", opt->proto_names, "Print .proto field names instead of lowerCamelCase");
  if (M::declares("--allow-unknown-fields"))
    cmd->add_flag("--allow-unknown-fields", opt->allow_unknown_fields,
                  "Ignore request fields the message type does not have");
  if (M::declares("--max-messages"))
    cmd->add_option("--max-messages", opt->max_messages, "End a server or bidi stream cleanly after N responses")
        ->transform(whole_number(1, INT_MAX));
  if (M::declares("--stall-timeout"))
    cmd->add_option("--stall-timeout", opt->stall_timeout,
                    "Report a stall when the stream makes no progress (no message received, no pending send "
                    "completing) for DUR; exit 5");
  if (M::declares("--on-stall"))
    cmd->add_option("--on-stall", opt->on_stall,
                    "With --stall-timeout: fail cancels the call and exits 5; report prints the stall and keeps "
                    "waiting")
        ->check(CLI::IsMember({"fail", "report"}))
        ->capture_default_str();
  if (M::declares("--record"))
    cmd->add_option("--record", opt->record,
                    "Write the exchange to FILE as a replay file (one JSON object a line; mode 0600) for "
                    "`grpcdx replay`");
  cmd->callback([opt, data, &slot] {
    opt->has_data = data && data->count() > 0;
    slot.run = [opt](Io& io) { return run_call(*opt, io); };
  });
}

}  // namespace grpcdx::commands
