// Finding a stalled call's socket on the server, and the words for which side stopped.
#include "channelz/stall_view.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>

#include <fmt/format.h>
#include <grpc/grpc.h>
#include <grpc/support/alloc.h>

#include "channelz/format.hpp"
#include "channelz/service.hpp"
#include "core/keep_until_exit.hpp"

namespace grpcdx::channelz {

namespace {

// The 4 bytes of an IPv4 address, also when written as IPv4-mapped IPv6 (::ffff:a.b.c.d, as
// grpc-go and dual-stack listeners report it).
std::string canonical_ip(const std::string& ip) {
  static const char k_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\xff', '\xff'};
  if (ip.size() == 16 && std::memcmp(ip.data(), k_mapped, 12) == 0) return ip.substr(12);
  return ip;
}

template <class M>
std::optional<M> core_message(char* json, const char* what) {
  std::unique_ptr<char, decltype(&gpr_free)> owned(json, &gpr_free);
  M message;
  if (!parse_core_json(json, message, what).ok()) return std::nullopt;
  return message;
}

std::string seconds(double ms) { return fmt::format("{:.1f} s", ms / 1000); }

}  // namespace

bool same_endpoint(const v1::Address& a, const v1::Address& b) {
  if (a.has_tcpip_address() && b.has_tcpip_address())
    return a.tcpip_address().port() == b.tcpip_address().port() &&
           canonical_ip(a.tcpip_address().ip_address()) == canonical_ip(b.tcpip_address().ip_address());
  if (a.has_uds_address() && b.has_uds_address()) return a.uds_address().filename() == b.uds_address().filename();
  return false;
}

stream::ServerSocketView server_view_of(const v1::Socket& socket, std::chrono::system_clock::time_point now) {
  const auto& d = socket.data();
  stream::ServerSocketView view;
  view.socket_id = socket.ref().socket_id();
  if (d.has_local_flow_control_window()) view.local_flow_control_window = d.local_flow_control_window().value();
  if (d.has_remote_flow_control_window()) view.remote_flow_control_window = d.remote_flow_control_window().value();
  view.messages_sent = d.messages_sent();
  view.messages_received = d.messages_received();
  view.last_message_sent_ms_ago = ms_before(d.last_message_sent_timestamp(), now);
  view.last_message_received_ms_ago = ms_before(d.last_message_received_timestamp(), now);
  return view;
}

std::string which_side(const stream::Stall& stall, const stream::ServerSocketView& view) {
  const double idle_ms = std::chrono::duration<double, std::milli>(stall.idle).count();
  if (view.local_flow_control_window && *view.local_flow_control_window <= 0)
    return fmt::format("the server has {} bytes of window towards you: it is waiting for you to read",
                       *view.local_flow_control_window);
  if (stall.kind == stream::StallKind::send_blocked) {
    std::string received =
        view.last_message_received_ms_ago
            ? fmt::format("the server received {} messages on this connection, the last {} ago",
                          view.messages_received, seconds(*view.last_message_received_ms_ago))
            : fmt::format("the server received {} messages on this connection", view.messages_received);
    if (view.remote_flow_control_window && *view.remote_flow_control_window <= 0)
      return fmt::format("the server gives you 0 bytes of window and {}: it has stopped reading (its handler "
                         "does not read the stream)",
                         received.substr(std::strlen("the server ")));
    return received + ": its handler has stopped reading your messages, and HTTP/2 flow control holds your sends";
  }
  // recv_idle: nothing reached the client for `idle`. The server's counts are the whole
  // connection's, and the transport check's answer is among them: the stream's own quiet time
  // is the client's `idle` unless the server has been quiet longer.
  if (view.client_messages_received && view.messages_sent > *view.client_messages_received)
    return fmt::format("the server sent {} messages on this connection and {} reached you: the rest are held "
                       "between you and the server",
                       view.messages_sent, *view.client_messages_received);
  double quiet_ms = std::max(idle_ms, view.last_message_sent_ms_ago.value_or(0));
  if (view.messages_sent == 0)
    return "the server received your messages and has sent nothing on this connection: the handler is stuck";
  return fmt::format("the server received your messages and sent nothing for {}: the handler is stuck",
                     seconds(quiet_ms));
}

std::vector<v1::Socket> own_client_sockets() {
  std::vector<v1::Socket> out;
  // A page this process's own core cannot give or parse ends the listing with what was read.
  (void)follow_pages([&](int64_t start) -> Result<PageEnd> {
    auto channels = core_message<v1::GetTopChannelsResponse>(
        grpc_channelz_get_top_channels(static_cast<intptr_t>(start)), "top channels");
    if (!channels) return local_error("no top channels");
    PageEnd page{start - 1, channels->end()};
    for (const auto& channel : channels->channel()) {
      page.last_id = std::max(page.last_id, channel.ref().channel_id());
      for (const auto& sub_ref : channel.subchannel_ref()) {
        auto sub = core_message<v1::GetSubchannelResponse>(
            grpc_channelz_get_subchannel(static_cast<intptr_t>(sub_ref.subchannel_id())), "subchannel");
        if (!sub) continue;
        for (const auto& socket_ref : sub->subchannel().socket_ref()) {
          auto socket = core_message<v1::GetSocketResponse>(
              grpc_channelz_get_socket(static_cast<intptr_t>(socket_ref.socket_id())), "socket");
          if (socket) out.push_back(socket->socket());
        }
      }
    }
    return page;
  });
  return out;
}

namespace {

// The state a lookup keeps between stalls: its channel and the sockets that channel made.
class Lookup {
 public:
  Lookup(net::ConnectionOptions conn, Duration budget) : m_conn(std::move(conn)), m_budget(budget) {
    m_conn.own_subchannels = true;  // a connection of its own, never the stalled one
    m_conn.connect_timeout = budget;
    m_conn.rpc_timeout = budget;
  }

