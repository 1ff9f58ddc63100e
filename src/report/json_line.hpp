// One compact JSON value as a line of output; invalid UTF-8 from a peer is replaced, not thrown.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace grpcdx::report {

inline std::string json_line(const nlohmann::ordered_json& value) {
  return value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace grpcdx::report
