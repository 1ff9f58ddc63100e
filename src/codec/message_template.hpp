// An example request for a message type: every field set to a sample value, for
// `describe --msg-template` (grpcurl's -msg-template).
#pragma once

#include <string>

#include <google/protobuf/descriptor.h>

#include "core/error.hpp"

namespace grpcdx::codec {

// The message as indented protobuf JSON with every field present: scalars at their zero value,
// enums at their first value, a repeated field with one element, a map with one entry, nested
// messages filled in the same way. A message type already being filled (a recursive type) is
// left out the second time, so the template is finite. `proto_names` keeps the .proto field
// names. Fails (local) only if protobuf cannot print the message.
Result<std::string> message_template(const google::protobuf::Descriptor& type, bool proto_names = false);

}  // namespace grpcdx::codec
