// The --tcp proxy: one thread running an edge-triggered epoll loop over nonblocking sockets.
// Bytes read from one side are written to the other at once from a shared scratch buffer; only
// what the other side cannot take yet (or what a fault holds) is copied into a per-direction
// queue, and a side is not read while its queue is full (backpressure). The end of a direction
// is passed on with shutdown(SHUT_WR); an error on either side resets the other. Timed faults
// wake the loop through a min-heap of deadlines and epoll_pwait2's timeout.
#include "chaos/tcp_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <queue>
#include <string_view>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include "chaos/loss_table.hpp"
#include "chaos/plan.hpp"
#include "chaos/tcp_faults.hpp"
#include "net/target.hpp"

namespace grpcdx::chaos {

namespace {

constexpr size_t k_scratch_size = 256 * 1024;
// Bytes held per direction before its source is no longer read: one read's worth normally; a
// delayed direction holds what is in flight during the delay (throughput <= limit / latency).
constexpr size_t k_queue_limit = k_scratch_size;
constexpr size_t k_latency_queue_limit = 8 * 1024 * 1024;
constexpr int k_reads_per_turn = 16;    // then other connections get a turn
// The pipe of a spliced direction (F_SETPIPE_SZ; the kernel keeps its default where refused).
constexpr int k_pipe_size = 256 * 1024;
constexpr int k_accepts_per_turn = 64;
constexpr auto k_accept_retry = std::chrono::milliseconds(100);  // after EMFILE and the like
constexpr uint64_t k_tag_listener = 0;  // epoll data of the listening socket ...
constexpr uint64_t k_tag_wake = 1;      // ... and of the stop eventfd; anything else is an Endpoint*
constexpr uint64_t k_accept_timer = 0;  // timer id of the accept retry; connections count from 1

}  // namespace

// One resolved upstream address (outside the anonymous namespace: TcpLoop, declared in the
// header, holds a list of them).
struct SocketAddress {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = AF_UNSPEC;
};

namespace {

std::string format_address(const sockaddr_storage& ss) {
  char host[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto* sa = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &sa->sin_addr, host, sizeof host);
    return fmt::format("{}:{}", host, ntohs(sa->sin_port));
  }
  if (ss.ss_family == AF_INET6) {
    const auto* sa = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &sa->sin6_addr, host, sizeof host);
    return fmt::format("[{}]:{}", host, ntohs(sa->sin6_port));
  }
  const auto* sun = reinterpret_cast<const sockaddr_un*>(&ss);
  return fmt::format("unix:{}", sun->sun_path);
}

// What loss=P's rules match: the listening address (empty when it is the wildcard) and port;
// port 0 for a unix socket.
LossPort loss_port(const sockaddr_storage& ss) {
  LossPort p;
  char host[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto* sa = reinterpret_cast<const sockaddr_in*>(&ss);
    if (sa->sin_addr.s_addr != htonl(INADDR_ANY)) p.address = inet_ntop(AF_INET, &sa->sin_addr, host, sizeof host);
    p.port = ntohs(sa->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto* sa = reinterpret_cast<const sockaddr_in6*>(&ss);
    p.ipv6 = true;
    if (!IN6_IS_ADDR_UNSPECIFIED(&sa->sin6_addr)) p.address = inet_ntop(AF_INET6, &sa->sin6_addr, host, sizeof host);
    p.port = ntohs(sa->sin6_port);
  }
  return p;
}

// The addresses of a host:port or unix:/path target, in getaddrinfo's order.
Result<std::vector<SocketAddress>> resolve(const net::Target& target, bool passive, std::string_view what) {
  std::vector<SocketAddress> out;
  if (target.kind == net::Target::Kind::unix_socket) {
    SocketAddress a;
    auto* sun = reinterpret_cast<sockaddr_un*>(&a.addr);
    if (target.host.size() >= sizeof sun->sun_path)
      return usage_error(fmt::format("{} unix:{}: the socket path is too long (at most {} bytes)", what, target.host,
                                     sizeof sun->sun_path - 1));
    sun->sun_family = AF_UNIX;
    std::memcpy(sun->sun_path, target.host.data(), target.host.size());
    a.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + target.host.size() + 1);
    a.family = AF_UNIX;
    out.push_back(a);
    return out;
  }
  if (target.kind != net::Target::Kind::host_port)
    return usage_error(fmt::format("--tcp needs {} as host:port, [v6addr]:port or unix:/path, not '{}'", what,
                                   target.original));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = passive ? AI_PASSIVE : 0;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(target.host.empty() ? nullptr : target.host.c_str(), target.port.c_str(), &hints, &res);
  if (rc != 0)
    return local_error(fmt::format("cannot resolve {} '{}': {}", what, target.original,
                                   rc == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(rc)));
  for (addrinfo* p = res; p; p = p->ai_next) {
    SocketAddress a;
    std::memcpy(&a.addr, p->ai_addr, p->ai_addrlen);
    a.len = p->ai_addrlen;
    a.family = p->ai_family;
    out.push_back(a);
  }
  freeaddrinfo(res);
  if (out.empty()) return local_error(fmt::format("cannot resolve {} '{}': no addresses", what, target.original));
  return out;
}

