// Test helper: a fault spec parsed from its flag form, failing the test case when it does not parse.
#pragma once

#include <doctest.h>

#include "chaos/fault_spec.hpp"

namespace grpcdx::test {

inline chaos::FaultSpec spec(const char* text, chaos::ProxyMode mode = chaos::ProxyMode::grpc) {
  auto s = chaos::parse_fault_spec(text, mode);
  REQUIRE(s);
  return *s;
}

inline chaos::FaultSpec tcp_spec(const char* text) { return spec(text, chaos::ProxyMode::tcp); }

}  // namespace grpcdx::test
