// The hold loop of `conn`: the probe's stages up to TLS, an nghttp2 session over the probe's
// socket, then one thread that reads with a deadline, sends PINGs and calls when they are due, and
// asks the pure verdict after every step whether the connection's fate is decided.
#include "conn/hold.hpp"

#include <algorithm>
#include <map>
#include <thread>
#include <variant>

#include <fmt/format.h>

#include "core/base64.hpp"
#include "h2/session.hpp"
#include "probe/classify.hpp"
#include "probe/stages.hpp"
#include "probe/transport.hpp"

namespace grpcdx::conn {

namespace {

using probe::Clock;
using probe::IoStatus;

constexpr Duration k_tick = std::chrono::milliseconds(100);  // how often the loop looks up at least
constexpr int k_ping_history = 16;  // answered PINGs kept one by one; older ones are folded
constexpr const char* k_check_path = "/grpc.health.v1.Health/Check";
constexpr const char* k_watch_path = "/grpc.health.v1.Health/Watch";

// The gRPC status of a stream reset without trailers, as gRPC's HTTP/2 mapping has it:
// REFUSED_STREAM is UNAVAILABLE, CANCEL is CANCELLED, ENHANCE_YOUR_CALM RESOURCE_EXHAUSTED,
// INADEQUATE_SECURITY PERMISSION_DENIED, anything else INTERNAL.
int status_of_reset(std::uint32_t http2_error) {
  switch (http2_error) {
    case 7: return 14;
    case 8: return 1;
    case 11: return 8;
    case 12: return 7;
    default: return 13;
  }
}

// A ready HTTP/2 connection: the socket (TLS inside), the session, and what connecting saw.
struct Ready {
  std::unique_ptr<probe::Transport> transport;
  std::unique_ptr<h2::ClientSession> session;
  std::string alpn;
  std::vector<h2::Event> events;  // what arrived with the server's SETTINGS
};

using Connecting = std::variant<probe::Failure, Ready>;

// The client preface and SETTINGS through nghttp2, then the server's first frames until its
// SETTINGS; a failure is classified by the probe's http2 rules.
Result<Connecting> start_http2(const probe::StageContext& c, std::unique_ptr<probe::Transport> transport,
                               const probe::Endpoint& endpoint, bool tls, const std::string& early) {
  TRY(auto session, h2::ClientSession::create());
  const auto deadline = c.deadline_from_now();
  TRY(auto preface, session->take_output());
  IoStatus st = transport->write_all(preface, deadline);
  probe::Http2FrameScanner scanner;
  std::string first;
  auto state = probe::Http2FrameScanner::State::need_more;
  std::string chunk = early;
  while (true) {
    if (!chunk.empty()) {
      if (first.size() < 16) first += chunk.substr(0, 16 - first.size());
      state = scanner.feed(chunk);
      if (state != probe::Http2FrameScanner::State::not_http2) TRY_VOID(session->feed(chunk));
    }
    if (st != IoStatus::ok || state != probe::Http2FrameScanner::State::need_more) break;
    chunk.clear();
    st = transport->read_some(chunk, deadline);
  }
  if (state == probe::Http2FrameScanner::State::settings) {
    Ready ready;
    ready.alpn = tls ? "h2" : "h2c";
    ready.events = session->take_events();
    ready.session = std::move(session);
    ready.transport = std::move(transport);
    return Connecting(std::move(ready));
  }
  probe::Http2Outcome h2;
  h2.tls = tls;
  if (state == probe::Http2FrameScanner::State::goaway) h2.goaway_error = scanner.goaway_error();
  h2.first_bytes = tls ? first : transport->first_raw_bytes();
  h2.timed_out = st == IoStatus::timeout;
  h2.peer_closed = st == IoStatus::closed || st == IoStatus::error;
  if (!tls && h2.first_bytes.empty() && h2.peer_closed) {
    transport.reset();
    h2.tls_server_detected = probe::answers_tls(endpoint, deadline);
  }
  if (auto failure = probe::classify_http2(h2, c.timeout_text)) return Connecting(std::move(*failure));
  return local_error("the server's first HTTP/2 frames could not be read");
}

// dns, tcp and tls as the probe runs them, then HTTP/2.
Result<Connecting> connect(const HoldOptions& o, std::string& address) {
  probe::StageContext c{&o.probe, format_duration(o.probe.stage_timeout)};
  std::vector<probe::Endpoint> endpoints;
  TRY(auto dns, probe::dns_stage(c, endpoints));
  if (dns.status == probe::StageStatus::fail) {
    address = o.probe.conn.target.host;
    return Connecting(*dns.failure);
  }
  std::unique_ptr<probe::Transport> transport;
  auto tcp = probe::tcp_stage(c, endpoints, transport, address);
  if (tcp.status == probe::StageStatus::fail) return Connecting(*tcp.failure);
  const probe::Endpoint* endpoint = &endpoints.front();
  for (const auto& ep : endpoints)
    if (ep.text == address) endpoint = &ep;
  const bool tls = !o.probe.conn.plaintext;
  std::string early;
  if (tls) {
    TRY(auto stage, probe::tls_stage(c, *transport, early));
    if (stage.status == probe::StageStatus::fail) return Connecting(*stage.failure);
  }
  return start_http2(c, std::move(transport), *endpoint, tls, early);
}

// The loop's state beside the session: what is in flight and when the next thing is due.
class Holder {
 public:
  Holder(const HoldOptions& o, Ready ready, const std::function<void(const Happening&)>& emit)
      : m_plan(o.plan), m_ready(std::move(ready)), m_emit(emit) {
    const auto& c = o.probe.conn;
    m_call.scheme = o.probe.conn.plaintext ? "http" : "https";
    m_call.authority = !c.authority.empty() ? c.authority : c.target.authority;
    m_call.user_agent = c.user_agent;
    for (const auto* list : {&c.metadata, &c.rpc_metadata})
      for (const auto& m : *list) m_call.metadata.emplace_back(m.key, m.key.ends_with("-bin") ? base64_encode(m.value) : m.value);
  }

