// Fuzzes parse_rules (chaos --rules FILE): no crash, errors name the file, and every fault read
// from JSON has a canonical flag form that the flag parser accepts.
#include <cstdint>

#include "chaos/fault_spec.hpp"
#include "fuzz_util.hpp"

using namespace grpcdx;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = fuzz::as_text(data, size);
  for (auto mode : {chaos::ProxyMode::grpc, chaos::ProxyMode::tcp}) {
    auto rules = chaos::parse_rules(text, "rules.json", mode);
    if (!rules) {
      FUZZ_CHECK(rules.error().kind == ErrorKind::local || rules.error().kind == ErrorKind::usage);
      FUZZ_CHECK(rules.error().message.starts_with("rules.json"));
      continue;
    }
    for (const auto& spec : *rules) {
      FUZZ_CHECK(spec.pct >= 0 && spec.pct <= 100);
      // JSON may put a comma in a text value (an abort message, a glob); the flag form, which
      // splits on commas, cannot say that, so its text is then only a label.
      bool has_comma = false;
      for (const std::string* field :
           {&spec.message, &spec.method_glob, &spec.header_key, &spec.header_value_glob})
        has_comma = has_comma || field->find(',') != std::string::npos;
      if (has_comma) continue;
      auto flag = chaos::parse_fault_spec(spec.text, mode);
      if (!flag)
        std::fprintf(stderr, "flag form '%s': %s\n", spec.text.c_str(),
                     flag.error().message.c_str());
      FUZZ_CHECK(flag.has_value());
      FUZZ_CHECK(flag->kind == spec.kind);
    }
  }
  return 0;
}
