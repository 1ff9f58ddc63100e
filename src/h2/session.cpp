// The nghttp2 client session behind h2::ClientSession: callbacks turn frames into events, and
// gRPC's 5-byte message framing is undone per stream.
#include "h2/session.hpp"

#include <cstring>
#include <map>

#include <fmt/format.h>
#include <nghttp2/nghttp2.h>

namespace grpcdx::h2 {

// What one open stream has received so far (outside the anonymous namespace: State holds it).
struct StreamRecord {
  std::string request;   // the framed request body not yet handed to nghttp2
  size_t request_sent = 0;
  std::string data;      // response bytes not yet a whole message
  std::vector<std::pair<std::string, std::string>> headers;  // of the HEADERS frame being read
  std::optional<int> grpc_status;
  std::string grpc_message;
  bool headers_seen = false;
};

namespace {

std::uint64_t opaque_of(const std::uint8_t* data) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | data[i];
  return v;
}

}  // namespace

struct ClientSession::State {
  nghttp2_session* session = nullptr;
  std::vector<Event> events;
  std::map<std::int32_t, StreamRecord> streams;
  std::string pending;  // received bytes not yet a whole frame

  ~State() {
    if (session) nghttp2_session_del(session);
  }

  // A header block (response headers, or trailers) has been read: record grpc-status.
  void take_status(StreamRecord& s) {
    for (const auto& [name, value] : s.headers) {
      if (name == "grpc-status") {
        int code = 0;
        bool digits = !value.empty() && value.size() <= 3;
        for (char c : value) {
          digits = digits && c >= '0' && c <= '9';
          code = code * 10 + (c - '0');
        }
        if (digits) s.grpc_status = code;
      } else if (name == "grpc-message") {
        s.grpc_message = value;
      }
    }
  }

  void on_frame(const nghttp2_frame* frame) {
    switch (frame->hd.type) {
      case NGHTTP2_SETTINGS: {
        if (frame->hd.flags & NGHTTP2_FLAG_ACK) return;
        Event e;
        e.kind = Event::Kind::settings;
        for (size_t i = 0; i < frame->settings.niv; ++i)
          e.settings.emplace_back(static_cast<std::uint16_t>(frame->settings.iv[i].settings_id),
                                  frame->settings.iv[i].value);
        events.push_back(std::move(e));
        return;
      }
      case NGHTTP2_PING: {
        // Every PING is answered, even after a GOAWAY with no stream open, where nghttp2's own
        // answering stops: gRPC servers (grpc-go) PING after their first GOAWAY and send the
        // second only once the answer comes, and gRPC clients answer.
        if (!(frame->hd.flags & NGHTTP2_FLAG_ACK))
          nghttp2_submit_ping(session, NGHTTP2_FLAG_ACK, frame->ping.opaque_data);
        Event e;
        e.kind = (frame->hd.flags & NGHTTP2_FLAG_ACK) ? Event::Kind::ping_ack : Event::Kind::ping;
        e.opaque = opaque_of(frame->ping.opaque_data);
        events.push_back(std::move(e));
        return;
      }
      case NGHTTP2_GOAWAY: {
        Event e;
        e.kind = Event::Kind::goaway;
        e.error_code = frame->goaway.error_code;
        e.last_stream_id = frame->goaway.last_stream_id;
        e.debug.assign(reinterpret_cast<const char*>(frame->goaway.opaque_data), frame->goaway.opaque_data_len);
        events.push_back(std::move(e));
        return;
      }
      case NGHTTP2_HEADERS: {
        auto it = streams.find(frame->hd.stream_id);
        if (it == streams.end()) return;
        StreamRecord& s = it->second;
        take_status(s);
        if (!s.headers_seen) {
          s.headers_seen = true;
          Event e;
          e.kind = Event::Kind::stream_headers;
          e.stream_id = frame->hd.stream_id;
          e.headers = s.headers;
          events.push_back(std::move(e));
        }
        s.headers.clear();
        return;
      }
      default: return;
    }
  }

  void on_data(std::int32_t stream_id, const std::uint8_t* data, size_t len) {
    auto it = streams.find(stream_id);
    if (it == streams.end()) return;
    StreamRecord& s = it->second;
    s.data.append(reinterpret_cast<const char*>(data), len);
    while (s.data.size() >= 5) {
      std::uint32_t n = (std::uint32_t(std::uint8_t(s.data[1])) << 24) | (std::uint32_t(std::uint8_t(s.data[2])) << 16) |
                        (std::uint32_t(std::uint8_t(s.data[3])) << 8) | std::uint32_t(std::uint8_t(s.data[4]));
      if (s.data.size() - 5 < n) break;
      Event e;
      e.kind = Event::Kind::stream_message;
      e.stream_id = stream_id;
      e.message = s.data.substr(5, n);
      s.data.erase(0, 5 + size_t(n));
      events.push_back(std::move(e));
    }
  }

