// Fuzzes parse_fault_spec (chaos --fault SPEC): no crash, values in range, and the canonical flag
// form (printed in chaos counters and --emit) parses back to the same canonical form.
#include <cstdint>

#include "chaos/fault_spec.hpp"
#include "fuzz_util.hpp"

using namespace grpcdx;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = fuzz::as_text(data, size);
  // The same text as an L7 fault and as a --tcp fault.
  for (auto mode : {chaos::ProxyMode::grpc, chaos::ProxyMode::tcp}) {
    auto spec = chaos::parse_fault_spec(text, mode);
    if (!spec) {
      FUZZ_CHECK(spec.error().kind == ErrorKind::usage);
      FUZZ_CHECK(!spec.error().message.empty());
      continue;
    }
    FUZZ_CHECK(spec->pct >= 0 && spec->pct <= 100);
    FUZZ_CHECK(spec->code >= 0 && spec->code <= 16);
    FUZZ_CHECK(spec->delay.count() >= 0 && spec->jitter.count() >= 0);
    std::string canonical = chaos::to_flag_form(*spec);
    auto again = chaos::parse_fault_spec(canonical, mode);
    if (!again)
      std::fprintf(stderr, "canonical form '%s': %s\n", canonical.c_str(),
                   again.error().message.c_str());
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(chaos::to_flag_form(*again) == canonical);
    FUZZ_CHECK(again->kind == spec->kind);
  }
  return 0;
}
