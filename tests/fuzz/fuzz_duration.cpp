// Fuzzes parse_duration (--timeout, --connect-timeout, fault delays, ...): no crash, errors say
// which duration was bad, and whatever format_duration prints parses back to exactly the same.
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
  // Both directions are exact to the nanosecond, up to int64's limit.
  FUZZ_CHECK(*back == *d);
  FUZZ_CHECK(format_duration(*back) == printed);
  return 0;
}