  void on_close(std::int32_t stream_id, std::uint32_t error_code) {
    auto it = streams.find(stream_id);
    if (it == streams.end()) return;
    Event e;
    e.kind = Event::Kind::stream_closed;
    e.stream_id = stream_id;
    e.error_code = error_code;
    e.grpc_status = it->second.grpc_status;
    e.grpc_message = it->second.grpc_message;
    events.push_back(std::move(e));
    streams.erase(it);
  }
};

namespace {

ClientSession::State* state_of(void* user_data) { return static_cast<ClientSession::State*>(user_data); }

int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  state_of(user_data)->on_frame(frame);
  return 0;
}

int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name, size_t namelen,
              const std::uint8_t* value, size_t valuelen, std::uint8_t, void* user_data) {
  auto* st = state_of(user_data);
  auto it = st->streams.find(frame->hd.stream_id);
  if (it != st->streams.end())
    it->second.headers.emplace_back(std::string(reinterpret_cast<const char*>(name), namelen),
                                    std::string(reinterpret_cast<const char*>(value), valuelen));
  return 0;
}

int on_data_chunk(nghttp2_session*, std::uint8_t, std::int32_t stream_id, const std::uint8_t* data, size_t len,
                  void* user_data) {
  state_of(user_data)->on_data(stream_id, data, len);
  return 0;
}

int on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t error_code, void* user_data) {
  state_of(user_data)->on_close(stream_id, error_code);
  return 0;
}

// Hands nghttp2 the framed request of a stream, then END_STREAM.
ssize_t read_request(nghttp2_session*, std::int32_t stream_id, std::uint8_t* buf, size_t length,
                     std::uint32_t* data_flags, nghttp2_data_source*, void* user_data) {
  auto* st = state_of(user_data);
  auto it = st->streams.find(stream_id);
  if (it == st->streams.end()) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return 0;
  }
  StreamRecord& s = it->second;
  size_t n = std::min(length, s.request.size() - s.request_sent);
  std::memcpy(buf, s.request.data() + s.request_sent, n);
  s.request_sent += n;
  if (s.request_sent == s.request.size()) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

nghttp2_nv header(const std::string& name, const std::string& value) {
  return nghttp2_nv{reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
                    NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

std::string error_code_name(std::uint32_t code) {
  static constexpr const char* k_names[] = {
      "NO_ERROR",      "PROTOCOL_ERROR", "INTERNAL_ERROR",      "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
      "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM",    "CANCEL",             "COMPRESSION_ERROR",
      "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"};
  if (code < std::size(k_names)) return k_names[code];
  return fmt::format("0x{:x}", code);
}

std::string setting_name(std::uint16_t id) {
  switch (id) {
    case 1: return "header_table_size";
    case 2: return "enable_push";
    case 3: return "max_concurrent_streams";
    case 4: return "initial_window_size";
    case 5: return "max_frame_size";
    case 6: return "max_header_list_size";
    case 8: return "enable_connect_protocol";
    case 0xfe03: return "grpc_allow_true_binary_metadata";
    default: return fmt::format("0x{:x}", id);
  }
}

ClientSession::ClientSession() : m_state(std::make_unique<State>()) {}

ClientSession::~ClientSession() = default;

Result<std::unique_ptr<ClientSession>> ClientSession::create() {
  std::unique_ptr<ClientSession> s(new ClientSession());
  nghttp2_session_callbacks* callbacks = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0) return local_error("cannot create an HTTP/2 session");
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame_recv);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_stream_close);
  nghttp2_option* option = nullptr;
  if (nghttp2_option_new(&option) != 0) {
    nghttp2_session_callbacks_del(callbacks);
    return local_error("cannot create an HTTP/2 session");
  }
  nghttp2_option_set_no_auto_ping_ack(option, 1);
  int rv = nghttp2_session_client_new2(&s->m_state->session, callbacks, s->m_state.get(), option);
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);
  if (rv != 0) return local_error(fmt::format("cannot create an HTTP/2 session: {}", nghttp2_strerror(rv)));
  nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
  rv = nghttp2_submit_settings(s->m_state->session, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  if (rv != 0) return local_error(fmt::format("cannot queue HTTP/2 SETTINGS: {}", nghttp2_strerror(rv)));
  return s;
}

