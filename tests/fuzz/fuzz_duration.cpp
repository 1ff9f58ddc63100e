// Fuzzes parse_duration (--timeout, --connect-timeout, fault delays, ...): no crash, errors say
// which duration was bad, and whatever format_duration prints parses back to nearly the same.
#include <cstdint>

#include "core/duration.hpp"
#include "fuzz_util.hpp"

using namespace grpcdx;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = fuzz::as_text(data, size);
  auto d = parse_duration(text);
  if (!d) {
    FUZZ_CHECK(d.error().kind == ErrorKind::usage);
    FUZZ_CHECK(d.error().message.starts_with("invalid duration '"));
    return 0;
  }
  FUZZ_CHECK(d->count() >= 0);
  std::string printed = format_duration(*d);
  auto back = parse_duration(printed);
  FUZZ_CHECK(back.has_value());
  // format_duration keeps milliseconds above a second and 6 significant digits below; the
  // parser sums in double, whose step near the 9.2e18 ns limit is 1-2 us (a few steps allowed).
  auto diff = back->count() > d->count() ? back->count() - d->count() : d->count() - back->count();
  FUZZ_CHECK(diff <= 1'000'000 + 16'384);
  return 0;
}
