// Objects a short command hands over instead of destroying: see keep_until_exit.hpp.
#include "core/keep_until_exit.hpp"

#include <mutex>
#include <vector>

namespace grpcdx {

namespace {

struct Kept {
  std::mutex mutex;
  std::vector<std::shared_ptr<const void>> objects;
};

// Never destroyed: the point is to skip the teardown at exit.
Kept& kept() {
  static Kept* k = new Kept;
  return *k;
}

}  // namespace

void keep_until_exit(std::shared_ptr<const void> object) {
  std::lock_guard lock(kept().mutex);
  kept().objects.push_back(std::move(object));
}

void release_kept_objects() {
  std::vector<std::shared_ptr<const void>> objects;
  {
    std::lock_guard lock(kept().mutex);
    objects.swap(kept().objects);
  }
  while (!objects.empty()) objects.pop_back();
}

}  // namespace grpcdx
