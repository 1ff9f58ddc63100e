// Unit tests for src/schema/schema_source: the method name forms and the exact lookup errors,
// shared by every source (exercised here over a .proto source of grpc.testing).
#include <doctest.h>

#include "schema/file_source.hpp"
#include "schema/schema_source.hpp"

using namespace grpcdx;
using namespace grpcdx::schema;

namespace {

std::unique_ptr<SchemaSource> test_service() {
  auto source = open_proto_files({"grpc/testing/test.proto"}, {"/usr/share/grpc-proto"});
  REQUIRE_MESSAGE(source, (source ? "" : source.error().message));
  return std::move(*source);
}

}  // namespace

TEST_CASE("find_method accepts pkg.S/M, pkg.S.M and /pkg.S/M") {
  auto source = test_service();
  for (const char* name : {"grpc.testing.TestService/UnaryCall", "grpc.testing.TestService.UnaryCall",
                           "/grpc.testing.TestService/UnaryCall", ".grpc.testing.TestService.UnaryCall"}) {
    CAPTURE(name);
    auto method = source->find_method(name);
    REQUIRE(method);
    CHECK((*method)->full_name() == "grpc.testing.TestService.UnaryCall");
  }
}

TEST_CASE("find_method names what is missing") {
  auto source = test_service();
  auto no_method = source->find_method("grpc.testing.TestService/Nope");
  REQUIRE(!no_method);
  CHECK(no_method.error().kind == ErrorKind::local);
  CHECK(no_method.error().message == "method 'Nope' not found in service 'grpc.testing.TestService'");

  CHECK(source->find_method("foo.Bar/Baz").error().message == "service 'foo.Bar' not found");
  CHECK(source->find_method("foo.Bar.Baz").error().message == "service 'foo.Bar' not found");
  // A message is not a service.
  CHECK(source->find_method("grpc.testing.SimpleRequest/X").error().message ==
        "service 'grpc.testing.SimpleRequest' not found");

  for (const char* bad : {"Nope", "", "/", "pkg.S/", "/M", "pkg.S."}) {
    CAPTURE(bad);
    auto r = source->find_method(bad);
    REQUIRE(!r);
    CHECK(r.error().kind == ErrorKind::local);
    CHECK(r.error().message == std::string("invalid method name '") + bad + "'");
    CHECK(r.error().hint == "write it as pkg.Service/Method or pkg.Service.Method");
  }
}

TEST_CASE("find_service and find_symbol") {
  auto source = test_service();
  CHECK((*source->find_service("grpc.testing.TestService"))->full_name() == "grpc.testing.TestService");
  CHECK(source->find_service("foo.Bar").error().message == "service 'foo.Bar' not found");
  CHECK(source->find_service("").error().message == "empty service name");

  CHECK(symbol_kind(*source->find_symbol("grpc.testing.TestService")) == "service");
  CHECK(symbol_kind(*source->find_symbol("grpc.testing.TestService.EmptyCall")) == "method");
  CHECK(symbol_kind(*source->find_symbol("grpc.testing.SimpleRequest")) == "message");
  CHECK(symbol_kind(*source->find_symbol("grpc.testing.PayloadType")) == "enum");
  CHECK(symbol_name(*source->find_symbol("grpc.testing.TestService/EmptyCall")) ==
        "grpc.testing.TestService.EmptyCall");
  CHECK(source->find_symbol("grpc.testing.TestService/Nope").error().message ==
        "method 'Nope' not found in service 'grpc.testing.TestService'");
  CHECK(source->find_symbol("grpc.testing.Nope").error().message == "symbol 'grpc.testing.Nope' not found");
  // A field is none of the four kinds describe shows.
  CHECK(source->find_symbol("grpc.testing.SimpleRequest.response_size").error().message ==
        "symbol 'grpc.testing.SimpleRequest.response_size' not found");
}

TEST_CASE("open_schema chooses the source from the flags") {
  net::ConnectionOptions conn;
  SchemaOptions both;
  both.proto_files = {"a.proto"};
  both.protosets = {"b.protoset"};
  auto r = open_schema(both, nullptr, conn);
  REQUIRE(!r);
  CHECK(r.error().kind == ErrorKind::usage);
  CHECK(r.error().message == "use either --proto or --protoset, not both");

  SchemaOptions none;
  auto n = open_schema(none, nullptr, conn);
  REQUIRE(!n);
  CHECK(n.error().message == "no schema: no server connection and no --proto or --protoset");

  SchemaOptions protos;
  protos.proto_files = {"grpc/testing/test.proto"};
  protos.import_paths = {"/usr/share/grpc-proto"};
  auto p = connect_schema(protos, conn);  // files: never connects
  REQUIRE(p);
  CHECK((*p)->find_method("grpc.testing.TestService/UnaryCall"));
}
