// The channelz client: one generated stub, pages followed to the end.
#include "channelz/client.hpp"

#include <fmt/format.h>

#include "core/current_step.hpp"
#include "grpc/channelz/v1/channelz.grpc.pb.h"
#include "rpc/status_hints.hpp"

namespace grpcdx::channelz {

Error channelz_error(int code, const std::string& message, const std::string& method, bool plaintext) {
  if (code == static_cast<int>(grpc::StatusCode::UNIMPLEMENTED))
    return Error{ErrorKind::local, "the server does not offer channelz (grpc.channelz.v1.Channelz/" + method +
                                       " is UNIMPLEMENTED)",
                 "channelz is opt-in: grpc-go registers it with google.golang.org/grpc/channelz/service, "
                 "grpc-java with ChannelzService, grpc-js with addAdminServicesToServer, C++ with "
                 "grpc::channelz::experimental::InitChannelzService(); `grpcdx serve` offers it",
                 0};
  return Error{ErrorKind::rpc_status, fmt::format("channelz {}: {}", method, message),
               rpc::hint_for_status(code, message, plaintext), code};
}

Client::Client(std::shared_ptr<grpc::Channel> channel, net::ConnectionOptions conn, std::optional<Duration> timeout)
    : m_channel(std::move(channel)), m_conn(std::move(conn)), m_timeout(timeout) {}

// One unary call of the generated stub with our metadata and deadline.
#define GRPCDX_CHANNELZ_CALL(method, request, response)                                          \
  do {                                                                                           \
    grpc::ClientContext ctx;                                                                     \
    net::prepare_context(ctx, m_conn, m_timeout);                                                \
    set_current_step("calling grpc.channelz.v1.Channelz/" #method);                            \
    auto stub = v1::Channelz::NewStub(m_channel);                                                \
    grpc::Status status = stub->method(&ctx, request, &response);                                \
    if (!status.ok())                                                                            \
      return std::unexpected(channelz_error(static_cast<int>(status.error_code()),               \
                                            status.error_message(), #method, m_conn.plaintext)); \
  } while (0)

Result<std::vector<v1::Server>> Client::servers() {
  std::vector<v1::Server> out;
  TRY_VOID(follow_pages([&](int64_t start) -> Result<PageEnd> {
    v1::GetServersRequest request;
    request.set_start_server_id(start);
    v1::GetServersResponse response;
    GRPCDX_CHANNELZ_CALL(GetServers, request, response);
    PageEnd page{start - 1, response.end()};
    for (const auto& server : response.server()) {
      out.push_back(server);
      page.last_id = std::max(page.last_id, server.ref().server_id());
    }
    return page;
  }));
  return out;
}

Result<std::vector<v1::SocketRef>> Client::server_sockets(int64_t server_id) {
  std::vector<v1::SocketRef> out;
  TRY_VOID(follow_pages([&](int64_t start) -> Result<PageEnd> {
    v1::GetServerSocketsRequest request;
    request.set_server_id(server_id);
    request.set_start_socket_id(start);
    v1::GetServerSocketsResponse response;
    GRPCDX_CHANNELZ_CALL(GetServerSockets, request, response);
    PageEnd page{start - 1, response.end()};
    for (const auto& ref : response.socket_ref()) {
      out.push_back(ref);
      page.last_id = std::max(page.last_id, ref.socket_id());
    }
    return page;
  }));
  return out;
}

Result<v1::Socket> Client::socket(int64_t socket_id) {
  v1::GetSocketRequest request;
  request.set_socket_id(socket_id);
  v1::GetSocketResponse response;
  GRPCDX_CHANNELZ_CALL(GetSocket, request, response);
  return response.socket();
}

Result<std::vector<v1::Channel>> Client::top_channels() {
  std::vector<v1::Channel> out;
  TRY_VOID(follow_pages([&](int64_t start) -> Result<PageEnd> {
    v1::GetTopChannelsRequest request;
    request.set_start_channel_id(start);
    v1::GetTopChannelsResponse response;
    GRPCDX_CHANNELZ_CALL(GetTopChannels, request, response);
    PageEnd page{start - 1, response.end()};
    for (const auto& channel : response.channel()) {
      out.push_back(channel);
      page.last_id = std::max(page.last_id, channel.ref().channel_id());
    }
    return page;
  }));
  return out;
}

Result<v1::Subchannel> Client::subchannel(int64_t subchannel_id) {
  v1::GetSubchannelRequest request;
  request.set_subchannel_id(subchannel_id);
  v1::GetSubchannelResponse response;
  GRPCDX_CHANNELZ_CALL(GetSubchannel, request, response);
  return response.subchannel();
}

#undef GRPCDX_CHANNELZ_CALL

namespace {

// A socket or subchannel can close between its listing and its reading: NOT_FOUND skips it.
bool gone(const Error& e) {
  return e.kind == ErrorKind::rpc_status && e.grpc_code == static_cast<int>(grpc::StatusCode::NOT_FOUND);
}

}  // namespace

Result<Snapshot> Client::snapshot() {
  Snapshot snap;
  TRY(snap.servers, servers());
  for (const auto& server : snap.servers) {
    TRY(auto refs, server_sockets(server.ref().server_id()));
    for (const auto& ref : refs) {
      auto socket = this->socket(ref.socket_id());
      if (!socket && gone(socket.error())) continue;
      if (!socket) return std::unexpected(socket.error());
      snap.sockets.push_back(std::move(*socket));
      snap.socket_server.push_back(server.ref().server_id());
    }
  }
  TRY(snap.channels, top_channels());
  for (const auto& channel : snap.channels) {
    for (const auto& ref : channel.subchannel_ref()) {
      auto sub = subchannel(ref.subchannel_id());
      if (!sub && gone(sub.error())) continue;
      if (!sub) return std::unexpected(sub.error());
      for (const auto& socket_ref : sub->socket_ref()) {
        auto socket = this->socket(socket_ref.socket_id());
        if (!socket && gone(socket.error())) continue;
        if (!socket) return std::unexpected(socket.error());
        snap.sockets.push_back(std::move(*socket));
        snap.socket_server.push_back(0);
      }
      snap.subchannels.push_back(std::move(*sub));
    }
  }
  return snap;
}

}  // namespace grpcdx::channelz
