// What ended a held connection, decided from the timed events of the hold. Pure: the events
// and the time "now" come from outside, so tests feed them without sockets or sleeping.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/duration.hpp"

namespace grpcdx::conn {

// The classes of SPEC.md's conn table, in exit-code order.
enum class ConnClass { held, keepalive_rejected, idle_closed, age_closed, goaway, closed, reset, dead_path };

// "keepalive_rejected" for ConnClass::keepalive_rejected.
std::string_view class_name(ConnClass c);

// The process exit code of a class: 0, or 50-56 as in SPEC.md.
int exit_code(ConnClass c);

// How the hold was meant to go (the command's flags).
struct Plan {
  Duration hold_for = std::chrono::minutes(5);
  std::optional<Duration> keepalive;                      // PING interval
  Duration keepalive_timeout = std::chrono::seconds(20);  // an unanswered PING older is a dead path
  bool stream = false;                                    // a long-lived Watch call is kept open
  std::optional<Duration> rpc_every;                      // a Check every this long
};

// One thing that happened during the hold; `t` counts from the moment the connection was ready.
struct Event {
  enum class Kind {
    ping_sent,      // a keepalive PING left
    ping_ack,       // its answer came (`rtt`)
    stream_opened,  // a call started (a Watch, a Check)
    stream_closed,  // a call ended (`code`: its grpc-status, -1 without one)
    goaway,         // `error_code`, `last_stream_id`, `debug`
    closed_fin,     // the peer closed the connection (EOF)
    closed_reset,   // the connection was reset
    pings_answered, // `count` earlier PINGs, all answered, the slowest in `rtt` (compact_pings)
  };
  Kind kind = Kind::ping_sent;
  Duration t{};
  Duration rtt{};
  int code = 0;
  std::uint32_t error_code = 0;
  std::int32_t last_stream_id = 0;
  std::string debug;
  int count = 0;  // pings_answered: how many
};

// Keeps a long hold's history bounded: once more than 2 * `keep` PINGs have been answered, all
// but the last `keep` answered ones (with their answers) become one pings_answered event where
// the first of them stood. decide() reads the same counts, round trips and unanswered PINGs
// from the result as from the events it replaces.
void compact_pings(std::vector<Event>& events, int keep);

struct Verdict {
  ConnClass cls = ConnClass::held;
  Duration held{};     // from ready to the end of the connection (or of the hold)
  int pings_sent = 0;
  std::string summary;
  std::string hint;
  int exit_code() const { return conn::exit_code(cls); }
};

// How long after a GOAWAY the verdict waits for a second GOAWAY and the close that follow it.
inline constexpr Duration k_goaway_settle = std::chrono::seconds(1);

// The verdict at time `now` from the events so far (in time order), or nullopt while the hold
// goes on. Decides:
// - closed_fin / closed_reset without a GOAWAY before: closed / reset;
// - a GOAWAY: once the connection closed after it, or k_goaway_settle after the first one,
//   from every GOAWAY seen: keepalive_rejected (ENHANCE_YOUR_CALM), idle_closed (no stream open
//   and the quiet time longer than any earlier quiet stretch; debug "max_idle"/"enter idle"
//   decide it too), age_closed (a stream open, or "max_age"), goaway (any other code);
// - dead_path: a PING unanswered for plan.keepalive_timeout (and no GOAWAY);
// - held: now reached plan.hold_for with none of the above.
std::optional<Verdict> decide(std::span<const Event> events, const Plan& plan, Duration now);

// "1.5 s", "250 ms", "2m0s" style short text of a measured duration, for summaries.
std::string seconds_text(Duration d);

}  // namespace grpcdx::conn
