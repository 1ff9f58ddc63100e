// Unit tests for h2::ClientSession: bytes a server would send go in, events and the client's
// answers come out; no sockets.
#include <doctest.h>

#include <string>

#include "h2/session.hpp"

// A namespace of its own: unity builds put several test files in one translation unit.
namespace test_h2_session {

using namespace grpcdx;
using grpcdx::h2::Event;

namespace {

constexpr std::string_view k_preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

std::string frame(unsigned char type, unsigned char flags, std::uint32_t stream, const std::string& payload) {
  std::string f;
  const auto n = payload.size();
  f += static_cast<char>((n >> 16) & 0xff);
  f += static_cast<char>((n >> 8) & 0xff);
  f += static_cast<char>(n & 0xff);
  f += static_cast<char>(type);
  f += static_cast<char>(flags);
  for (int shift = 24; shift >= 0; shift -= 8) f += static_cast<char>((stream >> shift) & 0xff);
  return f + payload;
}

std::string u32(std::uint32_t v) {
  std::string s;
  for (int shift = 24; shift >= 0; shift -= 8) s += static_cast<char>((v >> shift) & 0xff);
  return s;
}

}  // namespace

TEST_CASE("h2::error_code_name and setting_name") {
  CHECK(h2::error_code_name(0) == "NO_ERROR");
  CHECK(h2::error_code_name(2) == "INTERNAL_ERROR");
  CHECK(h2::error_code_name(11) == "ENHANCE_YOUR_CALM");
  CHECK(h2::error_code_name(0x1f) == "0x1f");
  CHECK(h2::setting_name(3) == "max_concurrent_streams");
  CHECK(h2::setting_name(0xfe03) == "grpc_allow_true_binary_metadata");
  CHECK(h2::setting_name(0x99) == "0x99");
}

TEST_CASE("h2::ClientSession: preface, SETTINGS, PINGs both ways, GOAWAYs") {
  auto created = h2::ClientSession::create();
  REQUIRE(created);
  auto& s = **created;
  auto first = s.take_output();
  REQUIRE(first);
  CHECK(first->starts_with(k_preface));

  // The server's SETTINGS (max_concurrent_streams 100), a PING of its own, then a GOAWAY with the
  // largest stream id, a PING, and a second GOAWAY, as grpc-go closes gracefully.
  std::string in = frame(4, 0, 0, std::string("\x00\x03", 2) + u32(100)) + frame(6, 0, 0, std::string(8, '\x07'));
  in += frame(7, 0, 0, u32(0x7fffffff) + u32(0)) + frame(6, 0, 0, std::string(8, '\x09'));
  REQUIRE(s.feed(in));
  // The second GOAWAY in a read of its own, after the first left no stream open.
  REQUIRE(s.feed(frame(7, 0, 0, u32(0) + u32(0) + "max_idle")));
  auto events = s.take_events();
  REQUIRE(events.size() == 5);
  CHECK(events[0].kind == Event::Kind::settings);
  REQUIRE(events[0].settings.size() == 1);
  CHECK(events[0].settings[0] == std::pair<std::uint16_t, std::uint32_t>{3, 100});
  CHECK(events[1].kind == Event::Kind::ping);
  CHECK(events[1].opaque == 0x0707070707070707ULL);
  CHECK(events[2].kind == Event::Kind::goaway);
  CHECK(events[2].last_stream_id == 0x7fffffff);
  CHECK(events[3].kind == Event::Kind::ping);
  CHECK(events[4].kind == Event::Kind::goaway);
  CHECK(events[4].error_code == 0);
  CHECK(events[4].last_stream_id == 0);
  CHECK(events[4].debug == "max_idle");
  CHECK(s.take_events().empty());

  // Both PINGs are answered, the one after a GOAWAY with no stream open too.
  auto out = s.take_output();
  REQUIRE(out);
  CHECK(out->find(frame(6, 1, 0, std::string(8, '\x07'))) != std::string::npos);
  CHECK(out->find(frame(6, 1, 0, std::string(8, '\x09'))) != std::string::npos);
  CHECK(out->find(frame(4, 1, 0, "")) != std::string::npos);  // the SETTINGS ACK
}

TEST_CASE("h2::ClientSession: our PING and its answer") {
  auto created = h2::ClientSession::create();
  REQUIRE(created);
  auto& s = **created;
  REQUIRE(s.take_output());
  REQUIRE(s.feed(frame(4, 0, 0, "")));
  REQUIRE(s.take_events().size() == 1);
  REQUIRE(s.take_output());
  s.ping(42);
  auto ping = s.take_output();
  REQUIRE(ping);
  CHECK(*ping == frame(6, 0, 0, u32(0) + u32(42)));
  REQUIRE(s.feed(frame(6, 1, 0, u32(0) + u32(42))));
  auto events = s.take_events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind == Event::Kind::ping_ack);
  CHECK(events[0].opaque == 42);
}

TEST_CASE("h2::ClientSession: a call's request framing, its message and grpc-status") {
  auto created = h2::ClientSession::create();
  REQUIRE(created);
  auto& s = **created;
  REQUIRE(s.take_output());
  REQUIRE(s.feed(frame(4, 0, 0, "")));
  REQUIRE(s.take_events().size() == 1);
  h2::CallHeaders headers;
  headers.authority = "localhost:1";
  headers.path = "/grpc.health.v1.Health/Check";
  auto id = s.start_call(headers, "");
  REQUIRE(id);
  CHECK(*id == 1);
  CHECK(s.has_open_streams());
  auto out = s.take_output();
  REQUIRE(out);
  // The request: one DATA frame with the empty message's 5 bytes of framing and END_STREAM.
  CHECK(out->ends_with(frame(0, 1, 1, std::string(5, '\0'))));

  // Response headers (HPACK: ":status: 200" is static index 8), one message, trailers with
  // grpc-status 0 (literal without indexing, new name).
  std::string trailers = std::string("\x00\x0bgrpc-status\x01" "0", 15);
  REQUIRE(s.feed(frame(1, 4, 1, "\x88") + frame(0, 0, 1, std::string("\x00\x00\x00\x00\x02\x08\x01", 7)) +
                 frame(1, 5, 1, trailers)));
  auto events = s.take_events();
  REQUIRE(events.size() == 3);
  CHECK(events[0].kind == Event::Kind::stream_headers);
  CHECK(events[1].kind == Event::Kind::stream_message);
  CHECK(events[1].message == std::string("\x08\x01", 2));
  CHECK(events[2].kind == Event::Kind::stream_closed);
  CHECK(events[2].stream_id == 1);
  REQUIRE(events[2].grpc_status);
  CHECK(*events[2].grpc_status == 0);
  CHECK_FALSE(s.has_open_streams());
}

TEST_CASE("h2::ClientSession: bytes that are not HTTP/2 get a GOAWAY PROTOCOL_ERROR") {
  auto created = h2::ClientSession::create();
  REQUIRE(created);
  auto& s = **created;
  REQUIRE(s.take_output());
  REQUIRE(s.feed("HTTP/1.1 400 Bad Request\r\n\r\n"));
  CHECK(s.take_events().empty());
  auto out = s.take_output();
  REQUIRE(out);
  CHECK(*out == frame(7, 0, 0, u32(0) + u32(1) + "SETTINGS expected"));
}

}  // namespace test_h2_session
