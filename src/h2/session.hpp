// An HTTP/2 client session (nghttp2) with no I/O of its own: bytes in through feed(), bytes out
// through take_output(), and what the server did (SETTINGS, PINGs, GOAWAY, the end of each stream)
// as a list of events, so the caller decides how to read, write and wait.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace grpcdx::h2 {

// The name of an HTTP/2 error code ("NO_ERROR", "ENHANCE_YOUR_CALM"), or "0x1f" for one RFC 9113
// does not define.
std::string error_code_name(std::uint32_t code);

// The name of a SETTINGS parameter ("max_concurrent_streams"), or "0xfe03" style for others.
std::string setting_name(std::uint16_t id);

// One thing the server did, in the order it arrived.
struct Event {
  enum class Kind {
    settings,       // the server's SETTINGS (not an ACK): `settings`
    ping,           // the server PINGed us (answered automatically): `opaque`
    ping_ack,       // the answer to one of our PINGs: `opaque`
    goaway,         // `error_code`, `last_stream_id`, `debug`
    stream_headers, // the response headers of `stream_id` arrived (`headers`)
    stream_message, // a whole gRPC message arrived on `stream_id` (`message`, without framing)
    stream_closed,  // `stream_id` ended: `grpc_status` from its trailers, or `error_code` of a reset
  };
  Kind kind = Kind::settings;
  std::vector<std::pair<std::uint16_t, std::uint32_t>> settings;
  std::uint64_t opaque = 0;
  std::uint32_t error_code = 0;
  std::int32_t last_stream_id = 0;
  std::string debug;
  std::int32_t stream_id = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string message;
  std::optional<int> grpc_status;  // stream_closed: the trailers' grpc-status, when present
  std::string grpc_message;        // stream_closed: the trailers' grpc-message
};

// The request pseudo-headers and metadata of one gRPC call.
struct CallHeaders {
  std::string scheme = "http";  // "https" over TLS
  std::string authority;
  std::string path;             // "/grpc.health.v1.Health/Check"
  std::string user_agent;       // put before "grpcdx/VERSION" (--user-agent), may be empty
  std::vector<std::pair<std::string, std::string>> metadata;
};

class ClientSession {
 public:
  // A session that has queued the client preface and an initial SETTINGS (push disabled).
  // Fails (local) when nghttp2 cannot allocate it.
  static Result<std::unique_ptr<ClientSession>> create();
  ~ClientSession();
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  // Hands bytes read from the server to the session. Bytes that break the protocol make the
  // session queue a GOAWAY (PROTOCOL_ERROR and nghttp2's reason) in take_output(). Fails (local)
  // only on nghttp2's fatal errors (out of memory, a callback failure).
  Result<void> feed(std::string_view bytes);

  // The bytes the session wants written now (may be empty). Fails (local) on an internal error.
  Result<std::string> take_output();

  // The events since the last call, oldest first.
  std::vector<Event> take_events();

  // Queues a PING with `opaque` as its data.
  void ping(std::uint64_t opaque);

  // Starts a gRPC call whose one request message is `message` (sent with the 5-byte gRPC
  // framing, then END_STREAM). Returns the stream id. Fails (local) when no new stream may be
  // opened (after a GOAWAY) or nghttp2 refuses it.
  Result<std::int32_t> start_call(const CallHeaders& headers, std::string_view message);

  // Whether any stream is open.
  bool has_open_streams() const;

  struct State;  // nghttp2's session and the callbacks' record (defined in the .cpp)

 private:
  ClientSession();
  std::unique_ptr<State> m_state;
};

}  // namespace grpcdx::h2