// The proxy's own TCP sockets: no Nagle delay, and a congestion control that sends what arrives
// at once. Where the system default paces its sends (BBR), a relay that paces adds gaps the
// direct path does not have: with BBR on both sockets streaming through the proxy reached 0.77
// of direct, with CUBIC 0.87 (docs/performance.md). Left as it is where CUBIC is not allowed.
void tune_tcp(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  static constexpr std::string_view k_congestion = "cubic";
  ::setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, k_congestion.data(), static_cast<socklen_t>(k_congestion.size()));
}

// How a connection's sockets are closed.
enum class CloseHow {
  normal,  // both directions ended: plain close
  drain,   // ended by the proxy (close fault, stop, no upstream): read what is pending, then close,
           // so the peer gets a FIN rather than the RST a close with unread data sends
  reset,   // SO_LINGER {1, 0}: the peer gets an RST
};

}  // namespace

struct Conn;

// One socket of a connection and what epoll told us about it (edge-triggered, so we remember).
struct Endpoint {
  Conn* conn = nullptr;
  int fd = -1;
  bool readable = false;
  bool writable = false;
  bool hup = false;  // the peer's FIN or an error is pending: read until recv says so
};

struct Chunk {
  std::unique_ptr<char[]> data;
  size_t size = 0;
  size_t offset = 0;
  TcpTime release{};
};

// One direction of a connection.
struct Flow {
  bool up = true;  // client -> upstream
  Endpoint* src = nullptr;
  Endpoint* dst = nullptr;
  FlowFaults faults;
  bool shapes = false;
  std::optional<LatencyClock> latency;
  std::optional<TokenBucket> bucket;
  std::deque<Chunk> queue;
  size_t queued = 0;
  TcpTime next_write{};  // slice delay: no write before this
  uint64_t forwarded = 0;
  bool eof = false;   // the source ended its direction
  bool shut = false;  // ... and that end was passed on
  std::optional<TcpTime> shut_at;  // slow_close: when the end may be passed on

  // The no-fault path: when nothing shapes, holds or counts down this direction, bytes move
  // socket -> pipe -> socket with splice(2) and are never copied into user space.
  bool splices = false;
  int pipe_r = -1, pipe_w = -1;
  size_t in_pipe = 0;  // bytes read into the pipe and not written out yet

  Flow() = default;
  Flow(const Flow&) = delete;
  Flow& operator=(const Flow&) = delete;
  ~Flow() {
    if (pipe_r >= 0) ::close(pipe_r);
    if (pipe_w >= 0) ::close(pipe_w);
  }

  size_t limit() const { return latency ? k_latency_queue_limit : k_queue_limit; }
  bool done() const { return eof && queue.empty() && in_pipe == 0 && (shut || faults.blackhole); }
};

// blackhole: both directions black-holed from the start (the upstream is never connected);
// silent: blackhole,after=DUR fired (both sockets stay open, nothing passes either way).
enum class ConnState { connecting, open, blackhole, silent };

struct Conn {
  uint64_t id = 0;
  Endpoint client, upstream;
  Flow up, down;
  ConnState state = ConnState::connecting;
  ConnectionPlan plan;
  ConnectionFaults faults;
  size_t address_index = 0;
  TcpTime connect_deadline{};
  std::optional<TcpTime> close_at;
  std::optional<TcpTime> reset_at;      // reset,after=DUR
  std::optional<TcpTime> blackhole_at;  // blackhole,after=DUR
  TcpTime armed = TcpTime::max();  // the earliest timer pending for this connection
  bool again = false;              // queued for another turn
  bool dead = false;
};

