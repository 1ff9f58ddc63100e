// The stop-signal watcher: blocked signals collected with sigtimedwait on one thread.
#include "core/stop_signals.hpp"

#include <pthread.h>

#include <ctime>

namespace grpcdx {

StopSignals::StopSignals(std::function<void(int)> on_stop, std::function<void()> on_hangup, Hangup hangup)
    : m_on_stop(std::move(on_stop)), m_on_hangup(std::move(on_hangup)), m_hangup_stops(!m_on_hangup && hangup == Hangup::stops) {
  sigemptyset(&m_signals);
  sigaddset(&m_signals, SIGINT);
  sigaddset(&m_signals, SIGTERM);
  if (m_on_hangup || m_hangup_stops) sigaddset(&m_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &m_signals, &m_old_mask);
  m_watcher = std::thread([this] {
    const timespec slice{0, 100'000'000};  // wake up now and then to notice destruction
    while (!m_quit.load()) {
      int got = sigtimedwait(&m_signals, nullptr, &slice);
      if (got == SIGHUP && m_on_hangup) m_on_hangup();
      if (got == SIGINT || got == SIGTERM || (got == SIGHUP && m_hangup_stops)) {
        m_signal = got;
        if (!m_stopped.exchange(true) && m_on_stop) m_on_stop(got);
      }
    }
  });
}

StopSignals::~StopSignals() {
  m_quit = true;
  m_watcher.join();
  pthread_sigmask(SIG_SETMASK, &m_old_mask, nullptr);
}

}  // namespace grpcdx
