// The rich error details a server may send with a failed call: the google.rpc.Status in the
// grpc-status-details-bin trailer, decoded into one JSON object per detail.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <nlohmann/json.hpp>

#include "codec/json_codec.hpp"
#include "core/duration.hpp"

namespace grpcdx::codec {

// One detail: an Any of the Status's list.
struct StatusDetail {
  std::string type_url;  // e.g. "type.googleapis.com/google.rpc.ErrorInfo"
  // protobuf's JSON mapping of the Any: {"@type": URL, fields...} ({"@type": URL, "value": ...}
  // for a well-known type), or {"@type": URL, "value": base64 of its bytes} when not decoded.
  nlohmann::ordered_json json;
  bool decoded = false;  // false: neither pool describes the type, or its bytes do not parse
};

struct StatusDetails {
  std::vector<StatusDetail> details;
  bool malformed = false;  // the trailer is not a google.rpc.Status at all
};

// Decodes grpc-status-details-bin (`bytes`; empty: no details). Detail types are looked up among
// google.rpc's standard ones (ErrorInfo, BadRequest, RetryInfo, ...; built in) and then in
// `call_pool` (the call's schema, may be null), so a server's own detail types print too.
// `options.pretty` is ignored: each detail is one compact object.
StatusDetails decode_status_details(std::string_view bytes, const google::protobuf::DescriptorPool* call_pool,
                                    JsonOptions options);

// A google.rpc.Status of `code` and `message` whose one detail is a google.rpc.RetryInfo of
// `retry_delay`: the bytes of grpc-status-details-bin for a server that tells clients when to retry.
std::string encode_retry_info_status(int code, std::string_view message, Duration retry_delay);

}  // namespace grpcdx::codec
