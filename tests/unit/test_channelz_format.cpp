// Unit tests for channelz's tables and JSON: addresses, "3.2 s ago", one socket in full, the
// snapshot's JSON keys (no network; the time is passed in).
#include <doctest.h>

#include <chrono>

#include "channelz/format.hpp"

// A namespace of its own: unity builds put several test files in one translation unit.
namespace test_channelz_format {

using namespace grpcdx;
using namespace std::chrono_literals;
namespace v1 = grpc::channelz::v1;

namespace {

const auto k_now = std::chrono::system_clock::time_point(std::chrono::seconds(10'000));

google::protobuf::Timestamp before_now(std::chrono::milliseconds ms) {
  auto t = std::chrono::duration_cast<std::chrono::nanoseconds>(k_now.time_since_epoch() - ms).count();
  google::protobuf::Timestamp ts;
  ts.set_seconds(t / 1'000'000'000);
  ts.set_nanos(static_cast<int>(t % 1'000'000'000));
  return ts;
}

v1::Socket socket_at(int64_t id, int port) {
  v1::Socket s;
  s.mutable_ref()->set_socket_id(id);
  s.mutable_local()->mutable_tcpip_address()->set_ip_address(std::string("\x7f\x00\x00\x01", 4));
  s.mutable_local()->mutable_tcpip_address()->set_port(50051);
  s.mutable_remote()->mutable_tcpip_address()->set_ip_address(std::string("\x7f\x00\x00\x01", 4));
  s.mutable_remote()->mutable_tcpip_address()->set_port(port);
  auto* d = s.mutable_data();
  d->set_streams_started(3);
  d->set_streams_succeeded(2);
  d->set_messages_sent(10);
  d->set_messages_received(12);
  *d->mutable_last_message_sent_timestamp() = before_now(3200ms);
  d->mutable_local_flow_control_window()->set_value(0);
  d->mutable_remote_flow_control_window()->set_value(65535);
  return s;
}

}  // namespace

TEST_CASE("channelz::address_text") {
  v1::Address a;
  CHECK(channelz::address_text(a) == "-");
  a.mutable_tcpip_address()->set_ip_address(std::string("\x7f\x00\x00\x01", 4));
  a.mutable_tcpip_address()->set_port(443);
  CHECK(channelz::address_text(a) == "127.0.0.1:443");
  std::string v6(16, '\0');
  v6[15] = 1;
  a.mutable_tcpip_address()->set_ip_address(v6);
  CHECK(channelz::address_text(a) == "[::1]:443");
  a.mutable_uds_address()->set_filename("/run/s.sock");
  CHECK(channelz::address_text(a) == "unix:/run/s.sock");
}

TEST_CASE("channelz::ago") {
  CHECK(channelz::ago(google::protobuf::Timestamp(), k_now) == "never");
  CHECK(channelz::ago(before_now(3200ms), k_now) == "3.2 s ago");
  CHECK(channelz::ago(before_now(120ms), k_now) == "120 ms ago");
  CHECK(channelz::ago(before_now(150s), k_now) == "2.5 min ago");
  CHECK(channelz::ago(before_now(-5s), k_now) == "0 ms ago");  // the server's clock runs ahead
}

TEST_CASE("channelz::snapshot_text: each server's sockets with windows and last activity") {
  channelz::Snapshot snap;
  v1::Server server;
  server.mutable_ref()->set_server_id(1);
  server.mutable_data()->set_calls_started(5);
  server.mutable_data()->set_calls_succeeded(4);
  server.mutable_data()->set_calls_failed(1);
  snap.servers.push_back(server);
  snap.sockets.push_back(socket_at(7, 40000));
  snap.socket_server.push_back(1);
  std::string text = channelz::snapshot_text(snap, k_now);
  CHECK(text.find("Servers (1)") != std::string::npos);
  CHECK(text.find("5/4/1") != std::string::npos);
  CHECK(text.find("Sockets of server 1 (1)") != std::string::npos);
  CHECK(text.find("127.0.0.1:50051  127.0.0.1:40000") != std::string::npos);
  CHECK(text.find("3.2 s ago") != std::string::npos);
  CHECK(text.find("0/65535") != std::string::npos);
  CHECK(text.find("Channels (0)") != std::string::npos);
}

TEST_CASE("channelz::socket_text and JSON") {
  auto s = socket_at(7, 40000);
  std::string text = channelz::socket_text(s, k_now);
  CHECK(text.find("Messages               10 sent, 12 received") != std::string::npos);
  CHECK(text.find("Local window           0 bytes (what the peer lets this side send)") != std::string::npos);
  CHECK(text.find("Last message received  never") != std::string::npos);
  std::string json = channelz::socket_json(s);
  CHECK(json.rfind("{\"socket\":{\"ref\":{\"socketId\":\"7\"}", 0) == 0);
  CHECK(json.find("\"localFlowControlWindow\":\"0\"") != std::string::npos);
  channelz::Snapshot snap;
  CHECK(channelz::snapshot_json(snap) == "{\"servers\":[],\"sockets\":[],\"channels\":[],\"subchannels\":[]}");
}

}  // namespace test_channelz_format
