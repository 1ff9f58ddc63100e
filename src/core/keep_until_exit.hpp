// Objects a short command hands over instead of destroying: main() flushes and _exits, so the
// teardown of channels (which joins gRPC's threads) and descriptor pools never runs for nothing.
#pragma once

#include <memory>

namespace grpcdx {

// Keeps `object` alive until release_kept_objects() or the end of the process. Thread-safe.
void keep_until_exit(std::shared_ptr<const void> object);

// Destroys the kept objects, newest first. Sanitizer builds call it before returning from main
// so leak and use-after-free checks see every object torn down.
void release_kept_objects();

}  // namespace grpcdx
