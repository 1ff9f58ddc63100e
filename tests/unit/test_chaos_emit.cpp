// Unit tests for src/chaos/emit: Istio and Envoy renderings and the notes on what is left out.
#include <doctest.h>

#include "chaos/emit.hpp"
#include "fault_spec_fixture.hpp"

using namespace grpcdx;
using namespace grpcdx::chaos;
using grpcdx::test::spec;

TEST_CASE("path_match") {
  CHECK(path_match("pkg.S/M") == std::pair<std::string, std::string>{"exact", "/pkg.S/M"});
  CHECK(path_match("pkg.S/*") == std::pair<std::string, std::string>{"prefix", "/pkg.S/"});
  CHECK(path_match("pkg.*/Get?") == std::pair<std::string, std::string>{"regex", "/pkg\\..*/Get."});
}

TEST_CASE("emit istio") {
  EmitOptions o;
  o.faults = {spec("abort=UNAVAILABLE,pct=30,method=pkg.S/*"), spec("delay=1500ms,header=x-env:canary,limit=2"),
              spec("stall,after=1")};
  o.host = "orders";
  auto e = emit_mesh_config(MeshFormat::istio, o);
  REQUIRE(e);
  CHECK(e->config.find("  - name: \"grpcdx-fault-0\"\n"
                       "    match:\n"
                       "    - uri:\n"
                       "        prefix: \"/pkg.S/\"\n"
                       "    fault:\n"
                       "      abort:\n"
                       "        grpcStatus: \"UNAVAILABLE\"\n"
                       "        percentage:\n"
                       "          value: 30\n") != std::string::npos);
  CHECK(e->config.find("    - headers:\n        \"x-env\":\n          exact: \"canary\"\n") != std::string::npos);
  CHECK(e->config.find("        fixedDelay: 1.500s\n") != std::string::npos);
  REQUIRE(e->notes.size() == 2);
  CHECK(e->notes[0] == "'delay=1500ms,header=x-env:canary,limit=2': limit=2 has no mesh equivalent; the fault is not capped");
  CHECK(e->notes[1] == "'stall,after=1' has no mesh equivalent: meshes cannot stop a stream part-way and keep it open; left out");
}

TEST_CASE("emit envoy") {
  EmitOptions o;
  o.faults = {spec("abort=14,pct=0.5")};
  o.max_active = 4;
  auto e = emit_mesh_config(MeshFormat::envoy, o);
  REQUIRE(e);
  CHECK(e->config.find("    abort:\n      grpc_status: 14\n      percentage:\n        numerator: 5000\n"
                       "        denominator: MILLION\n    max_active_faults: 4\n") != std::string::npos);
  CHECK(e->notes.empty());
}

TEST_CASE("emit: an abort's RetryInfo has no mesh equivalent, and says so") {
  EmitOptions o;
  o.faults = {spec("abort=RESOURCE_EXHAUSTED,retry_after=2s")};
  o.host = "orders";
  for (auto format : {MeshFormat::istio, MeshFormat::envoy}) {
    auto e = emit_mesh_config(format, o);
    REQUIRE(e);
    REQUIRE(e->notes.size() == 1);
    CHECK(e->notes[0] ==
          "'abort=RESOURCE_EXHAUSTED,retry_after=2s': retry_after has no mesh equivalent; the abort carries no RetryInfo");
  }
}

TEST_CASE("emit with nothing to emit") {
  EmitOptions o;
  o.faults = {spec("drop")};
  CHECK(emit_mesh_config(MeshFormat::istio, o).error().message ==
        "nothing to emit: only delay and abort faults have a mesh equivalent");
}
