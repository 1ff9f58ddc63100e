// Unit tests for src/schema/suggest: the closest names for "did you mean".
#include <doctest.h>

#include "schema/suggest.hpp"

using grpcdx::schema::closest_names;
using grpcdx::schema::did_you_mean;
using Names = std::vector<std::string>;

namespace {
const Names k_methods = {"grpc.testing.TestService/EmptyCall",     "grpc.testing.TestService/UnaryCall",
                         "grpc.testing.TestService/StreamingOutputCall", "grpc.testing.TestService/FullDuplexCall",
                         "grpc.testing.UnimplementedService/UnimplementedCall", "grpc.health.v1.Health/Check",
                         "grpc.health.v1.Health/Watch"};
}  // namespace

TEST_CASE("closest_names finds a typo in the method, the service or the package") {
  CHECK(closest_names("grpc.testing.TestService/UnaryCal", k_methods) == Names{"grpc.testing.TestService/UnaryCall"});
  CHECK(closest_names("grpc.testing.TestServic/UnaryCall", k_methods) == Names{"grpc.testing.TestService/UnaryCall"});
  CHECK(closest_names("grpc.testin.TestService/UnaryCall", k_methods) == Names{"grpc.testing.TestService/UnaryCall"});
  // A swap of two neighbours is one edit.
  CHECK(closest_names("grpc.testing.TestService/UnaryCalI", k_methods) == Names{"grpc.testing.TestService/UnaryCall"});
  CHECK(closest_names("grpc.testing.TestService/UnayrCall", k_methods) == Names{"grpc.testing.TestService/UnaryCall"});
}

TEST_CASE("closest_names ignores case, the separator and a missing package") {
  CHECK(closest_names("grpc.testing.testservice/unarycall", k_methods) == Names{"grpc.testing.TestService/UnaryCall"});
  CHECK(closest_names("grpc.testing.TestService.UnaryCall", k_methods) == Names{"grpc.testing.TestService/UnaryCall"});
  CHECK(closest_names("TestService/UnaryCall", k_methods) == Names{"grpc.testing.TestService/UnaryCall"});
  CHECK(closest_names("/grpc.health.v1.Health/check", k_methods) == Names{"grpc.health.v1.Health/Check"});
  CHECK(closest_names("testservice", {"grpc.testing.TestService", "grpc.health.v1.Health"}) ==
        Names{"grpc.testing.TestService"});
}

TEST_CASE("closest_names ranks by distance, keeps at most `limit` and finds nothing far off") {
  const Names known = {"pkg.Svc/Get", "pkg.Svc/Set", "pkg.Svc/Gets", "pkg.Svc/Delete"};
  CHECK(closest_names("pkg.Svc/Gte", known) == Names{"pkg.Svc/Get", "pkg.Svc/Gets", "pkg.Svc/Set"});
  CHECK(closest_names("pkg.Svc/Gte", known, 1) == Names{"pkg.Svc/Get"});
  CHECK(closest_names("foo.Bar/Baz", k_methods).empty());
  CHECK(closest_names("grpc.testing.TestService/Nope", k_methods).empty());
  CHECK(closest_names("", k_methods).empty());
  CHECK(closest_names("pkg.Svc/Get", {}).empty());
  // The name itself is known: nothing to suggest.
  CHECK(closest_names("pkg.Svc/Get", known).empty());
}

TEST_CASE("did_you_mean lists one, two or more names") {
  CHECK(did_you_mean({}) == "");
  CHECK(did_you_mean({"a.S/M"}) == "; did you mean a.S/M?");
  CHECK(did_you_mean({"a.S/M", "a.S/N"}) == "; did you mean a.S/M or a.S/N?");
  CHECK(did_you_mean({"a.S/M", "a.S/N", "a.S/O"}) == "; did you mean a.S/M, a.S/N or a.S/O?");
}