  std::optional<stream::ServerSocketView> find(const stream::Stall&) {
    std::lock_guard lock(m_mutex);
    const auto deadline = std::chrono::steady_clock::now() + m_budget;
    auto left = [&] { return std::chrono::duration_cast<Duration>(deadline - std::chrono::steady_clock::now()); };
    if (!m_channel) {
      // Our connections before the lookup's own exists: the ones it may be looking for.
      auto before = own_client_sockets();
      auto channel = net::make_channel(m_conn);
      if (!channel) return std::nullopt;
      m_channel = *channel;
      keep_until_exit(m_channel);  // main() exits without the channel's teardown
      m_conn.connect_timeout = std::max<Duration>(left(), Duration(1));
      if (!net::wait_for_connection(*m_channel, m_conn)) return std::nullopt;
      for (auto& socket : own_client_sockets()) {
        bool old = std::any_of(before.begin(), before.end(),
                               [&](const v1::Socket& s) { return same_endpoint(s.local(), socket.local()); });
        if (!old) m_own.push_back(socket.local());
      }
    }
    std::vector<v1::Socket> ours;
    for (auto& socket : own_client_sockets()) {
      bool lookup_own = std::any_of(m_own.begin(), m_own.end(),
                                    [&](const v1::Address& a) { return same_endpoint(a, socket.local()); });
      if (!lookup_own) ours.push_back(std::move(socket));
    }
    if (ours.empty()) return std::nullopt;
    auto timed_client = [&] { return Client(m_channel, m_conn, std::max<Duration>(left(), Duration(1))); };
    auto servers = timed_client().servers();
    if (!servers) return std::nullopt;
    // Several of our connections may reach the server (a process that also runs the server and
    // more channels, like `demo`): the stalled one has a stream open; among those, the newest.
    std::optional<stream::ServerSocketView> best;
    bool best_open = false;
    int64_t best_created = -1;
    for (const auto& server : *servers) {
      if (left() <= Duration::zero()) break;
      auto refs = timed_client().server_sockets(server.ref().server_id());
      if (!refs) continue;
      for (const auto& ref : *refs) {
        if (left() <= Duration::zero()) break;
        auto socket = timed_client().socket(ref.socket_id());
        if (!socket) continue;
        for (const auto& own : ours) {
          if (!same_endpoint(socket->remote(), own.local())) continue;
          const auto& d = socket->data();
          bool open = d.streams_started() > d.streams_succeeded() + d.streams_failed();
          int64_t created = d.last_remote_stream_created_timestamp().seconds() * 1'000'000'000 +
                            d.last_remote_stream_created_timestamp().nanos();
          if (best && ((best_open && !open) || (best_open == open && created <= best_created))) continue;
          best = server_view_of(*socket, std::chrono::system_clock::now());
          best->client_messages_received = own.data().messages_received();
          best_open = open;
          best_created = created;
        }
      }
    }
    return best;
  }

 private:
  std::mutex m_mutex;
  net::ConnectionOptions m_conn;
  Duration m_budget;
  std::shared_ptr<grpc::Channel> m_channel;
  std::vector<v1::Address> m_own;  // the lookup channel's own connections
};

}  // namespace

stream::ServerViewFn server_view_lookup(const net::ConnectionOptions& conn, Duration budget) {
  auto lookup = std::make_shared<Lookup>(conn, budget);
  return [lookup](const stream::Stall& stall) { return lookup->find(stall); };
}

}  // namespace grpcdx::channelz