class TcpLoop {
 public:
  TcpLoop(const TcpProxyOptions& options, std::vector<SocketAddress> upstream, int listen_fd,
          std::string unix_path)
      : m_upstream(std::move(upstream)),
        m_listen_fd(listen_fd),
        m_unix_path(std::move(unix_path)),
        m_connect_timeout(std::chrono::duration_cast<TcpClock::duration>(options.connect_timeout)),
        m_injector(
            InjectorOptions{options.faults, options.rules, false, options.max_active, ProxyMode::tcp},
            std::make_unique<SeededRandom>(options.seed)),
        m_scratch(new char[k_scratch_size]) {}

  ~TcpLoop() {
    stop();
    if (m_epoll >= 0) ::close(m_epoll);
    if (m_wake >= 0) ::close(m_wake);
    if (m_listen_fd >= 0) ::close(m_listen_fd);
    if (!m_unix_path.empty()) ::unlink(m_unix_path.c_str());
  }

  Result<void> start() {
    m_epoll = epoll_create1(EPOLL_CLOEXEC);
    m_wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (m_epoll < 0 || m_wake < 0) return local_error(fmt::format("cannot start the TCP proxy: {}", std::strerror(errno)));
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLET;
    ev.data.u64 = k_tag_listener;
    if (epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_listen_fd, &ev) != 0)
      return local_error(fmt::format("cannot start the TCP proxy: {}", std::strerror(errno)));
    ev.events = EPOLLIN;
    ev.data.u64 = k_tag_wake;
    if (epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_wake, &ev) != 0)
      return local_error(fmt::format("cannot start the TCP proxy: {}", std::strerror(errno)));
    m_thread = std::thread([this] { run(); });
    return {};
  }

  void stop() {
    if (!m_thread.joinable()) return;
    m_stopping = true;
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(m_wake, &one, sizeof one);
    m_thread.join();
  }

  CountersSnapshot counters() const { return m_injector.counters().snapshot(); }
  Injector& injector() { return m_injector; }

 private:
  struct Timer {
    TcpTime at;
    uint64_t id;
    bool operator>(const Timer& o) const { return at > o.at; }
  };

  void run() {
    std::vector<epoll_event> events(256);
    bool have_pwait2 = true;
    while (!m_stopping) {
      timespec ts{};
      const timespec* timeout = nullptr;
      int timeout_ms = -1;
      if (!m_again.empty() || m_accept_again) {
        timeout = &ts;
        timeout_ms = 0;
      } else if (!m_timers.empty()) {
        auto wait = std::max(TcpClock::duration::zero(), m_timers.top().at - TcpClock::now());
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
        ts.tv_sec = ns / 1'000'000'000;
        ts.tv_nsec = ns % 1'000'000'000;
        timeout = &ts;
        timeout_ms = static_cast<int>(std::min<int64_t>((ns + 999'999) / 1'000'000, 3'600'000));
      }
      int n;
      if (have_pwait2) {
        n = epoll_pwait2(m_epoll, events.data(), static_cast<int>(events.size()), timeout, nullptr);
        if (n < 0 && errno == ENOSYS) {  // kernels before 5.11: millisecond timeouts
          have_pwait2 = false;
          continue;
        }
      } else {
        n = epoll_wait(m_epoll, events.data(), static_cast<int>(events.size()), timeout_ms);
      }
      if (n < 0) continue;  // EINTR; nothing else can happen with a valid epoll fd
      m_now = TcpClock::now();
      for (int i = 0; i < n && !m_stopping; ++i) dispatch(events[i]);
      if (m_stopping) break;
      if (m_accept_again) accept_all();
      if (!m_again.empty()) {
        std::vector<uint64_t> again;
        again.swap(m_again);
        for (uint64_t id : again) {
          auto it = m_conns.find(id);
          if (it == m_conns.end()) continue;
          it->second->again = false;
          service(*it->second);
        }
      }
      run_timers();
      m_graveyard.clear();
    }
    m_now = TcpClock::now();
    while (!m_conns.empty()) kill(*m_conns.begin()->second, CloseHow::drain);
    m_graveyard.clear();
    ::close(m_listen_fd);
    m_listen_fd = -1;
  }

  void dispatch(const epoll_event& ev) {
    if (ev.data.u64 == k_tag_listener) {
      accept_all();
      return;
    }
    if (ev.data.u64 == k_tag_wake) {
      uint64_t v;
      [[maybe_unused]] auto r = ::read(m_wake, &v, sizeof v);
      return;
    }
    auto* ep = static_cast<Endpoint*>(ev.data.ptr);
    Conn& c = *ep->conn;
    if (c.dead) return;
    uint32_t e = ev.events;
    if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) ep->readable = true;
    if (e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) ep->hup = true;
    if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) ep->writable = true;
    if (c.state == ConnState::connecting && ep == &c.upstream) {
      if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) finish_connect(c);
      return;
    }
    service(c);
  }

  void run_timers() {
    if (m_timers.empty() || m_timers.top().at > m_now) return;
    std::vector<Timer> due;
    while (!m_timers.empty() && m_timers.top().at <= m_now) {
      due.push_back(m_timers.top());
      m_timers.pop();
    }
    for (const auto& t : due) {
      if (t.id == k_accept_timer) {
        m_accept_paused = false;
        accept_all();
        continue;
      }
      auto it = m_conns.find(t.id);
      if (it == m_conns.end()) continue;
      Conn& c = *it->second;
      if (c.armed == t.at) c.armed = TcpTime::max();
      service(c);
    }
  }

  void schedule(Conn& c, TcpTime at) {
    if (at >= c.armed) return;
    c.armed = at;
    m_timers.push(Timer{at, c.id});
  }

  void push_again(Conn& c) {
    if (c.again) return;
    c.again = true;
    m_again.push_back(c.id);
  }

  void accept_all() {
    if (m_accept_paused) return;
    m_accept_again = false;
    for (int i = 0; i < k_accepts_per_turn; ++i) {
      int fd = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) {
        new_connection(fd);
        continue;
      }
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      // Out of descriptors or memory: the pending connection stays in the backlog; try later
      // (edge-triggered, so nothing would wake us for it otherwise).
      m_accept_paused = true;
      m_timers.push(Timer{m_now + k_accept_retry, k_accept_timer});
      return;
    }
    m_accept_again = true;  // more may be waiting: another turn after the others had theirs
  }

  bool add_to_epoll(Endpoint& ep) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = &ep;
    return epoll_ctl(m_epoll, EPOLL_CTL_ADD, ep.fd, &ev) == 0;
  }

  void init_flow(Flow& f, bool up, Endpoint& src, Endpoint& dst, const FlowFaults& faults) {
    f.up = up;
    f.src = &src;
    f.dst = &dst;
    f.faults = faults;
    f.shapes = faults.shapes();
    if (faults.latency.count() > 0 || faults.jitter.count() > 0)
      f.latency.emplace(faults.latency, faults.jitter, faults.jitter_seed ^ (up ? 0x9e3779b97f4a7c15ULL : 0));
    if (faults.rate > 0) f.bucket.emplace(faults.rate, m_now);
  }

  void new_connection(int fd) {
    if (m_listen_family != AF_UNIX) tune_tcp(fd);
    auto owned = std::make_unique<Conn>();
    Conn& c = *owned;
    c.id = ++m_next_id;
    c.client.conn = c.upstream.conn = &c;
    c.client.fd = fd;
    c.plan = m_injector.plan_connection();
    c.faults = combine_tcp_faults(c.plan.actions);
    init_flow(c.up, true, c.client, c.upstream, c.faults.up);
    init_flow(c.down, false, c.upstream, c.client, c.faults.down);
    for (Flow* f : {&c.up, &c.down})
      f->splices = !f->shapes && !f->faults.blackhole && c.faults.resets.empty() && f->faults.slow_close.count() == 0;
    m_conns.emplace(c.id, std::move(owned));
    if (c.faults.reset_at_accept()) return kill(c, CloseHow::reset);
    if (c.faults.reset_after && c.faults.reset_after->count() == 0) return kill(c, CloseHow::reset);
    if (c.faults.close_after && c.faults.close_after->count() == 0) return kill(c, CloseHow::drain);
    if (!add_to_epoll(c.client)) return kill(c, CloseHow::reset);
    auto at = [&](Duration d) { return m_now + std::chrono::duration_cast<TcpClock::duration>(d); };
    if (c.faults.close_after) c.close_at = at(*c.faults.close_after);
    if (c.faults.reset_after) c.reset_at = at(*c.faults.reset_after);
    if (c.faults.blackhole_after) c.blackhole_at = at(*c.faults.blackhole_after);
    if (c.faults.blackhole_both()) {
      c.state = ConnState::blackhole;
    } else {
      c.connect_deadline = m_now + m_connect_timeout;
      if (!connect_next(c)) return;
    }
    service(c);
  }

  // Starts connecting to the upstream address at c.address_index, moving on to the next one when
  // an attempt fails at once. False when none is left (the connection is gone then).
  bool connect_next(Conn& c) {
    for (; c.address_index < m_upstream.size(); ++c.address_index) {
      const auto& a = m_upstream[c.address_index];
      int fd = ::socket(a.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) continue;
      if (a.family != AF_UNIX) tune_tcp(fd);
      c.upstream.fd = fd;
      c.upstream.readable = c.upstream.writable = c.upstream.hup = false;
      if (!add_to_epoll(c.upstream)) {
        ::close(fd);
        c.upstream.fd = -1;
        continue;
      }
      if (::connect(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len) == 0) {
        c.state = ConnState::open;
        c.upstream.writable = true;
        return true;
      }
      if (errno == EINPROGRESS) {
        c.state = ConnState::connecting;
        return true;
      }
      ::close(fd);
      c.upstream.fd = -1;
    }
    m_injector.counters().add_upstream_failure();
    kill(c, CloseHow::drain);
    return false;
  }

  void finish_connect(Conn& c) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(c.upstream.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err == 0) {
      c.state = ConnState::open;
      service(c);
      return;
    }
    ::close(c.upstream.fd);
    c.upstream.fd = -1;
    ++c.address_index;
    if (connect_next(c) && c.state == ConnState::open) service(c);
  }

  void service(Conn& c) {
    if (c.dead) return;
    if (c.close_at) {
      if (m_now >= *c.close_at) return kill(c, CloseHow::drain);
      schedule(c, *c.close_at);
    }
    if (c.reset_at) {
      if (m_now >= *c.reset_at) return kill(c, CloseHow::reset);
      schedule(c, *c.reset_at);
    }
    if (c.blackhole_at) {
      // Only an open connection goes silent; one still connecting is checked again once open.
      if (m_now >= *c.blackhole_at && c.state == ConnState::open) {
        c.blackhole_at.reset();
        c.state = ConnState::silent;
      } else if (m_now < *c.blackhole_at) {
        schedule(c, *c.blackhole_at);
      }
    }
    if (c.state == ConnState::connecting) {
      if (m_now >= c.connect_deadline) {
        m_injector.counters().add_upstream_failure();
        return kill(c, CloseHow::drain);
      }
      schedule(c, c.connect_deadline);
      return;
    }
    if (c.state == ConnState::blackhole) return swallow(c);
    if (c.state == ConnState::silent) return swallow_both(c);
    if (!pump(c, c.up) || !pump(c, c.down)) return;
    if (c.up.done() && c.down.done()) kill(c, CloseHow::normal);
  }

  // Both directions black-holed: read and forget what the client sends until it gives up.
  void swallow(Conn& c) {
    for (int i = 0; i < k_reads_per_turn && c.client.readable; ++i) {
      ssize_t n = ::recv(c.client.fd, m_scratch.get(), k_scratch_size, 0);
      if (n > 0) continue;
      if (n == 0) return kill(c, CloseHow::normal);
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        c.client.readable = false;
        return;
      }
      return kill(c, CloseHow::reset);
    }
    if (c.client.readable) push_again(c);
  }

  // blackhole,after=DUR fired: read and forget what either side sends and pass nothing on, not
  // even an end, keeping both connections open, as a middlebox that dropped the flow would. The
  // client giving up ends the connection; the upstream's end is swallowed like its bytes.
  void swallow_both(Conn& c) {
    for (Endpoint* ep : {&c.client, &c.upstream}) {
      for (int i = 0; ep->fd >= 0 && i < k_reads_per_turn && ep->readable; ++i) {
        ssize_t n = ::recv(ep->fd, m_scratch.get(), k_scratch_size, 0);
        if (n > 0) continue;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          ep->readable = false;
          break;
        }
        if (ep == &c.client) return kill(c, n == 0 ? CloseHow::normal : CloseHow::reset);
        close_endpoint(c.upstream, CloseHow::normal);
      }
      if (ep->fd >= 0 && ep->readable) push_again(c);
    }
  }

  // Passes the end of a direction on (shutdown(SHUT_WR)), or, under slow_close, schedules it.
  void pass_end(Conn& c, Flow& f) {
    if (f.faults.slow_close.count() > 0) {
      if (!f.shut_at) f.shut_at = m_now + std::chrono::duration_cast<TcpClock::duration>(f.faults.slow_close);
      if (m_now < *f.shut_at) return schedule(c, *f.shut_at);
    }
    ::shutdown(f.dst->fd, SHUT_WR);
    f.shut = true;
  }

  // Moves what it can of one direction: flushes the queue, reads more while there is room, and
  // passes the end on. False when the connection died on the way.
  bool pump(Conn& c, Flow& f) {
    if (f.splices) return pump_spliced(c, f);
    int turns = k_reads_per_turn;
    while (true) {
      if (!flush(c, f)) return false;
      if (f.eof || !f.src->readable || f.queued >= f.limit()) break;
      if (turns-- == 0) {
        push_again(c);
        break;
      }
      ssize_t n = ::recv(f.src->fd, m_scratch.get(), k_scratch_size, 0);
      if (n > 0) {
        // A short read took all there was; a new arrival brings a new edge (except for a FIN or
        // an error already reported, which `hup` keeps us reading for).
        if (static_cast<size_t>(n) < k_scratch_size && !f.src->hup) f.src->readable = false;
        if (f.faults.blackhole) continue;
        if (!f.shapes && f.queue.empty() && f.dst->writable) {
          if (!forward_now(c, f, static_cast<size_t>(n))) return false;
        } else {
          enqueue(f, m_scratch.get(), static_cast<size_t>(n));
        }
        continue;
      }
      ReadEnd end = end_of_read(c, f, n);
      if (end == ReadEnd::retry) continue;
      if (end == ReadEnd::dead) return false;
      break;
    }
    if (f.eof && f.queue.empty() && !f.shut && !f.faults.blackhole) pass_end(c, f);
    return true;
  }

  // pump() for a direction without faults: splice(2) from the source into the flow's pipe and
  // from the pipe into the destination. The source is read only into an empty pipe, so EAGAIN
  // from that read means the socket is drained (never that the pipe is full), which keeps the
  // edge-triggered bookkeeping exact. Falls back to copying when no pipe can be made.
  bool pump_spliced(Conn& c, Flow& f) {
    if (f.pipe_r < 0 && !open_pipe(f)) {
      f.splices = false;
      return pump(c, f);
    }
    int turns = k_reads_per_turn;
    while (true) {
      while (f.in_pipe > 0 && f.dst->writable) {
        ssize_t w = ::splice(f.pipe_r, nullptr, f.dst->fd, nullptr, f.in_pipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (w > 0) {
          f.in_pipe -= static_cast<size_t>(w);
          if (!account(c, f, static_cast<size_t>(w))) return false;
          continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          f.dst->writable = false;
          break;
        }
        kill(c, CloseHow::reset);  // the destination failed: pass it on
        return false;
      }
      if (f.in_pipe > 0 || f.eof || !f.src->readable) break;
      if (turns-- == 0) {
        push_again(c);
        break;
      }
      ssize_t n = ::splice(f.src->fd, nullptr, f.pipe_w, nullptr, k_pipe_size, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) {
        f.in_pipe += static_cast<size_t>(n);
        continue;
      }
      ReadEnd end = end_of_read(c, f, n);
      if (end == ReadEnd::retry) continue;
      if (end == ReadEnd::dead) return false;
      break;
    }
    if (f.eof && f.in_pipe == 0 && !f.shut) pass_end(c, f);
    return true;
  }

  enum class ReadEnd { retry, stop, dead };

  // What a read of the source that gave no bytes (`n` 0 or -1 with errno) means: the end of
  // its direction or a drained socket (stop reading), an interrupted call (retry), or a
  // failure, which resets the connection (dead).
  ReadEnd end_of_read(Conn& c, Flow& f, ssize_t n) {
    if (n == 0) {
      f.eof = true;
      f.src->readable = false;
      return ReadEnd::stop;
    }
    if (errno == EINTR) return ReadEnd::retry;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      f.src->readable = false;
      return ReadEnd::stop;
    }
    kill(c, CloseHow::reset);  // the source failed (an RST, most likely): pass it on
    return ReadEnd::dead;
  }

  static bool open_pipe(Flow& f) {
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return false;
    ::fcntl(fds[1], F_SETPIPE_SZ, k_pipe_size);
    f.pipe_r = fds[0];
    f.pipe_w = fds[1];
    return true;
  }

  // The fast path: no fault shapes this direction and nothing is queued, so the bytes just read
  // go straight out; what the destination does not take is queued.
  bool forward_now(Conn& c, Flow& f, size_t n) {
    size_t allowed = n;
    if (!c.faults.resets.empty())
      allowed = static_cast<size_t>(
          std::min<uint64_t>(allowed, c.faults.bytes_before_reset(f.up, c.up.forwarded, c.down.forwarded)));
    ssize_t w = ::send(f.dst->fd, m_scratch.get(), allowed, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        kill(c, CloseHow::reset);
        return false;
      }
      w = 0;
    }
    if (static_cast<size_t>(w) < allowed) f.dst->writable = false;
    if (static_cast<size_t>(w) < n) enqueue(f, m_scratch.get() + w, n - static_cast<size_t>(w));
    return w == 0 || account(c, f, static_cast<size_t>(w));
  }

  void enqueue(Flow& f, const char* data, size_t n) {
    Chunk ch;
    ch.data.reset(new char[n]);
    std::memcpy(ch.data.get(), data, n);
    ch.size = n;
    ch.release = f.latency ? f.latency->release_time(m_now) : m_now;
    f.queue.push_back(std::move(ch));
    f.queued += n;
  }

  // Writes queued bytes that are due, within the bandwidth and slice limits. False when the
  // connection died on the way.
  bool flush(Conn& c, Flow& f) {
    while (!f.queue.empty() && f.dst->writable) {
      Chunk& ch = f.queue.front();
      if (ch.release > m_now) {
        schedule(c, ch.release);
        break;
      }
      if (f.next_write > m_now) {
        schedule(c, f.next_write);
        break;
      }
      size_t len = ch.size - ch.offset;
      if (f.faults.slice_bytes > 0) len = std::min<size_t>(len, f.faults.slice_bytes);
      if (f.bucket) {
        uint64_t available = f.bucket->available(m_now);
        uint64_t wanted = std::min<uint64_t>(len, f.bucket->burst());
        if (available < wanted) {
          schedule(c, f.bucket->ready_at(wanted, m_now));
          break;
        }
        len = std::min<size_t>(len, available);
      }
      if (!c.faults.resets.empty())
        len = static_cast<size_t>(
            std::min<uint64_t>(len, c.faults.bytes_before_reset(f.up, c.up.forwarded, c.down.forwarded)));
      ssize_t w = ::send(f.dst->fd, ch.data.get() + ch.offset, len, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
          f.dst->writable = false;
          break;
        }
        kill(c, CloseHow::reset);
        return false;
      }
      if (f.bucket) f.bucket->consume(static_cast<uint64_t>(w));
      ch.offset += static_cast<size_t>(w);
      f.queued -= static_cast<size_t>(w);
      if (ch.offset == ch.size) f.queue.pop_front();
      if (w > 0 && !account(c, f, static_cast<size_t>(w))) return false;
      if (static_cast<size_t>(w) < len) {
        f.dst->writable = false;
        break;
      }
      if (f.faults.slice_bytes > 0 && f.faults.slice_delay.count() > 0)
        f.next_write = m_now + std::chrono::duration_cast<TcpClock::duration>(f.faults.slice_delay);
    }
    return true;
  }

  // Counts bytes written; resets the connection when a reset fault's byte count is reached (or
  // closes it, for a close,after=BYTES).
  bool account(Conn& c, Flow& f, size_t n) {
    f.forwarded += n;
    if (f.up)
      m_injector.counters().add_bytes_up(n);
    else
      m_injector.counters().add_bytes_down(n);
    if (!c.faults.resets.empty() && c.faults.bytes_before_reset(f.up, c.up.forwarded, c.down.forwarded) == 0) {
      kill(c, c.faults.limit_is_clean(c.up.forwarded, c.down.forwarded) ? CloseHow::drain : CloseHow::reset);
      return false;
    }
    return true;
  }

  void close_endpoint(Endpoint& ep, CloseHow how) {
    if (ep.fd < 0) return;
    if (how == CloseHow::reset) {
      linger l{1, 0};
      ::setsockopt(ep.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    } else if (how == CloseHow::drain) {
      for (int i = 0; i < 4 && ::recv(ep.fd, m_scratch.get(), k_scratch_size, 0) > 0; ++i) {
      }
    }
    ::close(ep.fd);
    ep.fd = -1;
  }

  // Closes a connection and frees it once the current batch of events is handled.
  void kill(Conn& c, CloseHow how) {
    if (c.dead) return;
    c.dead = true;
    close_endpoint(c.client, how);
    close_endpoint(c.upstream, how);
    m_injector.release(c.plan);
    m_injector.counters().connection_closed();
    auto it = m_conns.find(c.id);
    m_graveyard.push_back(std::move(it->second));
    m_conns.erase(it);
  }

  std::vector<SocketAddress> m_upstream;
  int m_listen_fd = -1;
  int m_listen_family = AF_UNSPEC;
  std::string m_unix_path;
  TcpClock::duration m_connect_timeout;
  Injector m_injector;
  std::unique_ptr<char[]> m_scratch;
  int m_epoll = -1;
  int m_wake = -1;
  std::thread m_thread;
  std::atomic<bool> m_stopping{false};

  // Owned by the loop thread.
  TcpTime m_now = TcpClock::now();
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> m_conns;
  std::vector<std::unique_ptr<Conn>> m_graveyard;  // killed during this batch of events
  std::vector<uint64_t> m_again;                   // connections that used up their turn
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> m_timers;
  uint64_t m_next_id = 0;
  bool m_accept_again = false;
  bool m_accept_paused = false;

 public:
  void set_listen_family(int family) { m_listen_family = family; }
};

