// The client side of the chaos admin service, for `grpcdx chaos ctl`: one ChaosAdmin call and
// its answer, both as the protobuf message (for JSON) and as plain values (for text).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/message.h>

#include "chaos/plan.hpp"
#include "core/error.hpp"
#include "net/channel.hpp"

namespace grpcdx::chaos {

enum class AdminVerb { list, add, remove, clear, counters, reset_counters };

struct AdminRequest {
  net::ConnectionOptions conn;  // the admin address (plaintext); rpc_timeout bounds the call
  std::string token;            // sent as `authorization: Bearer TOKEN` when set
  AdminVerb verb = AdminVerb::list;
  std::string arg;              // add: the spec; remove: the id
};

struct AdminAnswer {
  std::unique_ptr<google::protobuf::Message> message;  // the RPC's response
  std::vector<FaultStatus> faults;                     // list: every fault; add: the new one
  std::string counters_json;                           // counters, reset_counters
};

// Makes the call `request` says. Fails with the RPC's status (status_error: NOT_FOUND for an
// unknown id, INVALID_ARGUMENT for a bad spec, UNAUTHENTICATED without the right token,
// UNAVAILABLE when nothing answers), or (local) when the channel cannot be made.
Result<AdminAnswer> call_admin(const AdminRequest& request);

}  // namespace grpcdx::chaos
