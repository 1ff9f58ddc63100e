// The standard gRPC interop cases (the client side), run against any server that implements
// grpc.testing.TestService.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <grpcpp/channel.h>

#include "core/duration.hpp"
#include "core/error.hpp"
#include "net/channel.hpp"

namespace grpcdx::interop {

struct CaseResult {
  std::string name;
  bool passed = false;
  double ms = 0;
  std::string error;  // why it failed: what was expected and what came back
};

// The case names in the order they run.
const std::vector<std::string>& case_names();

// Parses "a,b,c" into case names. Fails (usage) naming an unknown case and listing the known.
Result<std::vector<std::string>> parse_cases(std::string_view list);

// Runs one case over `channel`. `conn` supplies -H metadata and the deadline of each call
// (10s when none). Never fails: a failure is data in the result.
CaseResult run_case(const std::string& name, const std::shared_ptr<grpc::Channel>& channel,
                    const net::ConnectionOptions& conn);

}  // namespace grpcdx::interop
