// `grpcdx channelz TARGET [--socket ID]`: the server's own view of its servers, sockets, channels
// and subchannels, read from its grpc.channelz.v1.Channelz service.
#include <chrono>
#include <climits>
#include <cstdint>

#include "channelz/client.hpp"
#include "channelz/format.hpp"
#include "commands/command.hpp"
#include "commands/common_flags.hpp"
#include "core/keep_until_exit.hpp"
#include "rpc/exit_codes.hpp"

namespace grpcdx::commands {

struct ChannelzOptions {
  ConnectionFlags conn;
  OutputFlags output;
  int64_t socket = 0;  // --socket ID: that socket in full; 0: everything
};

namespace {

Result<int> run_channelz(const ChannelzOptions& opt, Io& io) {
  TRY(auto conn, to_connection_options(opt.conn, "10s"));
  TRY(auto channel, net::open_channel(conn));
  keep_until_exit(channel);  // main() exits without the channel's teardown (joining gRPC's threads)
  channelz::Client client(channel, conn);
  const bool json = output_format(opt.output) == report::OutputFormat::json;
  if (opt.socket != 0) {
    TRY(auto socket, client.socket(opt.socket));
    io.out << (json ? channelz::socket_json(socket) + "\n"
                    : channelz::socket_text(socket, std::chrono::system_clock::now()));
    return k_exit_ok;
  }
  TRY(auto snapshot, client.snapshot());
  io.out << (json ? channelz::snapshot_json(snapshot) + "\n"
                  : channelz::snapshot_text(snapshot, std::chrono::system_clock::now()));
  return k_exit_ok;
}

}  // namespace

void register_channelz(CLI::App& app, CommandSlot& slot) {
  auto opt = std::make_shared<ChannelzOptions>();
  auto* cmd = app.add_subcommand(
      "channelz", "Show a server's own view of its connections (grpc.channelz.v1.Channelz): sockets, streams, "
                  "messages, flow-control windows, channels");
  add_connection_flags(cmd, opt->conn);
  add_max_time_flag(cmd, opt->conn);
  cmd->add_option("--socket", opt->socket, "Show this one socket (an id from the SOCKET column) in full")
      ->transform(whole_number(1, INT64_MAX));
  add_output_flags(cmd, opt->output);
  cmd->callback([opt, &slot] { slot.run = [opt](Io& io) { return run_channelz(*opt, io); }; });
}

}  // namespace grpcdx::commands