namespace {

constexpr size_t k_frame_header = 9;
constexpr size_t k_max_frame = 16384;  // SETTINGS_MAX_FRAME_SIZE as we announce it (the default)

Result<void> mem_recv(nghttp2_session* session, std::string_view bytes) {
  ssize_t rv = nghttp2_session_mem_recv(session, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  if (rv < 0) return local_error(fmt::format("HTTP/2 protocol error: {}", nghttp2_strerror(static_cast<int>(rv))));
  return {};
}

std::uint32_t be32(std::string_view b) {
  return (std::uint32_t(std::uint8_t(b[0])) << 24) | (std::uint32_t(std::uint8_t(b[1])) << 16) |
         (std::uint32_t(std::uint8_t(b[2])) << 8) | std::uint32_t(std::uint8_t(b[3]));
}

}  // namespace

Result<void> ClientSession::feed(std::string_view bytes) {
  // Whole frames, one at a time: once a GOAWAY came and no stream is open, nghttp2 reads no more
  // (want_read is 0) and drops what follows, but a server's second GOAWAY and its PINGs still come
  // then; those frames are read here.
  State& st = *m_state;
  st.pending.append(bytes);
  size_t pos = 0;
  while (st.pending.size() - pos >= k_frame_header) {
    std::string_view rest = std::string_view(st.pending).substr(pos);
    const size_t length = (size_t(std::uint8_t(rest[0])) << 16) | (size_t(std::uint8_t(rest[1])) << 8) |
                          size_t(std::uint8_t(rest[2]));
    if (length > k_max_frame) {
      // Too large for us: nghttp2 answers it (GOAWAY FRAME_SIZE_ERROR) from the header alone.
      st.pending.clear();
      return mem_recv(st.session, rest);
    }
    if (rest.size() < k_frame_header + length) break;
    std::string_view whole = rest.substr(0, k_frame_header + length);
    pos += whole.size();
    if (nghttp2_session_want_read(st.session)) {
      TRY_VOID(mem_recv(st.session, whole));
      continue;
    }
    const auto type = static_cast<std::uint8_t>(whole[3]);
    const auto flags = static_cast<std::uint8_t>(whole[4]);
    std::string_view payload = whole.substr(k_frame_header);
    if (type == NGHTTP2_GOAWAY && payload.size() >= 8) {
      Event e;
      e.kind = Event::Kind::goaway;
      e.last_stream_id = static_cast<std::int32_t>(be32(payload) & 0x7fffffff);
      e.error_code = be32(payload.substr(4));
      e.debug = std::string(payload.substr(8));
      st.events.push_back(std::move(e));
    } else if (type == NGHTTP2_PING && payload.size() == 8) {
      const auto* data = reinterpret_cast<const std::uint8_t*>(payload.data());
      if (!(flags & NGHTTP2_FLAG_ACK)) nghttp2_submit_ping(st.session, NGHTTP2_FLAG_ACK, data);
      Event e;
      e.kind = (flags & NGHTTP2_FLAG_ACK) ? Event::Kind::ping_ack : Event::Kind::ping;
      e.opaque = opaque_of(data);
      st.events.push_back(std::move(e));
    }
  }
  st.pending.erase(0, pos);
  return {};
}

Result<std::string> ClientSession::take_output() {
  std::string out;
  while (true) {
    const std::uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(m_state->session, &data);
    if (n < 0) return local_error(fmt::format("HTTP/2 session error: {}", nghttp2_strerror(static_cast<int>(n))));
    if (n == 0) return out;
    out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
}

std::vector<Event> ClientSession::take_events() { return std::exchange(m_state->events, {}); }

void ClientSession::ping(std::uint64_t opaque) {
  std::uint8_t data[8];
  for (int i = 7; i >= 0; --i) {
    data[i] = static_cast<std::uint8_t>(opaque & 0xff);
    opaque >>= 8;
  }
  nghttp2_submit_ping(m_state->session, NGHTTP2_FLAG_NONE, data);
}

Result<std::int32_t> ClientSession::start_call(const CallHeaders& h, std::string_view message) {
  const std::string method = ":method", post = "POST", scheme = ":scheme", authority = ":authority", path = ":path",
                    content_type = "content-type", grpc = "application/grpc", te = "te", trailers = "trailers",
                    user_agent = "user-agent",
                    agent = (h.user_agent.empty() ? "" : h.user_agent + " ") + "grpcdx/" GRPCDX_VERSION;
  std::vector<nghttp2_nv> nva = {header(method, post), header(scheme, h.scheme), header(authority, h.authority),
                                 header(path, h.path), header(content_type, grpc), header(te, trailers),
                                 header(user_agent, agent)};
  for (const auto& [k, v] : h.metadata) nva.push_back(header(k, v));
  StreamRecord record;
  record.request.push_back('\0');
  const auto n = static_cast<std::uint32_t>(message.size());
  for (int shift = 24; shift >= 0; shift -= 8) record.request.push_back(static_cast<char>((n >> shift) & 0xff));
  record.request.append(message);
  nghttp2_data_provider provider{};
  provider.read_callback = read_request;
  std::int32_t id = nghttp2_submit_request(m_state->session, nullptr, nva.data(), nva.size(), &provider, nullptr);
  if (id < 0) return local_error(fmt::format("cannot start an HTTP/2 stream: {}", nghttp2_strerror(id)));
  m_state->streams[id] = std::move(record);
  return id;
}

bool ClientSession::has_open_streams() const { return !m_state->streams.empty(); }

}  // namespace grpcdx::h2