TcpProxy::TcpProxy() = default;

TcpProxy::~TcpProxy() { stop(); }

void TcpProxy::stop() {
  if (m_loop) m_loop->stop();
  if (m_loss) m_loss->remove();
}

CountersSnapshot TcpProxy::counters() const { return m_loop->counters(); }

Injector& TcpProxy::injector() { return m_loop->injector(); }

Result<std::unique_ptr<TcpProxy>> TcpProxy::start(const TcpProxyOptions& options) {
  TRY(auto target, net::parse_target(options.target));
  TRY(auto upstream, resolve(target, false, "--target"));
  TRY(auto listen_target, net::parse_target(options.listen));
  TRY(auto listen_addrs, resolve(listen_target, true, "--listen"));

  int fd = -1;
  int last_errno = 0;
  SocketAddress bound;
  for (const auto& a : listen_addrs) {
    fd = ::socket(a.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last_errno = errno;
      continue;
    }
    int one = 1;
    if (a.family != AF_UNIX) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len) == 0 && ::listen(fd, 4096) == 0) {
      bound = a;
      break;
    }
    last_errno = errno;
    ::close(fd);
    fd = -1;
  }
  if (fd < 0)
    return local_error(fmt::format("cannot listen on {}: {}", options.listen, std::strerror(last_errno)));

  std::string address;
  LossPort port;
  if (bound.family == AF_UNIX) {
    address = "unix:" + listen_target.host;
  } else {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    address = format_address(ss);
    port = loss_port(ss);
  }
  std::unique_ptr<TcpProxy> proxy(new TcpProxy());
  proxy->m_loop = std::make_unique<TcpLoop>(options, std::move(upstream), fd,
                                            bound.family == AF_UNIX ? listen_target.host : std::string());
  proxy->m_loop->set_listen_family(bound.family);
  // The kernel's loss rules follow the fault set: made before the first connection is accepted,
  // changed with every change of the set (a change the rules cannot follow is refused), and
  // removed by stop(), or by the next proxy with loss when this one is killed.
  proxy->m_loss = std::make_shared<LossTable>(port);
  Injector& injector = proxy->m_loop->injector();
  TRY_VOID(proxy->m_loss->apply(*injector.fault_set()));
  injector.set_hook([loss = proxy->m_loss](const FaultSet& set) { return loss->apply(set); });
  TRY_VOID(proxy->m_loop->start());
  proxy->m_address = address;
  return proxy;
}

}  // namespace grpcdx::chaos
