// Text and JSON-event rendering of calls.
#include "report/call_report.hpp"

#include <fmt/format.h>

#include "channelz/stall_view.hpp"
#include "codec/status_details.hpp"
#include "core/base64.hpp"
#include "core/printable.hpp"
#include "report/json_line.hpp"
#include "rpc/status_codes.hpp"

namespace grpcdx::report {

nlohmann::ordered_json metadata_json(const net::Metadata& metadata, bool show_secrets) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& m : metadata) {
    std::string value = m.key.ends_with("-bin") ? base64_encode(m.value) : m.value;
    out[m.key].push_back(net::shown_value(m.key, value, show_secrets));
  }
  return out;
}

namespace {

void print_metadata_text(std::ostream& out, const char* title, const net::Metadata& metadata, bool show_secrets) {
  out << title << (metadata.empty() ? " (none)\n" : ":\n");
  for (const auto& m : metadata) {
    std::string value = m.key.ends_with("-bin") ? base64_encode(m.value) : m.value;
    out << "  " << m.key << ": " << net::shown_value(m.key, value, show_secrets) << "\n";
  }
}

double ms_between(rpc::Clock::time_point a, rpc::Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace

std::string stall_summary(const stream::StallEvent& e) {
  double idle_s = to_ms(e.stall.idle) / 1000;
  std::string what = e.stall.kind == stream::StallKind::send_blocked
                         ? fmt::format("send_blocked: a send has waited {:.2f}s (the peer is not reading; HTTP/2 "
                                       "flow control is exhausted)",
                                       idle_s)
                         : fmt::format("recv_idle: nothing received for {:.2f}s while the call is open", idle_s);
  std::string transport;
  switch (e.transport) {
    case stream::TransportCheck::alive:
      transport = "transport alive: the peer answers on this connection, only this stream is stuck";
      break;
    case stream::TransportCheck::unresponsive:
      transport = "transport unresponsive: the connection itself is dead or blackholed";
      break;
    case stream::TransportCheck::pending: transport = "transport check: no answer yet"; break;
    case stream::TransportCheck::not_run: transport = "transport not checked"; break;
  }
  std::string summary = fmt::format("{} (sent {}, received {}; channel {}; {})", what, e.stall.sent,
                                    e.stall.received, e.channel_state, transport);
  if (e.server_view) summary += "; server's view (channelz): " + channelz::which_side(e.stall, *e.server_view);
  return summary;
}

void CallReport::stall(const stream::StallEvent& e, bool warn) {
  if (m_options.format == OutputFormat::json) {
    nlohmann::ordered_json event;
    event["event"] = "stall";
    event["kind"] = std::string(stream::stall_kind_name(e.stall.kind));
    event["idle_ms"] = std::round(to_ms(e.stall.idle) * 1000) / 1000;
    event["sent"] = e.stall.sent;
    event["received"] = e.stall.received;
    event["channel_state"] = e.channel_state;
    event["transport"] = std::string(stream::transport_check_name(e.transport));
    if (e.server_view) {
      const auto& v = *e.server_view;
      nlohmann::ordered_json view;
      auto optional = [](const auto& value) { return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(); };
      auto rounded = [](const std::optional<double>& ms) {
        return ms ? nlohmann::ordered_json(std::round(*ms * 1000) / 1000) : nlohmann::ordered_json();
      };
      view["socket_id"] = v.socket_id;
      view["local_flow_control_window"] = optional(v.local_flow_control_window);
      view["remote_flow_control_window"] = optional(v.remote_flow_control_window);
      view["messages_sent"] = v.messages_sent;
      view["messages_received"] = v.messages_received;
      view["last_message_sent_ms_ago"] = rounded(v.last_message_sent_ms_ago);
      view["last_message_received_ms_ago"] = rounded(v.last_message_received_ms_ago);
      view["which_side"] = channelz::which_side(e.stall, v);
      event["server_view"] = std::move(view);
    }
    m_io.out << json_line(event) << std::endl;
  } else if (warn) {
    m_io.err << "warning: stream stalled: " << stall_summary(e) << std::endl;
  }
}

void CallReport::request(const std::string& method, const net::Metadata& metadata) {
  if (!m_options.verbose || m_options.format == OutputFormat::json) return;
  m_io.err << "Method: " << method << "\n";
  print_metadata_text(m_io.err, "Request metadata", metadata, m_options.show_secrets);
  m_io.err.flush();
}

void CallReport::headers(const net::Metadata& metadata) {
  if (m_options.format == OutputFormat::json) {
    nlohmann::ordered_json event;
    event["event"] = "headers";
    event["metadata"] = metadata_json(metadata, m_options.show_secrets);
    m_io.out << json_line(event) << std::endl;
  } else if (m_options.verbose) {
    print_metadata_text(m_io.err, "Response headers", metadata, m_options.show_secrets);
    m_io.err.flush();
  }
}

void CallReport::message(const std::string& json) {
  if (m_options.format == OutputFormat::json) {
    m_io.out << "{\"event\":\"message\",\"message\":" << json << "}" << std::endl;
  } else {
    m_io.out << json << std::endl;
  }
}

void CallReport::status(const rpc::CallResult& r, std::optional<Duration> connect,
                        const google::protobuf::DescriptorPool* schema) {
  double elapsed = ms_between(r.start, r.end);
  codec::StatusDetails details = codec::decode_status_details(r.details, schema, m_options.json);
  if (m_options.format == OutputFormat::json) {
    nlohmann::ordered_json event;
    event["event"] = "status";
    event["code"] = r.code;
    event["code_name"] = rpc::status_name(r.code);
    event["message"] = r.message;
    if (!details.details.empty()) {
      event["details"] = nlohmann::ordered_json::array();
      for (const auto& detail : details.details) event["details"].push_back(detail.json);
    }
    event["trailers"] = metadata_json(r.trailers, m_options.show_secrets);
    event["elapsed_ms"] = std::round(elapsed * 1000) / 1000;
    if (m_options.verbose) {
      nlohmann::ordered_json t;
      if (connect) t["connect_ms"] = std::round(to_ms(*connect) * 1000) / 1000;
      if (r.headers_at) t["headers_ms"] = std::round(ms_between(r.start, *r.headers_at) * 1000) / 1000;
      if (r.first_message_at)
        t["first_message_ms"] = std::round(ms_between(r.start, *r.first_message_at) * 1000) / 1000;
      t["sent"] = r.sent;
      t["received"] = r.received;
      event["timing"] = t;
    }
    m_io.out << json_line(event) << std::endl;
    return;
  }
  if (m_options.verbose) {
    print_metadata_text(m_io.err, "Response trailers", r.trailers, m_options.show_secrets);
    m_io.err << fmt::format("Status: {} ({}){}{}\n", rpc::status_name(r.code), r.code,
                            r.message.empty() ? "" : ": ", printable_line(r.message));
  }
  // Each detail on a line of its own: its type, then its fields as compact JSON.
  for (const auto& detail : details.details) {
    std::string type = printable_line(detail.type_url.substr(detail.type_url.rfind('/') + 1));
    if (!detail.decoded) {
      // Neither google.rpc nor the call's schema describes the type, or the bytes do not parse.
      m_io.err << fmt::format("detail: {} (undecoded, base64) {}\n", type.empty() ? printable_line(detail.type_url) : type,
                              detail.json.value("value", ""));
      continue;
    }
    nlohmann::ordered_json fields = detail.json;
    fields.erase("@type");
    m_io.err << "detail: " << type << " "
             << fields.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
  }
  if (details.malformed)
    m_io.err << fmt::format("detail: grpc-status-details-bin ({} bytes) is not a google.rpc.Status\n",
                            r.details.size());
  if (m_options.verbose) {
    std::string timing = "Timing:";
    if (connect) timing += fmt::format(" connect {:.2f}ms,", to_ms(*connect));
    if (r.headers_at) timing += fmt::format(" headers {:.2f}ms,", ms_between(r.start, *r.headers_at));
    if (r.first_message_at)
      timing += fmt::format(" first message {:.2f}ms,", ms_between(r.start, *r.first_message_at));
    timing += fmt::format(" total {:.2f}ms ({} sent, {} received)\n", elapsed, r.sent, r.received);
    m_io.err << timing;
  }
  m_io.err.flush();
}

}  // namespace grpcdx::report
