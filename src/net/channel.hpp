// Connection options shared by every command that connects, and the channel factory.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include "core/duration.hpp"
#include "core/error.hpp"
#include "net/metadata.hpp"
#include "net/target.hpp"

namespace grpcdx::net {

struct ConnectionOptions {
  Target target;
  bool plaintext = false;
  bool insecure = false;       // TLS without verifying the server certificate
  std::string cacert;          // PEM file of trusted roots; empty: the system roots
  std::string cert, key;       // client certificate and key (mTLS)
  std::string servername;      // SNI and the name checked against the certificate
  std::string authority;       // :authority; empty: the target's default
  Metadata metadata;           // from -H: on every request
  Metadata rpc_metadata;       // from --rpc-header: on the command's own RPCs only
  Metadata reflect_metadata;   // from --reflect-header: on server reflection only
  Duration connect_timeout = std::chrono::seconds(10);
  std::optional<Duration> rpc_timeout;  // deadline of each RPC
  std::optional<Duration> keepalive;
  std::optional<int> max_msg_size;  // largest message received; nullopt: no limit
  std::string user_agent;      // --user-agent or -H 'user-agent: ...': put before gRPC's own
  std::string lb_policy;       // bench --lb: pick_first or round_robin; empty: gRPC's default
  // Whether --timeout also bounds waiting for the connection (one-shot commands: the RPC waits
  // for it). bench turns it off: its --timeout is each call's deadline under load.
  bool timeout_bounds_connect = true;
  bool show_secrets = false;
  // Each channel gets a subchannel pool of its own (GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL), so
  // channels to one target are separate connections (bench). A command that makes one channel
  // turns it off: every channel argument costs at start-up, as each layer copies them.
  bool own_subchannels = true;
};

// The credentials and channel arguments for `opt`, without connecting. Fails (local) when a
// certificate or key file cannot be read.
Result<std::shared_ptr<grpc::Channel>> make_channel(const ConnectionOptions& opt);

// Waits until the channel is READY, it failed to connect, or connect_timeout (or a shorter
// rpc_timeout, when timeout_bounds_connect) passed. Returns ok when READY or when the channel
// reported a failure (the first RPC then fails fast with the transport's reason);
// UNAVAILABLE naming the target when connect_timeout ran out, DEADLINE_EXCEEDED when
// rpc_timeout did.
Result<void> wait_for_connection(grpc::Channel& channel, const ConnectionOptions& opt);

// make_channel then wait_for_connection.
Result<std::shared_ptr<grpc::Channel>> open_channel(const ConnectionOptions& opt);

// The metadata of the command's own RPCs: -H, then --rpc-header.
Metadata rpc_metadata(const ConnectionOptions& opt);

// Which requests a context is for: the command's own RPCs, or server reflection.
enum class RequestKind { rpc, reflection };

// Adds the metadata of `kind` (-H, then --rpc-header or --reflect-header) and the RPC deadline
// (if any) to a context.
void prepare_context(grpc::ClientContext& ctx, const ConnectionOptions& opt,
                     std::optional<Duration> timeout_override = std::nullopt, RequestKind kind = RequestKind::rpc);

// Reads a whole file. Fails (local) naming the file and the reason; a directory or an empty path
// is an error, not an empty file.
Result<std::string> read_file(const std::string& path, std::string_view what = "file");

}  // namespace grpcdx::net
