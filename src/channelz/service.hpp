// grpc.channelz.v1.Channelz for `grpcdx serve`, answered from gRPC core's own channelz registry.
//
// Why not Debian's libgrpcpp_channelz: its archive and shared library carry their own compiled
// channelz.pb.cc, which registers grpc/channelz/v1/channelz.proto with protobuf's generated pool
// at start-up. The client side (`grpcdx channelz`, stall reports) needs channelz.pb.h, which the
// package does not install, so we generate it ourselves, and two registrations of one file abort
// the process ("Symbol name grpc.channelz.v1.Channel conflicts with the existing symbol", checked
// with the shared library). Core's grpc_channelz_get_* functions return the same data as
// channelz's JSON mapping, so the service parses that JSON into our own generated messages, as
// the plugin itself does, and our copy registers lazily like the other generated files.
#pragma once

#include "grpc/channelz/v1/channelz.grpc.pb.h"

namespace grpcdx::channelz {

// The Channelz service over this process's channelz data (its servers, their sockets, and the
// channels it opened). Every method answers INTERNAL when core's JSON does not parse, NOT_FOUND
// for an unknown id.
class ChannelzService final : public grpc::channelz::v1::Channelz::Service {
 public:
  grpc::Status GetTopChannels(grpc::ServerContext*, const grpc::channelz::v1::GetTopChannelsRequest*,
                              grpc::channelz::v1::GetTopChannelsResponse*) override;
  grpc::Status GetServers(grpc::ServerContext*, const grpc::channelz::v1::GetServersRequest*,
                          grpc::channelz::v1::GetServersResponse*) override;
  grpc::Status GetServer(grpc::ServerContext*, const grpc::channelz::v1::GetServerRequest*,
                         grpc::channelz::v1::GetServerResponse*) override;
  grpc::Status GetServerSockets(grpc::ServerContext*, const grpc::channelz::v1::GetServerSocketsRequest*,
                                grpc::channelz::v1::GetServerSocketsResponse*) override;
  grpc::Status GetChannel(grpc::ServerContext*, const grpc::channelz::v1::GetChannelRequest*,
                          grpc::channelz::v1::GetChannelResponse*) override;
  grpc::Status GetSubchannel(grpc::ServerContext*, const grpc::channelz::v1::GetSubchannelRequest*,
                             grpc::channelz::v1::GetSubchannelResponse*) override;
  grpc::Status GetSocket(grpc::ServerContext*, const grpc::channelz::v1::GetSocketRequest*,
                         grpc::channelz::v1::GetSocketResponse*) override;
};

// Parses core's channelz JSON (as grpc_channelz_get_* return it) into `out`: NOT_FOUND naming
// `what` when `json` is null (core knows no such id), INTERNAL with protobuf's parse error when
// it does not parse. Fields core writes that the .proto lacks are ignored.
grpc::Status parse_core_json(const char* json, google::protobuf::Message& out, const char* what);

}  // namespace grpcdx::channelz
