// Fuzzes the JSON request bodies of -d (one or several JSON values) against a dynamic message
// type: no crash, the incremental splitter used for `-d @-` cuts the input exactly like the
// whole-input one whatever the chunk sizes, and every accepted message prints back as JSON.
#include <cstdint>

#include "codec/json_codec.hpp"
#include "fuzz_util.hpp"
#include "rpc/json_requests.hpp"

using namespace grpcdx;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // The first byte picks the options and the chunk size of the incremental split.
  const uint8_t control = data[0];
  auto text = fuzz::as_text(data + 1, size - 1);
  codec::JsonOptions options;
  options.allow_unknown_fields = control & 1;
  options.emit_defaults = control & 2;
  options.proto_names = control & 4;
  options.pretty = control & 8;
  const size_t chunk = 1 + (control >> 4);

  auto whole = codec::split_json_values(text, "-d");
  codec::JsonSplitter splitter;
  std::vector<std::string> pieces;
  for (size_t pos = 0; pos < text.size(); pos += chunk) {
    splitter.feed(text.substr(pos, chunk));
    while (auto v = splitter.next()) pieces.push_back(std::move(*v));
  }
  auto finished = splitter.finish("-d");
  FUZZ_CHECK(finished.has_value() == whole.has_value());
  if (whole) {
    FUZZ_CHECK(pieces == *whole);
  } else {
    FUZZ_CHECK(whole.error().message == finished.error().message);
  }

  const auto* type = fuzz::everything_type();
  codec::MessageCodec codec(options);
  auto encoded = rpc::encode_json_messages(text, "-d", type, codec);
  if (!encoded) {
    FUZZ_CHECK(encoded.error().kind == ErrorKind::local);
    return 0;
  }
  FUZZ_CHECK(whole && encoded->size() == whole->size());
  for (const auto& bytes : *encoded) {
    auto decoded = codec.decode(bytes, type);
    FUZZ_CHECK(decoded.has_value());
  }
  return 0;
}
