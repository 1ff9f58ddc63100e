// Fuzzes parse_header (-H 'key: value'): no crash, accepted keys are legal, secrets are redacted
// when shown, and an error never echoes the value part of what it rejected.
#include <cstdint>

#include "fuzz_util.hpp"
#include "net/metadata.hpp"

using namespace grpcdx;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = fuzz::as_text(data, size);
  auto h = net::parse_header(text);
  if (!h) {
    FUZZ_CHECK(h.error().kind == ErrorKind::usage);
    FUZZ_CHECK(h.error().message.starts_with("invalid header"));
    // Whatever follows the key (after ':' or, without one, after white space) may be a secret.
    size_t sep = text.find(':');
    if (sep == std::string_view::npos) sep = text.find_first_of(" \t");
    // The echo is the quoted part before the message's explanation ("': expected ...").
    const std::string& message = h.error().message;
    std::string echoed = message.substr(0, message.rfind("': "));
    if (sep != std::string_view::npos) {
      // A value of a few characters that does not start with '.' (the echo ends in " ...").
      auto rest = text.substr(sep + 1);
      auto start = rest.find_first_not_of(" \t");
      bool has_value =
          start != std::string_view::npos && rest.size() - start >= 4 && rest[start] != '.';
      if (has_value) FUZZ_CHECK(echoed.find(text) == std::string::npos);
    }
    return 0;
  }
  FUZZ_CHECK(!h->key.empty());
  for (char c : h->key)
    FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
               c == '.');
  if (net::is_secret_key(h->key)) {
    FUZZ_CHECK(net::shown_value(h->key, h->value, false) == "<redacted>");
  } else {
    FUZZ_CHECK(net::shown_value(h->key, h->value, false) == h->value);
  }
  FUZZ_CHECK(net::shown_value(h->key, h->value, true) == h->value);
  return 0;
}
