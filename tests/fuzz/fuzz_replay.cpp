// Fuzzes parse_replay (replay --in FILE) against a message type with every JSON-mapped field
// kind: no crash, errors name the file and line, and what parses is consistent.
#include <cstdint>

#include "codec/json_codec.hpp"
#include "fuzz_util.hpp"
#include "stream/replay_file.hpp"

using namespace grpcdx;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto* type = fuzz::everything_type();
  codec::MessageCodec codec({});
  auto text = fuzz::as_text(data, size);
  auto script = stream::parse_replay(text, "replay.jsonl", type, type, codec);
  if (!script) {
    FUZZ_CHECK(script.error().kind == ErrorKind::local);
    FUZZ_CHECK(script.error().message.starts_with("replay.jsonl:"));
    return 0;
  }
  FUZZ_CHECK(!script->sends.empty() || !script->recvs.empty() || script->status);
  int last = 0;
  for (const auto& s : script->sends) {
    FUZZ_CHECK(s.line > last && s.t_ms >= 0);
    last = s.line;
    auto back = codec.from_bytes(s.bytes, type);  // what replay sends is a valid message
    FUZZ_CHECK(back.has_value());
  }
  for (const auto& r : script->recvs) {
    FUZZ_CHECK(r.message && r.t_ms >= 0);
    (void)codec.to_json(*r.message);
  }
  if (script->status) FUZZ_CHECK(script->status->code >= 0 && script->status->code <= 16);
  return 0;
}
