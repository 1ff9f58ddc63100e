// The Channelz service from gRPC core's grpc_channelz_get_* JSON.
#include "channelz/service.hpp"

#include <cstdint>
#include <memory>

#include <google/protobuf/util/json_util.h>
#include <grpc/grpc.h>
#include <grpc/support/alloc.h>

namespace grpcdx::channelz {

namespace v1 = grpc::channelz::v1;

namespace {

// Core's answer, freed with gpr_free.
using CoreJson = std::unique_ptr<char, decltype(&gpr_free)>;

CoreJson core(char* json) { return CoreJson(json, &gpr_free); }

// Ids on the wire are int64; core takes intptr_t (64 bits on every platform we build for).
intptr_t id(int64_t value) { return static_cast<intptr_t>(value); }

}  // namespace

grpc::Status parse_core_json(const char* json, google::protobuf::Message& out, const char* what) {
  if (json == nullptr) return grpc::Status(grpc::StatusCode::NOT_FOUND, std::string("no such ") + what);
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(json, &out, options);
  if (!status.ok())
    return grpc::Status(grpc::StatusCode::INTERNAL,
                        std::string("channelz JSON of ") + what + " does not parse: " + status.ToString());
  return grpc::Status::OK;
}

grpc::Status ChannelzService::GetTopChannels(grpc::ServerContext*, const v1::GetTopChannelsRequest* request,
                                             v1::GetTopChannelsResponse* response) {
  auto json = core(grpc_channelz_get_top_channels(id(request->start_channel_id())));
  return parse_core_json(json.get(), *response, "top channels");
}

grpc::Status ChannelzService::GetServers(grpc::ServerContext*, const v1::GetServersRequest* request,
                                         v1::GetServersResponse* response) {
  auto json = core(grpc_channelz_get_servers(id(request->start_server_id())));
  return parse_core_json(json.get(), *response, "servers");
}

grpc::Status ChannelzService::GetServer(grpc::ServerContext*, const v1::GetServerRequest* request,
                                        v1::GetServerResponse* response) {
  auto json = core(grpc_channelz_get_server(id(request->server_id())));
  return parse_core_json(json.get(), *response, "server");
}

grpc::Status ChannelzService::GetServerSockets(grpc::ServerContext*, const v1::GetServerSocketsRequest* request,
                                               v1::GetServerSocketsResponse* response) {
  // 0 asks core for its default page (100 sockets).
  auto json = core(grpc_channelz_get_server_sockets(id(request->server_id()), id(request->start_socket_id()),
                                                    id(request->max_results())));
  return parse_core_json(json.get(), *response, "server sockets");
}

grpc::Status ChannelzService::GetChannel(grpc::ServerContext*, const v1::GetChannelRequest* request,
                                         v1::GetChannelResponse* response) {
  auto json = core(grpc_channelz_get_channel(id(request->channel_id())));
  return parse_core_json(json.get(), *response, "channel");
}

grpc::Status ChannelzService::GetSubchannel(grpc::ServerContext*, const v1::GetSubchannelRequest* request,
                                            v1::GetSubchannelResponse* response) {
  auto json = core(grpc_channelz_get_subchannel(id(request->subchannel_id())));
  return parse_core_json(json.get(), *response, "subchannel");
}

grpc::Status ChannelzService::GetSocket(grpc::ServerContext*, const v1::GetSocketRequest* request,
                                        v1::GetSocketResponse* response) {
  auto json = core(grpc_channelz_get_socket(id(request->socket_id())));
  return parse_core_json(json.get(), *response, "socket");
}

}  // namespace grpcdx::channelz
