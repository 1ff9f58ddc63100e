// The pure verdict of a held connection: which event ended it, the class, and the words.
#include "conn/verdict.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "h2/session.hpp"

namespace grpcdx::conn {

namespace {

constexpr std::uint32_t k_no_error = 0;
constexpr std::uint32_t k_internal_error = 2;
constexpr std::uint32_t k_enhance_your_calm = 11;

// A GOAWAY as the verdict needs it: when, and what was going on then.
struct GoawaySeen {
  const Event* event = nullptr;
  int open_streams = 0;  // calls open when it arrived
  Duration quiet{};      // how long no call had been open (0 while one was)
  Duration longest_earlier_quiet{};  // the longest quiet stretch that ended before it
};

// What the events say, gathered in one pass.
struct Facts {
  int pings_sent = 0;
  int pings_answered = 0;
  Duration slowest_rtt{};
  std::optional<Duration> unanswered_since;  // the oldest PING still without an answer
  std::vector<GoawaySeen> goaways;
  const Event* end = nullptr;  // the first closed_fin / closed_reset
};

Facts gather(std::span<const Event> events) {
  Facts f;
  int open = 0;
  Duration quiet_start{};
  Duration longest_quiet{};
  for (const Event& e : events) {
    if (f.end) break;
    switch (e.kind) {
      case Event::Kind::ping_sent:
        ++f.pings_sent;
        if (!f.unanswered_since) f.unanswered_since = e.t;
        break;
      case Event::Kind::ping_ack:
        ++f.pings_answered;
        f.slowest_rtt = std::max(f.slowest_rtt, e.rtt);
        f.unanswered_since.reset();
        break;
      case Event::Kind::pings_answered:
        f.pings_sent += e.count;
        f.pings_answered += e.count;
        f.slowest_rtt = std::max(f.slowest_rtt, e.rtt);
        break;
      case Event::Kind::stream_opened:
        if (open++ == 0) longest_quiet = std::max(longest_quiet, e.t - quiet_start);
        break;
      case Event::Kind::stream_closed:
        if (open > 0 && --open == 0) quiet_start = e.t;
        break;
      case Event::Kind::goaway:
        f.goaways.push_back(GoawaySeen{&e, open, open == 0 ? e.t - quiet_start : Duration{}, longest_quiet});
        break;
      case Event::Kind::closed_fin:
      case Event::Kind::closed_reset: f.end = &e; break;
    }
  }
  return f;
}

std::string quoted_debug(const Event& g) { return g.debug.empty() ? std::string() : fmt::format(" \"{}\"", g.debug); }

std::string plural(int n, std::string_view word) { return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s"); }

bool debug_says(const Event& g, std::string_view word) { return g.debug.find(word) != std::string::npos; }

// The text after the first GOAWAY's description when more came: ", then GOAWAY NO_ERROR (last
// stream 1)".
std::string later_goaways(const Facts& f) {
  std::string out;
  for (size_t i = 1; i < f.goaways.size(); ++i) {
    const Event& g = *f.goaways[i].event;
    out += fmt::format(", then GOAWAY {}{} (last stream {})", h2::error_code_name(g.error_code), quoted_debug(g),
                       g.last_stream_id);
  }
  return out;
}

Verdict keepalive_rejected(const Facts& f, const GoawaySeen& seen, const Plan& plan) {
  const Event& g = *seen.event;
  Verdict v;
  v.cls = ConnClass::keepalive_rejected;
  const std::string every = plan.keepalive ? format_duration(*plan.keepalive) : std::string("?");
  const auto ms = plan.keepalive ? std::chrono::duration_cast<std::chrono::milliseconds>(*plan.keepalive).count() : 0;
  const bool idle = seen.open_streams == 0;
  v.summary = fmt::format(
      "the server sent GOAWAY ENHANCE_YOUR_CALM{} after {}, {} sent one every {} {}: it allows PINGs less often "
      "than that (grpc-go's and gRPC C++'s default: one every 5m{})",
      quoted_debug(g), seconds_text(g.t), plural(f.pings_sent, "PING"), every,
      idle ? "with no stream open" : "with a stream open", idle ? ", or every 2h with no stream open" : "");
  if (idle) {
    v.hint = fmt::format(
        "set the client's keepalive time to 5m or more and keepalive without calls off, or let the server take "
        "PINGs every {}: grpc-go keepalive.EnforcementPolicy{{MinTime: {}, PermitWithoutStream: true}}; gRPC "
        "C++/C-core GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS (grpc.http2.min_ping_interval_without_"
        "data_ms) = {} and GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS (grpc.keepalive_permit_without_calls) = 1",
        every, every, ms);
  } else {
    v.hint = fmt::format(
        "set the client's keepalive time to 5m or more, or let the server take PINGs every {}: grpc-go "
        "keepalive.EnforcementPolicy.MinTime = {}; gRPC C++/C-core GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_"
        "DATA_MS (grpc.http2.min_ping_interval_without_data_ms) = {}",
        every, every, ms);
  }
  return v;
}

Verdict idle_closed(const Facts& f, const GoawaySeen& seen) {
  const Event& g = *seen.event;
  Verdict v;
  v.cls = ConnClass::idle_closed;
  v.summary = fmt::format(
      "the server closed the connection after it was idle for {}: GOAWAY {}{} with no stream open{}; its idle "
      "limit is about {}",
      seconds_text(seen.quiet), h2::error_code_name(g.error_code), quoted_debug(g), later_goaways(f),
      seconds_text(seen.quiet));
  v.hint = fmt::format(
      "a client idle that long loses the connection and pays a new handshake on its next call: raise the server's "
      "limit (grpc-go keepalive.ServerParameters.MaxConnectionIdle; gRPC C++ GRPC_ARG_MAX_CONNECTION_IDLE_MS, "
      "grpc.max_connection_idle_ms) or keep the connection busy (--rpc-every shorter than {} shows whether calls "
      "keep it open)",
      seconds_text(seen.quiet));
  return v;
}

Verdict age_closed(const Facts& f, const GoawaySeen& seen) {
  const Event& g = *seen.event;
  Verdict v;
  v.cls = ConnClass::age_closed;
  v.summary = fmt::format(
      "the server closed the connection at age {}: GOAWAY {}{} {}{}; its age limit is about {}", seconds_text(g.t),
      h2::error_code_name(g.error_code), quoted_debug(g),
      seen.open_streams > 0 ? fmt::format("with {} open", plural(seen.open_streams, "stream"))
                            : std::string("during steady calls"),
      later_goaways(f), seconds_text(g.t));
  v.hint =
      "servers end connections at a fixed age to spread load; clients reconnect, but calls running longer than the "
      "age plus its grace are cut: raise grpc-go keepalive.ServerParameters.MaxConnectionAge / "
      "MaxConnectionAgeGrace or gRPC C++ GRPC_ARG_MAX_CONNECTION_AGE_MS / GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS "
      "(grpc.max_connection_age_ms, grpc.max_connection_age_grace_ms), and let clients retry calls a GOAWAY refused";
  return v;
}

Verdict other_goaway(const Facts& f, const GoawaySeen& seen) {
  const Event& g = *seen.event;
  Verdict v;
  v.cls = ConnClass::goaway;
  v.summary = fmt::format("the server sent GOAWAY {} (last stream {}{}) after {}{}", h2::error_code_name(g.error_code),
                          g.last_stream_id, g.debug.empty() ? std::string() : ", debug \"" + g.debug + "\"",
                          seconds_text(g.t), later_goaways(f));
  v.hint = fmt::format(
      "the error code and debug data say why the server ended the connection: look at its logs at that moment; "
      "calls on streams above {} were not processed and may be retried",
      g.last_stream_id);
  return v;
}

// The class of the GOAWAYs seen, from what the server said and what was going on.
Verdict from_goaways(const Facts& f, const Plan& plan) {
  for (const auto& seen : f.goaways)
    if (seen.event->error_code == k_enhance_your_calm) return keepalive_rejected(f, seen, plan);
  const GoawaySeen& first = f.goaways.front();
  const Event& g = *first.event;
  if (debug_says(g, "max_idle") || debug_says(g, "enter idle")) return idle_closed(f, first);
  if (debug_says(g, "max_age")) return age_closed(f, first);
  const bool graceful = g.error_code == k_no_error;
  if (first.open_streams > 0) return graceful ? age_closed(f, first) : other_goaway(f, first);
  // No stream open. An idle timer fires once the quiet time reaches its limit, so a GOAWAY after
  // a quiet stretch no longer than one the connection already survived is not the idle timer:
  // with calls going on steadily, it is the age limit.
  if (g.error_code != k_no_error && g.error_code != k_internal_error) return other_goaway(f, first);
  const bool survived_longer = first.longest_earlier_quiet > Duration{} &&
                               first.longest_earlier_quiet * 10 >= first.quiet * 9;
  if (survived_longer) return graceful ? age_closed(f, first) : other_goaway(f, first);
  return idle_closed(f, first);
}

}  // namespace

std::string_view class_name(ConnClass c) {
  switch (c) {
    case ConnClass::held: return "held";
    case ConnClass::keepalive_rejected: return "keepalive_rejected";
    case ConnClass::idle_closed: return "idle_closed";
    case ConnClass::age_closed: return "age_closed";
    case ConnClass::goaway: return "goaway";
    case ConnClass::closed: return "closed";
    case ConnClass::reset: return "reset";
    case ConnClass::dead_path: return "dead_path";
  }
  return "held";
}

int exit_code(ConnClass c) {
  switch (c) {
    case ConnClass::held: return 0;
    case ConnClass::keepalive_rejected: return 50;
    case ConnClass::idle_closed: return 51;
    case ConnClass::age_closed: return 52;
    case ConnClass::goaway: return 53;
    case ConnClass::closed: return 54;
    case ConnClass::reset: return 55;
    case ConnClass::dead_path: return 56;
  }
  return 0;
}

std::string seconds_text(Duration d) {
  using namespace std::chrono;
  if (d < seconds(1)) return fmt::format("{} ms", duration_cast<milliseconds>(d).count());
  if (d < seconds(100)) return fmt::format("{:.1f} s", duration<double>(d).count());
  return format_duration(duration_cast<seconds>(d + milliseconds(500)));
}

std::optional<Verdict> decide(std::span<const Event> events, const Plan& plan, Duration now) {
  Facts f = gather(events);
  std::optional<Verdict> v;
  if (!f.goaways.empty()) {
    const Duration first = f.goaways.front().event->t;
    if (!f.end && now < first + k_goaway_settle) return std::nullopt;
    v = from_goaways(f, plan);
    v->held = f.end ? f.end->t : first;
  } else if (f.end && f.end->kind == Event::Kind::closed_fin) {
    v = Verdict{ConnClass::closed, f.end->t, 0,
                fmt::format("the server closed the connection (FIN) after {} without a GOAWAY", seconds_text(f.end->t)),
                fmt::format("an HTTP/2 server sends GOAWAY before it closes: a close without one comes from a proxy "
                            "or load balancer in between (compare {} with its idle or connection timeout) or from a "
                            "server process that exited",
                            seconds_text(f.end->t))};
  } else if (f.end) {
    v = Verdict{ConnClass::reset, f.end->t, 0,
                fmt::format("the connection was reset (TCP RST) after {} without a GOAWAY", seconds_text(f.end->t)),
                fmt::format("a reset comes from a proxy, firewall or load balancer that dropped the flow (compare {} "
                            "with their idle timeouts) or from a server that crashed; keepalive PINGs more often than "
                            "such a timeout keep an idle connection alive",
                            seconds_text(f.end->t))};
  } else if (f.unanswered_since && now - *f.unanswered_since >= plan.keepalive_timeout) {
    v = Verdict{ConnClass::dead_path, *f.unanswered_since + plan.keepalive_timeout, 0,
                fmt::format("a PING sent at {} got no answer within {}: the connection looks open but nothing comes "
                            "back",
                            seconds_text(*f.unanswered_since), format_duration(plan.keepalive_timeout)),
                "a NAT, firewall or load balancer on the path dropped the flow silently (often after an idle "
                "timeout): clients need keepalive PINGs (time below that timeout, a timeout like this one) to notice "
                "and reconnect"};
  } else if (now >= plan.hold_for) {
    std::string pings = f.pings_sent == 0 ? std::string()
                        : f.pings_answered == 0
                            ? fmt::format(", {} without an answer yet", plural(f.pings_sent, "PING"))
                            : fmt::format(", {} answered (slowest in {:.1f} ms)", plural(f.pings_answered, "PING"),
                                          to_ms(f.slowest_rtt));
    v = Verdict{ConnClass::held, plan.hold_for, 0,
                fmt::format("the connection stayed up for {}: no GOAWAY, no close{}", format_duration(plan.hold_for),
                            pings),
                ""};
  }
  if (v) v->pings_sent = f.pings_sent;
  return v;
}

void compact_pings(std::vector<Event>& events, int keep) {
  int answers = 0;
  for (const Event& e : events) answers += e.kind == Event::Kind::ping_ack;
  if (answers <= 2 * keep) return;
  // Answers come in the order the PINGs left, so the first n PINGs are the first n answered.
  const int fold = answers - keep;
  Event summary;
  summary.kind = Event::Kind::pings_answered;
  std::optional<size_t> at;
  std::vector<Event> kept;
  kept.reserve(events.size());
  int sent = 0, acked = 0;
  for (Event& e : events) {
    const bool folded = e.kind == Event::Kind::pings_answered || (e.kind == Event::Kind::ping_sent && sent < fold) ||
                        (e.kind == Event::Kind::ping_ack && acked < fold);
    if (!folded) {
      kept.push_back(std::move(e));
      continue;
    }
    if (!at) {
      at = kept.size();
      summary.t = e.t;
    }
    if (e.kind == Event::Kind::pings_answered) {
      summary.count += e.count;
      summary.rtt = std::max(summary.rtt, e.rtt);
    } else if (e.kind == Event::Kind::ping_sent) {
      ++sent;
    } else {
      ++acked;
      ++summary.count;
      summary.rtt = std::max(summary.rtt, e.rtt);
    }
  }
  kept.insert(kept.begin() + static_cast<std::ptrdiff_t>(*at), std::move(summary));
  events = std::move(kept);
}

}  // namespace grpcdx::conn
