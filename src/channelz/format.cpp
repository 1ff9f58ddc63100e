// Tables and JSON of channelz data.
#include "channelz/format.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

namespace grpcdx::channelz {

namespace {

// Left-aligned columns separated by two spaces, a header row first.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { m_rows.push_back(std::move(header)); }
  void add(std::vector<std::string> row) { m_rows.push_back(std::move(row)); }
  std::string render(const std::string& indent) const {
    std::vector<size_t> width;
    for (const auto& row : m_rows)
      for (size_t i = 0; i < row.size(); ++i) {
        if (width.size() <= i) width.push_back(0);
        width[i] = std::max(width[i], row[i].size());
      }
    std::string out;
    for (const auto& row : m_rows) {
      std::string line = indent;
      for (size_t i = 0; i < row.size(); ++i) {
        line += row[i];
        if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
      }
      out += line + "\n";
    }
    return out;
  }

 private:
  std::vector<std::vector<std::string>> m_rows;
};

std::string window_text(const v1::SocketData& d) {
  auto one = [](bool has, const google::protobuf::Int64Value& v) { return has ? std::to_string(v.value()) : "-"; };
  return one(d.has_local_flow_control_window(), d.local_flow_control_window()) + "/" +
         one(d.has_remote_flow_control_window(), d.remote_flow_control_window());
}

std::string state_name(const v1::ChannelData& data) {
  return v1::ChannelConnectivityState_State_Name(data.state().state());
}

std::vector<std::string> socket_row(const v1::Socket& s, SystemTime now) {
  const auto& d = s.data();
  return {std::to_string(s.ref().socket_id()),
          address_text(s.local()),
          address_text(s.remote()),
          fmt::format("{}/{}/{}", d.streams_started(), d.streams_succeeded(), d.streams_failed()),
          fmt::format("{}/{}", d.messages_sent(), d.messages_received()),
          std::to_string(d.keep_alives_sent()),
          ago(d.last_message_sent_timestamp(), now),
          ago(d.last_message_received_timestamp(), now),
          window_text(d)};
}

Table socket_table() {
  return Table({"SOCKET", "LOCAL", "REMOTE", "STREAMS started/ok/failed", "MESSAGES sent/recv", "KEEPALIVES",
                "LAST SENT", "LAST RECEIVED", "WINDOW local/remote"});
}

std::string calls_text(int64_t started, int64_t succeeded, int64_t failed) {
  return fmt::format("{}/{}/{}", started, succeeded, failed);
}

// channelz's JSON mapping of `m`. An Any whose type this build does not know (a server's own
// socket option or security detail) stops protobuf's JSON printer; such an item is printed again
// with those Any values cleared, so one odd option does not hide the rest.
template <class M>
std::string json_of(const M& m) {
  std::string out;
  if (google::protobuf::util::MessageToJsonString(m, &out).ok()) return out;
  M copy = m;
  if constexpr (std::is_same_v<M, v1::Socket>) {
    for (auto& option : *copy.mutable_data()->mutable_option()) option.clear_additional();
    if (copy.security().has_other()) copy.mutable_security()->mutable_other()->clear_value();
    if (copy.local().has_other_address()) copy.mutable_local()->mutable_other_address()->clear_value();
    if (copy.remote().has_other_address()) copy.mutable_remote()->mutable_other_address()->clear_value();
  }
  out.clear();
  if (google::protobuf::util::MessageToJsonString(copy, &out).ok()) return out;
  return "{}";
}

template <class M>
std::string json_list(const std::vector<M>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + json_of(items[i]);
  return out + "]";
}

}  // namespace

std::string address_text(const v1::Address& address) {
  if (address.has_tcpip_address()) {
    const auto& tcp = address.tcpip_address();
    const std::string& ip = tcp.ip_address();
    char text[INET6_ADDRSTRLEN] = {};
    if (ip.size() == 4 && inet_ntop(AF_INET, ip.data(), text, sizeof text))
      return fmt::format("{}:{}", text, tcp.port());
    if (ip.size() == 16 && inet_ntop(AF_INET6, ip.data(), text, sizeof text))
      return fmt::format("[{}]:{}", text, tcp.port());
    return fmt::format("?:{}", tcp.port());
  }
  if (address.has_uds_address()) return "unix:" + address.uds_address().filename();
  if (address.has_other_address()) return address.other_address().name();
  return "-";
}

std::optional<double> ms_before(const google::protobuf::Timestamp& t, SystemTime now) {
  if (t.seconds() == 0 && t.nanos() == 0) return std::nullopt;
  auto since_epoch = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  double then_ns = static_cast<double>(t.seconds()) * 1e9 + t.nanos();
  return std::max(0.0, (static_cast<double>(since_epoch) - then_ns) / 1e6);
}

