// When `replay` sends each message: as recorded, as fast as possible, or at a fixed rate; and a
// RequestSource that waits for each message's moment.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/duration.hpp"
#include "core/error.hpp"
#include "rpc/invoker.hpp"

namespace grpcdx::stream {

struct Pace {
  enum class Kind { recorded, asap, rate };
  Kind kind = Kind::recorded;
  double per_second = 0;  // for rate
};

// Parses "recorded", "asap" or "N/s" (N a positive number, e.g. "20/s", "0.5/s"). Fails (usage)
// with what is accepted.
Result<Pace> parse_pace(std::string_view text);

// When message `index` (0-based, recorded at `t_ms`) is due, counted from the start of the call:
// its recorded time, zero, or index / N seconds.
Duration send_offset(const Pace& pace, size_t index, double t_ms);

// Serialized messages sent at their paced moments. The clock starts at the first next().
class PacedRequestSource : public rpc::RequestSource {
 public:
  struct Message {
    std::string bytes;
    double t_ms = 0;
  };
  using Now = std::function<std::chrono::steady_clock::time_point()>;

  PacedRequestSource(std::vector<Message> messages, Pace pace, Now now = {});
  // Waits (in short slices, so a stopped call is noticed) until the next message is due.
  std::optional<Result<std::string>> next(const std::atomic<bool>& stop) override;

 private:
  std::vector<Message> m_messages;
  Pace m_pace;
  Now m_now;
  size_t m_pos = 0;
  bool m_started = false;
  std::chrono::steady_clock::time_point m_start;
};

}  // namespace grpcdx::stream
