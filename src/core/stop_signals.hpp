// SIGINT/SIGTERM as an event: long-running commands (watches, proxies, load runs) stop cleanly
// and print their summary instead of dying mid-line.
#pragma once

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

namespace grpcdx {

// While alive, SIGINT and SIGTERM are blocked in this thread and every thread started after it
// (create it before any gRPC channel or server), and a watcher thread calls `on_stop` once when
// one arrives. With `on_hangup`, SIGHUP is blocked too and calls it on the watcher thread each
// time one arrives (a proxy re-reads its rules); with Hangup::stops and no `on_hangup`, SIGHUP
// (the terminal closing) stops like the others, so what the program holds is cleaned up.
// Destroying it restores the previous signal mask.
class StopSignals {
 public:
  enum class Hangup { default_action, stops };

  explicit StopSignals(std::function<void(int signal)> on_stop, std::function<void()> on_hangup = {},
                       Hangup hangup = Hangup::default_action);
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // True once a stop signal has arrived.
  bool stopped() const { return m_stopped.load(); }
  // The signal that arrived (SIGINT, SIGTERM, or SIGHUP under Hangup::stops), or 0.
  int signal_number() const { return m_signal.load(); }

 private:
  std::function<void(int)> m_on_stop;
  std::function<void()> m_on_hangup;
  bool m_hangup_stops = false;
  sigset_t m_signals{};
  sigset_t m_old_mask{};
  std::atomic<bool> m_stopped{false};
  std::atomic<bool> m_quit{false};
  std::atomic<int> m_signal{0};
  std::thread m_watcher;
};

}  // namespace grpcdx