std::string ago(const google::protobuf::Timestamp& t, SystemTime now) {
  auto ms = ms_before(t, now);
  if (!ms) return "never";
  if (*ms < 1000) return fmt::format("{:.0f} ms ago", *ms);
  if (*ms < 60'000) return fmt::format("{:.1f} s ago", *ms / 1000);
  if (*ms < 3'600'000) return fmt::format("{:.1f} min ago", *ms / 60'000);
  return fmt::format("{:.1f} h ago", *ms / 3'600'000);
}

std::string snapshot_text(const Snapshot& snap, SystemTime now) {
  std::string out;
  out += fmt::format("Servers ({})\n", snap.servers.size());
  if (!snap.servers.empty()) {
    Table servers({"SERVER", "CALLS started/ok/failed", "LAST CALL", "LISTEN"});
    for (const auto& server : snap.servers) {
      std::string listen;
      for (const auto& ref : server.listen_socket()) listen += (listen.empty() ? "" : " ") + ref.name();
      const auto& d = server.data();
      servers.add({std::to_string(server.ref().server_id()),
                   calls_text(d.calls_started(), d.calls_succeeded(), d.calls_failed()),
                   ago(d.last_call_started_timestamp(), now), listen.empty() ? "-" : listen});
    }
    out += servers.render("  ");
  }
  auto of_server = [&](size_t i) { return i < snap.socket_server.size() ? snap.socket_server[i] : 0; };
  for (const auto& server : snap.servers) {
    int64_t id = server.ref().server_id();
    Table sockets = socket_table();
    size_t count = 0;
    for (size_t i = 0; i < snap.sockets.size(); ++i)
      if (of_server(i) == id) {
        sockets.add(socket_row(snap.sockets[i], now));
        ++count;
      }
    out += fmt::format("\nSockets of server {} ({})\n", id, count);
    if (count > 0) out += sockets.render("  ");
  }
  out += fmt::format("\nChannels ({})\n", snap.channels.size());
  if (!snap.channels.empty()) {
    Table channels({"CHANNEL", "TARGET", "STATE", "CALLS started/ok/failed", "LAST CALL", "SUBCHANNELS"});
    for (const auto& channel : snap.channels) {
      std::string subs;
      for (const auto& ref : channel.subchannel_ref())
        subs += (subs.empty() ? "" : " ") + std::to_string(ref.subchannel_id());
      const auto& d = channel.data();
      channels.add({std::to_string(channel.ref().channel_id()), d.target(), state_name(d),
                    calls_text(d.calls_started(), d.calls_succeeded(), d.calls_failed()),
                    ago(d.last_call_started_timestamp(), now), subs.empty() ? "-" : subs});
    }
    out += channels.render("  ");
  }
  if (!snap.subchannels.empty()) {
    out += fmt::format("\nSubchannels ({})\n", snap.subchannels.size());
    Table subs({"SUBCHANNEL", "TARGET", "STATE", "CALLS started/ok/failed", "SOCKETS"});
    for (const auto& sub : snap.subchannels) {
      std::string sockets;
      for (const auto& ref : sub.socket_ref())
        sockets += (sockets.empty() ? "" : " ") + std::to_string(ref.socket_id());
      const auto& d = sub.data();
      subs.add({std::to_string(sub.ref().subchannel_id()), d.target(), state_name(d),
                calls_text(d.calls_started(), d.calls_succeeded(), d.calls_failed()),
                sockets.empty() ? "-" : sockets});
    }
    out += subs.render("  ");
    Table sockets = socket_table();
    size_t count = 0;
    for (size_t i = 0; i < snap.sockets.size(); ++i)
      if (of_server(i) == 0) {
        sockets.add(socket_row(snap.sockets[i], now));
        ++count;
      }
    if (count > 0) out += fmt::format("\nSubchannel sockets ({})\n", count) + sockets.render("  ");
  }
  return out;
}

std::string socket_text(const v1::Socket& s, SystemTime now) {
  const auto& d = s.data();
  auto window = [](bool has, const google::protobuf::Int64Value& v) {
    return has ? fmt::format("{} bytes", v.value()) : std::string("not reported");
  };
  Table t({"Socket", fmt::format("{}{}", s.ref().socket_id(), s.ref().name().empty() ? "" : " (" + s.ref().name() + ")")});
  t.add({"Local", address_text(s.local())});
  t.add({"Remote", address_text(s.remote()) + (s.remote_name().empty() ? "" : " (" + s.remote_name() + ")")});
  std::string security = "plaintext";
  if (s.security().has_tls()) {
    const auto& tls = s.security().tls();
    security = "TLS";
    if (!tls.standard_name().empty()) security += " " + tls.standard_name();
    if (!tls.other_name().empty()) security += " " + tls.other_name();
  } else if (s.security().has_other()) {
    security = s.security().other().name();
  }
  t.add({"Security", security});
  t.add({"Streams", fmt::format("{} started, {} succeeded, {} failed", d.streams_started(), d.streams_succeeded(),
                                d.streams_failed())});
  t.add({"Messages", fmt::format("{} sent, {} received", d.messages_sent(), d.messages_received())});
  t.add({"Keepalives sent", std::to_string(d.keep_alives_sent())});
  t.add({"Last local stream", ago(d.last_local_stream_created_timestamp(), now)});
  t.add({"Last remote stream", ago(d.last_remote_stream_created_timestamp(), now)});
  t.add({"Last message sent", ago(d.last_message_sent_timestamp(), now)});
  t.add({"Last message received", ago(d.last_message_received_timestamp(), now)});
  t.add({"Local window", window(d.has_local_flow_control_window(), d.local_flow_control_window()) +
                             " (what the peer lets this side send)"});
  t.add({"Remote window", window(d.has_remote_flow_control_window(), d.remote_flow_control_window()) +
                              " (what this side lets the peer send)"});
  for (const auto& option : d.option())
    t.add({"Option " + option.name(), option.value().empty() ? "(see -o json)" : option.value()});
  return t.render("");
}

std::string snapshot_json(const Snapshot& snap) {
  return "{\"servers\":" + json_list(snap.servers) + ",\"sockets\":" + json_list(snap.sockets) +
         ",\"channels\":" + json_list(snap.channels) + ",\"subchannels\":" + json_list(snap.subchannels) + "}";
}

std::string socket_json(const v1::Socket& socket) { return "{\"socket\":" + json_of(socket) + "}"; }

}  // namespace grpcdx::channelz
