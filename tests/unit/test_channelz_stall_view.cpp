// Unit tests for the join of a stall with the server's view: which side stopped, in words, and
// matching a server socket's remote address with ours (no network).
#include <doctest.h>

#include <chrono>

#include "channelz/stall_view.hpp"

// A namespace of its own: unity builds put several test files in one translation unit.
namespace test_channelz_stall_view {

using namespace grpcdx;
using namespace std::chrono_literals;
namespace v1 = grpc::channelz::v1;

namespace {

stream::Stall stall(stream::StallKind kind, Duration idle) {
  stream::Stall s;
  s.kind = kind;
  s.idle = idle;
  s.sent = 3;
  s.received = 2;
  return s;
}

stream::ServerSocketView view(std::optional<int64_t> local, std::optional<int64_t> remote,
                              std::optional<double> sent_ago, std::optional<double> received_ago) {
  stream::ServerSocketView v;
  v.local_flow_control_window = local;
  v.remote_flow_control_window = remote;
  v.messages_sent = 4;
  v.messages_received = 7;
  v.last_message_sent_ms_ago = sent_ago;
  v.last_message_received_ms_ago = received_ago;
  return v;
}

v1::Address tcp(std::string ip, int port) {
  v1::Address a;
  a.mutable_tcpip_address()->set_ip_address(std::move(ip));
  a.mutable_tcpip_address()->set_port(port);
  return a;
}

}  // namespace

TEST_CASE("channelz::which_side: a server with no window towards the client waits for it to read") {
  CHECK(channelz::which_side(stall(stream::StallKind::recv_idle, 5s), view(0, 65535, 5100.0, 5200.0)) ==
        "the server has 0 bytes of window towards you: it is waiting for you to read");
}

TEST_CASE("channelz::which_side: a server that received and sent nothing has a stuck handler") {
  CHECK(channelz::which_side(stall(stream::StallKind::recv_idle, 5s), view(65535, 65535, 5100.0, 5150.0)) ==
        "the server received your messages and sent nothing for 5.1 s: the handler is stuck");
  // The transport check's answer is the connection's last message: the stream's quiet time is
  // the client's idle time.
  CHECK(channelz::which_side(stall(stream::StallKind::recv_idle, 5s), view(65535, 65535, 2400.0, 2450.0)) ==
        "the server received your messages and sent nothing for 5.0 s: the handler is stuck");
  auto silent = view(std::nullopt, std::nullopt, std::nullopt, 5000.0);
  silent.messages_sent = 0;
  CHECK(channelz::which_side(stall(stream::StallKind::recv_idle, 5s), silent) ==
        "the server received your messages and has sent nothing on this connection: the handler is stuck");
}

TEST_CASE("channelz::which_side: messages the server sent that never arrived are held in between") {
  auto v = view(65535, 65535, 200.0, 5000.0);
  v.client_messages_received = 2;
  CHECK(channelz::which_side(stall(stream::StallKind::recv_idle, 5s), v) ==
        "the server sent 4 messages on this connection and 2 reached you: the rest are held between you and "
        "the server");
  v.client_messages_received = 4;
  CHECK(channelz::which_side(stall(stream::StallKind::recv_idle, 5s), v) ==
        "the server received your messages and sent nothing for 5.0 s: the handler is stuck");
}

TEST_CASE("channelz::which_side: a blocked send is a handler that stopped reading") {
  CHECK(channelz::which_side(stall(stream::StallKind::send_blocked, 2s), view(65535, 0, 100.0, 2300.0)) ==
        "the server gives you 0 bytes of window and received 7 messages on this connection, the last 2.3 s "
        "ago: it has stopped reading (its handler does not read the stream)");
  CHECK(channelz::which_side(stall(stream::StallKind::send_blocked, 2s), view(65535, 1000000, 100.0, 2300.0)) ==
        "the server received 7 messages on this connection, the last 2.3 s ago: its handler has stopped "
        "reading your messages, and HTTP/2 flow control holds your sends");
}

TEST_CASE("channelz::same_endpoint") {
  const std::string lo4("\x7f\x00\x00\x01", 4);
  const std::string lo4_mapped("\0\0\0\0\0\0\0\0\0\0\xff\xff\x7f\x00\x00\x01", 16);
  CHECK(channelz::same_endpoint(tcp(lo4, 5000), tcp(lo4, 5000)));
  CHECK(channelz::same_endpoint(tcp(lo4, 5000), tcp(lo4_mapped, 5000)));
  CHECK_FALSE(channelz::same_endpoint(tcp(lo4, 5000), tcp(lo4, 5001)));
  CHECK_FALSE(channelz::same_endpoint(tcp(lo4, 5000), v1::Address()));
  v1::Address a, b;
  a.mutable_uds_address()->set_filename("/tmp/s");
  b.mutable_uds_address()->set_filename("/tmp/s");
  CHECK(channelz::same_endpoint(a, b));
}

TEST_CASE("channelz::server_view_of: windows, counts and times before now") {
  v1::Socket socket;
  socket.mutable_ref()->set_socket_id(42);
  auto* d = socket.mutable_data();
  d->set_messages_sent(3);
  d->set_messages_received(9);
  d->mutable_local_flow_control_window()->set_value(0);
  d->mutable_last_message_sent_timestamp()->set_seconds(1000);
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1003) + 250ms);
  auto v = channelz::server_view_of(socket, now);
  CHECK(v.socket_id == 42);
  CHECK(v.local_flow_control_window == 0);
  CHECK_FALSE(v.remote_flow_control_window.has_value());
  CHECK(v.messages_sent == 3);
  CHECK(v.messages_received == 9);
  REQUIRE(v.last_message_sent_ms_ago.has_value());
  CHECK(*v.last_message_sent_ms_ago == doctest::Approx(3250.0));
  CHECK_FALSE(v.last_message_received_ms_ago.has_value());
}

}  // namespace test_channelz_stall_view