  Result<HoldResult> run(const std::string& address, const std::function<bool()>& stop_requested) {
    m_start = Clock::now();
    Happening connected;
    connected.kind = Happening::Kind::connected;
    connected.address = address;
    connected.alpn = m_ready.alpn;
    m_emit(connected);
    TRY_VOID(handle(m_ready.session->take_events(), m_ready.events));
    if (m_plan.keepalive) m_next_ping = m_start + *m_plan.keepalive;
    if (m_plan.rpc_every) m_next_rpc = m_start;
    if (m_plan.stream) TRY_VOID(start_call(k_watch_path));
    HoldResult result;
    result.address = address;
    while (true) {
      auto now = Clock::now();
      if (stop_requested && stop_requested()) {
        result.interrupted = true;
        result.verdict = interrupted_verdict(now - m_start);
        return result;
      }
      if (!m_goaway && m_open) TRY_VOID(send_due(now));
      if (m_open) flush(now);
      if (auto v = decide(m_events, m_plan, Clock::now() - m_start)) {
        if (v->cls == ConnClass::dead_path) {
          Happening closed;
          closed.kind = Happening::Kind::closed;
          closed.t = v->held;
          closed.how = "ping_timeout";
          m_emit(closed);
        }
        result.verdict = std::move(*v);
        return result;
      }
      auto wake = std::min(Clock::now() + k_tick, m_start + m_plan.hold_for);
      if (!m_goaway && m_next_ping) wake = std::min(wake, *m_next_ping);
      if (!m_goaway && m_next_rpc) wake = std::min(wake, *m_next_rpc);
      if (!m_open) {
        std::this_thread::sleep_until(wake);
        continue;
      }
      std::string chunk;
      IoStatus st = m_ready.transport->read_some(chunk, std::max(wake, Clock::now()));
      if (st == IoStatus::ok) {
        TRY_VOID(m_ready.session->feed(chunk));
        TRY_VOID(handle(m_ready.session->take_events(), {}));
      } else if (st != IoStatus::timeout) {
        closed(m_ready.transport->peer_reset() || st == IoStatus::error);
      }
    }
  }

 private:
  Duration now_t() const { return Clock::now() - m_start; }

  void record(Event e) {
    const bool answer = e.kind == Event::Kind::ping_ack;
    m_events.push_back(std::move(e));
    // A PING a second for 30 minutes must not grow the history: fold the older answered ones.
    if (answer) compact_pings(m_events, k_ping_history);
  }

  Result<void> start_call(const char* path) {
    m_call.path = path;
    TRY(auto id, m_ready.session->start_call(m_call, {}));
    m_methods[id] = std::string(path).substr(1);
    Event e;
    e.kind = Event::Kind::stream_opened;
    e.t = now_t();
    record(e);
    return {};
  }

  Result<void> send_due(Clock::time_point now) {
    if (m_next_ping && !m_ping_sent_at && now >= *m_next_ping) {
      m_ready.session->ping(++m_ping_count);
      m_ping_sent_at = now;
      Event e;
      e.kind = Event::Kind::ping_sent;
      e.t = now - m_start;
      record(e);
    }
    if (m_next_rpc && now >= *m_next_rpc) {
      TRY_VOID(start_call(k_check_path));
      m_next_rpc = std::max(*m_next_rpc + *m_plan.rpc_every, now);
    }
    return {};
  }

