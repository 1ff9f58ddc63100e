// The join of a stalled call with the server's view of its connection: finds, among the server's
// channelz sockets, the one whose remote address is this process's end of the call's connection,
// and says in words which side stopped.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "channelz/client.hpp"
#include "core/duration.hpp"
#include "net/channel.hpp"
#include "stream/stall_monitor.hpp"

namespace grpcdx::channelz {

// Whether two channelz addresses are the same endpoint (an IPv4 address and its IPv4-mapped
// IPv6 form are; unix sockets by file name).
bool same_endpoint(const v1::Address& a, const v1::Address& b);

// The stall-report fields of a server socket, with times measured back from `now`.
stream::ServerSocketView server_view_of(const v1::Socket& socket, std::chrono::system_clock::time_point now);

// In words, which side stopped, from the stall the client saw and the server's view of the same
// connection: "the server has 0 bytes of window towards you: it is waiting for you to read",
// "the server received your messages and sent nothing for 5.1 s: the handler is stuck", ...
std::string which_side(const stream::Stall& stall, const stream::ServerSocketView& view);

// This process's own client connections (the sockets of the subchannels of its channels), read
// from gRPC core's channelz registry. Empty when channelz is off.
std::vector<v1::Socket> own_client_sockets();

// How long a stall report may wait for the server's view.
inline constexpr Duration k_stall_lookup_budget = std::chrono::seconds(2);

// A ServerViewFn for `call` and `replay`: at a stall it opens (once) a channel of its own to the
// same target (its own subchannel pool, so a stuck connection cannot hold it up), reads the
// server's sockets with `budget` for the whole lookup, and returns the view of the socket whose
// remote address is one of this process's connections to the server (not the lookup's own).
// nullopt when the server has no channelz, the socket is not found or the budget runs out.
stream::ServerViewFn server_view_lookup(const net::ConnectionOptions& conn, Duration budget);

}  // namespace grpcdx::channelz
