// Which fault, if any, a call gets. Pure: all randomness comes from `rng`, so tests can pin it;
// the stateful gates (limit, --max-active) and the actions live elsewhere (plan.hpp, proxy.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chaos/fault_spec.hpp"
#include "core/duration.hpp"
#include "core/error.hpp"

namespace grpcdx::chaos {

// A source of uniform numbers in [0, 1). Implementations need not be thread-safe.
class Random {
 public:
  virtual ~Random() = default;
  virtual double next_unit() = 0;
};

// The real source: a seeded 64-bit Mersenne Twister, so a run with the same seed repeats.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : m_engine(seed) {}
  double next_unit() override { return std::uniform_real_distribution<double>(0.0, 1.0)(m_engine); }

 private:
  std::mt19937_64 m_engine;
};

// What a fault decision looks at: the method ("pkg.Service/Method", no leading slash) and the
// request metadata (keys lower-case; -bin values raw).
struct CallInfo {
  std::string method;
  std::vector<std::pair<std::string, std::string>> metadata;
};

// What to do to one call, from one fault.
struct FaultAction {
  FaultKind kind = FaultKind::delay;
  Duration delay{0};                     // delay: the drawn delay (jitter applied)
  int code = 0;                          // abort
  std::string message;                   // abort
  std::optional<Duration> retry_after;   // abort: send a google.rpc.RetryInfo of this delay
  uint64_t after_messages = 0;           // cancel, reset, stall
  std::optional<Duration> after_duration;  // cancel; close (--tcp)
  std::string source;                    // the spec text, for messages ("abort=UNAVAILABLE")
  // --tcp faults: latency uses delay and jitter (drawn per chunk from jitter_seed); slice uses
  // delay as the pause between slices.
  Direction dir = Direction::both;
  Duration jitter{0};
  uint64_t jitter_seed = 0;
  uint64_t rate = 0;         // bandwidth, bytes/s
  uint64_t after_bytes = 0;  // reset
  uint64_t slice_bytes = 0;  // slice
};

// The outcome of one fault for one call.
struct Decision {
  bool matched = false;                // method and header conditions hold
  std::optional<FaultAction> action;   // set when matched and the pct draw hit
};

// Decides `spec` for `call`. Draws exactly one number from `rng` for pct when the call matches
// (and one more for the jitter of a delay, or the jitter seed of a latency, that hits); draws
// nothing when it does not match. A --tcp fault has no method or header condition: a connection
// is a CallInfo with no method, which every --tcp fault matches. Never fails.
Decision decide(const FaultSpec& spec, const CallInfo& call, Random& rng);

// True when `text` matches `glob`, where '*' matches any run of characters (also '/') and '?'
// any one character. Everything else matches itself.
bool glob_match(std::string_view glob, std::string_view text);

// Metadata keys a call may use to ask for its own fault under --header-faults.
inline constexpr std::string_view k_header_delay = "x-grpcdx-delay";
inline constexpr std::string_view k_header_abort = "x-grpcdx-abort";

// The faults a call asks for with x-grpcdx-delay: DUR and x-grpcdx-abort: CODE (at most one of
// each; the first value wins). Fails (usage) when a value is not a duration or a status code,
// naming the header: "invalid x-grpcdx-delay 'soon': ...".
Result<std::vector<FaultAction>> decide_header_faults(const CallInfo& call);

}  // namespace grpcdx::chaos