  void flush(Clock::time_point now) {
    auto out = m_ready.session->take_output();
    if (!out || out->empty()) return;
    IoStatus st = m_ready.transport->write_all(*out, now + m_plan.keepalive_timeout);
    if (st == IoStatus::closed || st == IoStatus::error) closed(m_ready.transport->peer_reset() || st == IoStatus::error);
  }

  void closed(bool reset) {
    m_open = false;
    Event e;
    e.kind = reset ? Event::Kind::closed_reset : Event::Kind::closed_fin;
    e.t = now_t();
    record(e);
    Happening h;
    h.kind = Happening::Kind::closed;
    h.t = e.t;
    h.how = reset ? "reset" : "fin";
    m_emit(h);
  }

  Result<void> handle(std::vector<h2::Event> events, std::vector<h2::Event> earlier) {
    earlier.insert(earlier.end(), std::make_move_iterator(events.begin()), std::make_move_iterator(events.end()));
    for (auto& ev : earlier) {
      const auto now = Clock::now();
      Happening h;
      h.t = now - m_start;
      switch (ev.kind) {
        case h2::Event::Kind::settings:
          h.kind = Happening::Kind::settings;
          for (auto [id, value] : ev.settings) h.settings.emplace_back(h2::setting_name(id), value);
          m_emit(h);
          break;
        case h2::Event::Kind::ping:
          h.kind = Happening::Kind::server_ping;
          m_emit(h);
          break;
        case h2::Event::Kind::ping_ack: {
          if (!m_ping_sent_at) break;
          Event e;
          e.kind = Event::Kind::ping_ack;
          e.t = h.t;
          e.rtt = now - *m_ping_sent_at;
          record(e);
          h.kind = Happening::Kind::ping;
          h.rtt = e.rtt;
          m_emit(h);
          m_next_ping = std::max(*m_ping_sent_at + *m_plan.keepalive, now);
          m_ping_sent_at.reset();
          break;
        }
        case h2::Event::Kind::goaway: {
          m_goaway = true;
          Event e;
          e.kind = Event::Kind::goaway;
          e.t = h.t;
          e.error_code = ev.error_code;
          e.last_stream_id = ev.last_stream_id;
          e.debug = ev.debug;
          record(e);
          h.kind = Happening::Kind::goaway;
          h.error_code = ev.error_code;
          h.last_stream_id = ev.last_stream_id;
          h.debug = ev.debug;
          m_emit(h);
          break;
        }
        case h2::Event::Kind::stream_closed: {
          Event e;
          e.kind = Event::Kind::stream_closed;
          e.t = h.t;
          e.code = ev.grpc_status.value_or(-1);
          record(e);
          h.kind = Happening::Kind::rpc;
          h.method = m_methods[ev.stream_id];
          m_methods.erase(ev.stream_id);
          h.code = ev.grpc_status ? *ev.grpc_status : status_of_reset(ev.error_code);
          h.message = ev.grpc_status ? ev.grpc_message : "stream reset: " + h2::error_code_name(ev.error_code);
          h.error_code = ev.error_code;
          m_emit(h);
          break;
        }
        case h2::Event::Kind::stream_headers:
        case h2::Event::Kind::stream_message: break;
      }
    }
    return {};
  }

  Verdict interrupted_verdict(Duration held) const {
    Verdict v;
    v.cls = ConnClass::held;
    v.held = held;
    for (const auto& e : m_events)
      v.pings_sent += e.kind == Event::Kind::ping_sent ? 1 : e.kind == Event::Kind::pings_answered ? e.count : 0;
    v.summary = fmt::format("stopped after {} (of {}): the connection was still up", seconds_text(held),
                            format_duration(m_plan.hold_for));
    return v;
  }

  const Plan& m_plan;
  Ready m_ready;
  const std::function<void(const Happening&)>& m_emit;
  h2::CallHeaders m_call;
  Clock::time_point m_start;
  std::vector<Event> m_events;
  std::map<std::int32_t, std::string> m_methods;  // open streams: "grpc.health.v1.Health/Watch"
  std::optional<Clock::time_point> m_next_ping, m_next_rpc, m_ping_sent_at;
  std::uint64_t m_ping_count = 0;
  bool m_goaway = false;
  bool m_open = true;
};

}  // namespace

Result<HoldResult> hold(const HoldOptions& options, const std::function<void(const Happening&)>& on_happening,
                        const std::function<bool()>& stop_requested) {
  std::string address;
  TRY(auto connecting, connect(options, address));
  if (auto* failure = std::get_if<probe::Failure>(&connecting)) {
    HoldResult r;
    r.address = address;
    r.connect_failure = std::move(*failure);
    return r;
  }
  Holder holder(options, std::move(std::get<Ready>(connecting)), on_happening);
  return holder.run(address, stop_requested);
}

}  // namespace grpcdx::conn
