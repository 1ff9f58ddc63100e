// A client of grpc.channelz.v1.Channelz: the server's servers, their sockets, its channels and
// subchannels, each list read to its end across channelz's pages.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <grpcpp/channel.h>

#include "core/duration.hpp"
#include "core/error.hpp"
#include "grpc/channelz/v1/channelz.pb.h"
#include "net/channel.hpp"

namespace grpcdx::channelz {

namespace v1 = grpc::channelz::v1;

// Everything `grpcdx channelz TARGET` shows, in the order the server listed it.
struct Snapshot {
  std::vector<v1::Server> servers;
  std::vector<v1::Socket> sockets;  // the servers' sockets, then the subchannels'
  std::vector<int64_t> socket_server;  // for each socket, the server it belongs to; 0: a subchannel's
  std::vector<v1::Channel> channels;
  std::vector<v1::Subchannel> subchannels;
};

// Calls on `channel` with the metadata of `conn` and, per RPC, `timeout` (or conn's rpc_timeout
// when not given). Every method fails (local) with a hint when the server has no channelz
// (UNIMPLEMENTED), and (rpc_status) with the call's status otherwise.
class Client {
 public:
  Client(std::shared_ptr<grpc::Channel> channel, net::ConnectionOptions conn,
         std::optional<Duration> timeout = std::nullopt);

  // Every server (GetServers, page after page).
  Result<std::vector<v1::Server>> servers();
  // The refs of every socket of server `server_id` (GetServerSockets, page after page).
  Result<std::vector<v1::SocketRef>> server_sockets(int64_t server_id);
  // One socket in full; NOT_FOUND (rpc_status) for an id the server does not know.
  Result<v1::Socket> socket(int64_t socket_id);
  // Every top channel (GetTopChannels, page after page).
  Result<std::vector<v1::Channel>> top_channels();
  Result<v1::Subchannel> subchannel(int64_t subchannel_id);

  // All of it: servers, every server socket, top channels, their subchannels and the
  // subchannels' sockets. A socket or subchannel that closes while being read is left out.
  Result<Snapshot> snapshot();

 private:
  std::shared_ptr<grpc::Channel> m_channel;
  net::ConnectionOptions m_conn;
  std::optional<Duration> m_timeout;
};

// Where a page of a channelz listing left off: the largest id it held, and whether the server
// said it was the last.
struct PageEnd {
  int64_t last_id;
  bool end;
};

// The most pages a listing is followed for (a server that never says `end`).
constexpr int k_max_pages = 1000;

// Follows a channelz listing page by page: `page(start)` asks for the items from id `start` on,
// keeps them and says where the page ended (Result<PageEnd>). Stops at the server's last page,
// at a page that brings nothing past `start` (a server that repeats itself), after k_max_pages,
// or at the first failed page, whose error it returns.
template <class Page>
Result<void> follow_pages(Page page) {
  int64_t start = 0;
  for (int n = 0; n < k_max_pages; ++n) {
    TRY(PageEnd got, page(start));
    if (got.end || got.last_id < start) break;
    start = got.last_id + 1;
  }
  return {};
}

// The error of a failed channelz RPC `method`: UNIMPLEMENTED becomes a local error saying the
// server offers no channelz and how servers turn it on; other codes stay rpc_status with the
// usual hint.
Error channelz_error(int code, const std::string& message, const std::string& method, bool plaintext);

}  // namespace grpcdx::channelz
