// The step a command is running, for --max-time's error line.
#include "core/current_step.hpp"

#include <mutex>

namespace grpcdx {

namespace {

std::mutex g_mutex;
std::string g_step = "starting";

}  // namespace

void set_current_step(std::string_view step) {
  std::lock_guard lock(g_mutex);
  g_step.assign(step);
}

std::string current_step() {
  std::lock_guard lock(g_mutex);
  return g_step;
}

}  // namespace grpcdx
