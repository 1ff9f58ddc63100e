// Unit tests for conn::decide: the verdict of a held connection from canned timed events, at a
// chosen "now" (no sockets, no sleeping).
#include <doctest.h>

#include <vector>

#include "conn/verdict.hpp"

// A namespace of its own: unity builds put several test files in one translation unit.
namespace test_conn_verdict {

using namespace grpcdx;
using namespace grpcdx::conn;
using namespace std::chrono_literals;
using K = Event::Kind;

namespace {

Event at(K kind, Duration t) {
  Event e;
  e.kind = kind;
  e.t = t;
  return e;
}

Event goaway(Duration t, std::uint32_t code, std::int32_t last, std::string debug) {
  Event e = at(K::goaway, t);
  e.error_code = code;
  e.last_stream_id = last;
  e.debug = std::move(debug);
  return e;
}

Event ack(Duration t, Duration rtt) {
  Event e = at(K::ping_ack, t);
  e.rtt = rtt;
  return e;
}

Plan plan_for(Duration hold_for) {
  Plan p;
  p.hold_for = hold_for;
  return p;
}

}  // namespace

TEST_CASE("conn::class_name and exit_code follow SPEC.md's table") {
  CHECK(class_name(ConnClass::held) == "held");
  CHECK(exit_code(ConnClass::held) == 0);
  CHECK(class_name(ConnClass::keepalive_rejected) == "keepalive_rejected");
  CHECK(exit_code(ConnClass::keepalive_rejected) == 50);
  CHECK(exit_code(ConnClass::idle_closed) == 51);
  CHECK(exit_code(ConnClass::age_closed) == 52);
  CHECK(exit_code(ConnClass::goaway) == 53);
  CHECK(exit_code(ConnClass::closed) == 54);
  CHECK(exit_code(ConnClass::reset) == 55);
  CHECK(class_name(ConnClass::dead_path) == "dead_path");
  CHECK(exit_code(ConnClass::dead_path) == 56);
}

TEST_CASE("conn::seconds_text") {
  CHECK(seconds_text(250ms) == "250 ms");
  CHECK(seconds_text(1003ms) == "1.0 s");
  CHECK(seconds_text(12340ms) == "12.3 s");
  CHECK(seconds_text(301s) == "5m1s");
}

TEST_CASE("conn::decide: nothing decided while the hold goes on, held at its end") {
  Plan p = plan_for(5s);
  p.keepalive = 1s;
  std::vector<Event> events = {at(K::ping_sent, 1s), ack(1001ms, 1ms), at(K::ping_sent, 2s), ack(2002ms, 2500us)};
  CHECK_FALSE(decide(events, p, 4s));
  auto v = decide(events, p, 5s);
  REQUIRE(v);
  CHECK(v->cls == ConnClass::held);
  CHECK(v->exit_code() == 0);
  CHECK(v->held == 5s);
  CHECK(v->pings_sent == 2);
  CHECK(v->summary == "the connection stayed up for 5s: no GOAWAY, no close, 2 PINGs answered (slowest in 2.5 ms)");
  CHECK(v->hint == "");

  auto idle = decide(std::vector<Event>{}, plan_for(3s), 3s);
  REQUIRE(idle);
  CHECK(idle->summary == "the connection stayed up for 3s: no GOAWAY, no close");
}

TEST_CASE("conn::decide: keepalive_rejected on ENHANCE_YOUR_CALM, with the hint for the case") {
  Plan p = plan_for(10s);
  p.keepalive = 200ms;
  std::vector<Event> events = {at(K::ping_sent, 200ms), ack(201ms, 1ms),  at(K::ping_sent, 401ms),
                               ack(402ms, 1ms),         at(K::ping_sent, 602ms), ack(603ms, 1ms),
                               at(K::ping_sent, 803ms), goaway(804ms, 11, 0, "too_many_pings")};
  // Waits for the close (or the settle time) so a second GOAWAY is seen too.
  CHECK_FALSE(decide(events, p, 1s));
  events.push_back(at(K::closed_fin, 805ms));
  auto v = decide(events, p, 1s);
  REQUIRE(v);
  CHECK(v->cls == ConnClass::keepalive_rejected);
  CHECK(v->exit_code() == 50);
  CHECK(v->held == 805ms);
  CHECK(v->pings_sent == 4);
  CHECK(v->summary ==
        "the server sent GOAWAY ENHANCE_YOUR_CALM \"too_many_pings\" after 804 ms, 4 PINGs sent one every 200ms with "
        "no stream open: it allows PINGs less often than that (grpc-go's and gRPC C++'s default: one every 5m, or "
        "every 2h with no stream open)");
  CHECK(v->hint ==
        "set the client's keepalive time to 5m or more and keepalive without calls off, or let the server take PINGs "
        "every 200ms: grpc-go keepalive.EnforcementPolicy{MinTime: 200ms, PermitWithoutStream: true}; gRPC "
        "C++/C-core GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS "
        "(grpc.http2.min_ping_interval_without_data_ms) = 200 and GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS "
        "(grpc.keepalive_permit_without_calls) = 1");

  SUBCASE("with a stream open, the hint is MinTime alone") {
    std::vector<Event> busy = {at(K::stream_opened, 0ms), at(K::ping_sent, 1s), goaway(3s, 11, 1, "too_many_pings")};
    auto b = decide(busy, p, 4s);  // no close: decided k_goaway_settle after the GOAWAY
    REQUIRE(b);
    CHECK(b->cls == ConnClass::keepalive_rejected);
    CHECK(b->held == 3s);
    CHECK(b->hint ==
          "set the client's keepalive time to 5m or more, or let the server take PINGs every 200ms: grpc-go "
          "keepalive.EnforcementPolicy.MinTime = 200ms; gRPC C++/C-core "
          "GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS (grpc.http2.min_ping_interval_without_data_ms) "
          "= 200");
  }
}

TEST_CASE("conn::decide: idle_closed from a GOAWAY with no stream open, whatever the code and text") {
  Plan p = plan_for(10s);
  SUBCASE("grpc-go 1.33: NO_ERROR without debug, twice (graceful close), then FIN") {
    std::vector<Event> events = {goaway(1002ms, 0, 2147483647, ""), goaway(1003ms, 0, 0, ""),
                                 at(K::closed_fin, 1004ms)};
    auto v = decide(events, p, 1004ms);
    REQUIRE(v);
    CHECK(v->cls == ConnClass::idle_closed);
    CHECK(v->exit_code() == 51);
    CHECK(v->held == 1004ms);
    CHECK(v->summary ==
          "the server closed the connection after it was idle for 1.0 s: GOAWAY NO_ERROR with no stream open, then "
          "GOAWAY NO_ERROR (last stream 0); its idle limit is about 1.0 s");
    CHECK(v->hint ==
          "a client idle that long loses the connection and pays a new handshake on its next call: raise the "
          "server's limit (grpc-go keepalive.ServerParameters.MaxConnectionIdle; gRPC C++ "
          "GRPC_ARG_MAX_CONNECTION_IDLE_MS, grpc.max_connection_idle_ms) or keep the connection busy (--rpc-every "
          "shorter than 1.0 s shows whether calls keep it open)");
  }
  SUBCASE("gRPC C-core: INTERNAL_ERROR \"enter idle\", measured from the end of the last call") {
    std::vector<Event> events = {at(K::stream_opened, 0ms), at(K::stream_closed, 5ms), goaway(1505ms, 2, 1, "enter idle"),
                                 at(K::closed_reset, 1506ms)};
    auto v = decide(events, p, 1506ms);
    REQUIRE(v);
    CHECK(v->cls == ConnClass::idle_closed);
    CHECK(v->summary ==
          "the server closed the connection after it was idle for 1.5 s: GOAWAY INTERNAL_ERROR \"enter idle\" with "
          "no stream open; its idle limit is about 1.5 s");
  }
  SUBCASE("a GOAWAY with no close yet is decided one settle time later") {
    std::vector<Event> events = {goaway(2s, 0, 0, "")};
    CHECK_FALSE(decide(events, p, 2s + k_goaway_settle - 1ms));
    auto v = decide(events, p, 2s + k_goaway_settle);
    REQUIRE(v);
    CHECK(v->cls == ConnClass::idle_closed);
    CHECK(v->held == 2s);
  }
}

TEST_CASE("conn::decide: age_closed from a GOAWAY NO_ERROR with a stream open, or after steady calls") {
  Plan p = plan_for(10s);
  SUBCASE("a Watch stream open") {
    std::vector<Event> events = {at(K::stream_opened, 1ms), goaway(1100ms, 0, 2147483647, ""),
                                 goaway(1101ms, 0, 1, ""), at(K::stream_closed, 2101ms), at(K::closed_fin, 2102ms)};
    auto v = decide(events, p, 2102ms);
    REQUIRE(v);
    CHECK(v->cls == ConnClass::age_closed);
    CHECK(v->exit_code() == 52);
    CHECK(v->summary ==
          "the server closed the connection at age 1.1 s: GOAWAY NO_ERROR with 1 stream open, then GOAWAY NO_ERROR "
          "(last stream 1); its age limit is about 1.1 s");
    CHECK(v->hint ==
          "servers end connections at a fixed age to spread load; clients reconnect, but calls running longer than "
          "the age plus its grace are cut: raise grpc-go keepalive.ServerParameters.MaxConnectionAge / "
          "MaxConnectionAgeGrace or gRPC C++ GRPC_ARG_MAX_CONNECTION_AGE_MS / GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS "
          "(grpc.max_connection_age_ms, grpc.max_connection_age_grace_ms), and let clients retry calls a GOAWAY "
          "refused");
  }
  SUBCASE("no stream open, but quiet for less than the connection already survived: not the idle timer") {
    std::vector<Event> events;
    for (int i = 0; i < 5; ++i) {
      events.push_back(at(K::stream_opened, i * 300ms));
      events.push_back(at(K::stream_closed, i * 300ms + 2ms));
    }
    events.push_back(goaway(1400ms, 0, 9, ""));
    events.push_back(at(K::closed_fin, 1401ms));
    auto v = decide(events, p, 1401ms);
    REQUIRE(v);
    CHECK(v->cls == ConnClass::age_closed);
    CHECK(v->summary ==
          "the server closed the connection at age 1.4 s: GOAWAY NO_ERROR during steady calls; its age limit is "
          "about 1.4 s");
  }
  SUBCASE("the debug text \"max_age\" decides it") {
    std::vector<Event> events = {goaway(1s, 0, 0, "max_age"), at(K::closed_fin, 1001ms)};
    auto v = decide(events, p, 1001ms);
    REQUIRE(v);
    CHECK(v->cls == ConnClass::age_closed);
  }
}

TEST_CASE("conn::decide: goaway for any other GOAWAY") {
  std::vector<Event> events = {at(K::stream_opened, 0ms), goaway(700ms, 1, 0, "bad frame"), at(K::closed_fin, 701ms)};
  auto v = decide(events, plan_for(10s), 701ms);
  REQUIRE(v);
  CHECK(v->cls == ConnClass::goaway);
  CHECK(v->exit_code() == 53);
  CHECK(v->summary == "the server sent GOAWAY PROTOCOL_ERROR (last stream 0, debug \"bad frame\") after 700 ms");
  CHECK(v->hint ==
        "the error code and debug data say why the server ended the connection: look at its logs at that moment; "
        "calls on streams above 0 were not processed and may be retried");
}

TEST_CASE("conn::decide: closed and reset without a GOAWAY, at once") {
  auto fin = decide(std::vector<Event>{at(K::closed_fin, 1500ms)}, plan_for(10s), 1500ms);
  REQUIRE(fin);
  CHECK(fin->cls == ConnClass::closed);
  CHECK(fin->exit_code() == 54);
  CHECK(fin->held == 1500ms);
  CHECK(fin->summary == "the server closed the connection (FIN) after 1.5 s without a GOAWAY");
  CHECK(fin->hint ==
        "an HTTP/2 server sends GOAWAY before it closes: a close without one comes from a proxy or load balancer in "
        "between (compare 1.5 s with its idle or connection timeout) or from a server process that exited");

  auto rst = decide(std::vector<Event>{at(K::closed_reset, 800ms)}, plan_for(10s), 800ms);
  REQUIRE(rst);
  CHECK(rst->cls == ConnClass::reset);
  CHECK(rst->exit_code() == 55);
  CHECK(rst->summary == "the connection was reset (TCP RST) after 800 ms without a GOAWAY");
}

TEST_CASE("conn::decide: dead_path when a PING waits keepalive_timeout") {
  Plan p = plan_for(30s);
  p.keepalive = 1s;
  p.keepalive_timeout = 2s;
  std::vector<Event> events = {at(K::ping_sent, 1s), ack(1001ms, 1ms), at(K::ping_sent, 2s)};
  CHECK_FALSE(decide(events, p, 3999ms));
  auto v = decide(events, p, 4s);
  REQUIRE(v);
  CHECK(v->cls == ConnClass::dead_path);
  CHECK(v->exit_code() == 56);
  CHECK(v->held == 4s);
  CHECK(v->pings_sent == 2);
  CHECK(v->summary == "a PING sent at 2.0 s got no answer within 2s: the connection looks open but nothing comes back");
  CHECK(v->hint ==
        "a NAT, firewall or load balancer on the path dropped the flow silently (often after an idle timeout): "
        "clients need keepalive PINGs (time below that timeout, a timeout like this one) to notice and reconnect");

  SUBCASE("a GOAWAY outranks the unanswered PING") {
    events.push_back(goaway(2500ms, 0, 0, ""));
    events.push_back(at(K::closed_fin, 2501ms));
    auto g = decide(events, p, 4s);
    REQUIRE(g);
    CHECK(g->cls == ConnClass::idle_closed);
  }
}

TEST_CASE("conn::compact_pings: a long hold's history stays bounded and decides the same") {
  Plan p = plan_for(2h);
  p.keepalive = 1s;
  p.keepalive_timeout = 20s;
  std::vector<Event> full, compact;
  for (int i = 1; i <= 1800; ++i) {
    for (Event e : {at(K::ping_sent, i * 1s), ack(i * 1s + 1ms, i == 700 ? 9ms : 1ms)}) {
      full.push_back(e);
      compact.push_back(e);
      if (e.kind == K::ping_ack) compact_pings(compact, 16);
    }
  }
  CHECK(compact.size() <= 2 * 2 * 16 + 1);
  auto a = decide(full, p, 2h), b = decide(compact, p, 2h);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(b->pings_sent == 1800);
  CHECK(b->summary == a->summary);
  CHECK(b->summary.find("1800 PINGs answered (slowest in 9.0 ms)") != std::string::npos);

  // A PING still unanswered stays one by one: dead_path is decided as before.
  compact.push_back(at(K::ping_sent, 1801s));
  compact_pings(compact, 16);
  auto dead = decide(compact, p, 1822s);
  REQUIRE(dead);
  CHECK(dead->cls == ConnClass::dead_path);
  CHECK(dead->pings_sent == 1801);
}

}  // namespace test_conn_verdict
