// `grpcdx chaos --emit istio|envoy`: the delay and abort faults as an Istio VirtualService
// fault block or as Envoy HTTP fault filters, plus notes on what has no mesh equivalent.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chaos/fault_spec.hpp"
#include "core/error.hpp"

namespace grpcdx::chaos {

enum class MeshFormat { istio, envoy };

struct EmitOptions {
  std::vector<FaultSpec> faults;
  bool header_faults = false;
  std::optional<uint64_t> max_active;
  std::string host;  // the service host for Istio (from --target); empty: SERVICE_HOST
};

struct Emitted {
  std::string config;               // YAML, ends with a newline
  std::vector<std::string> notes;   // one line each: what was left out or approximated, and why
};

// Renders the faults. Fails (usage) when no fault has a mesh equivalent (only delay and abort
// do, and --header-faults for Envoy).
Result<Emitted> emit_mesh_config(MeshFormat format, const EmitOptions& options);

// Translates a method glob into the :path match: {"exact"|"prefix"|"regex", value}.
std::pair<std::string, std::string> path_match(const std::string& method_glob);

}  // namespace grpcdx::chaos
