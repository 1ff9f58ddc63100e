// Fuzzes the decoding of a server's grpc-status-details-bin trailer (google.rpc.Status and its
// Any details) into JSON, with google.rpc's built-in types and a call schema holding every
// JSON-mapped field kind (tests/fuzz/fuzz.proto, Any included). Besides no crash: a malformed
// trailer has no details; every detail is an object whose "@type" is its type URL; an undecoded
// one carries its bytes as valid base64; every detail prints as JSON.
#include <cstdint>

#include "codec/status_details.hpp"
#include "core/base64.hpp"
#include "fuzz_util.hpp"

using namespace grpcdx;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const google::protobuf::DescriptorPool* schema = fuzz::everything_type()->file()->pool();
  for (const auto* pool : {schema, static_cast<const google::protobuf::DescriptorPool*>(nullptr)}) {
    codec::StatusDetails got = codec::decode_status_details(bytes, pool, {});
    FUZZ_CHECK(!got.malformed || got.details.empty());
    FUZZ_CHECK(!bytes.empty() || (!got.malformed && got.details.empty()));
    for (const auto& detail : got.details) {
      FUZZ_CHECK(detail.json.is_object());
      FUZZ_CHECK(detail.json.value("@type", std::string("\x01")) == detail.type_url);
      if (!detail.decoded) {
        FUZZ_CHECK(detail.json.size() == 2 && detail.json.value("value", nlohmann::ordered_json()).is_string());
        FUZZ_CHECK(base64_decode(detail.json.value("value", std::string())).has_value());
      }
      std::string printed = detail.json.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
      FUZZ_CHECK(!printed.empty() && printed.front() == '{');
    }
  }
  return 0;
}
