// Unit tests for src/server/reflection_service: the served pool, lookups and answer mapping.
#include <doctest.h>

#include <google/protobuf/descriptor.pb.h>

#include "server/reflection_service.hpp"

using namespace grpcdx;
using namespace grpcdx::server;

namespace {

ReflectionCore make_core() {
  return ReflectionCore(&served_pool(), {"grpc.testing.TestService", "grpc.health.v1.Health"});
}

std::vector<std::string> file_names(const std::vector<std::string>& serialized) {
  std::vector<std::string> names;
  for (const auto& s : serialized) {
    google::protobuf::FileDescriptorProto proto;
    REQUIRE(proto.ParseFromString(s));
    names.push_back(proto.name());
  }
  return names;
}

}  // namespace

TEST_CASE("ReflectionCore lists the registered services sorted") {
  auto core = make_core();
  CHECK(core.list_services() == std::vector<std::string>{"grpc.health.v1.Health", "grpc.testing.TestService"});
}

TEST_CASE("ReflectionCore sends a file with its transitive dependencies, asked-for file first") {
  auto core = make_core();
  auto files = core.file_containing_symbol("grpc.testing.TestService");
  REQUIRE(files);
  auto names = file_names(*files);
  REQUIRE(names.size() == 3);
  CHECK(names[0] == "grpc/testing/test.proto");
  std::sort(names.begin() + 1, names.end());
  CHECK(names[1] == "grpc/testing/empty.proto");
  CHECK(names[2] == "grpc/testing/messages.proto");

  auto method = core.file_containing_symbol("grpc.testing.TestService.UnaryCall");
  REQUIRE(method);
  CHECK(file_names(*method)[0] == "grpc/testing/test.proto");

  auto message = core.file_by_filename("grpc/testing/messages.proto");
  REQUIRE(message);
  CHECK(file_names(*message) == std::vector<std::string>{"grpc/testing/messages.proto"});
}

TEST_CASE("ReflectionCore names what it could not find") {
  auto core = make_core();
  CHECK(core.file_containing_symbol("no.Such").error().message == "symbol not found: no.Such");
  CHECK(core.file_by_filename("no/such.proto").error().message == "file not found: no/such.proto");
  CHECK(core.extension_numbers("no.Such").error().message == "type not found: no.Such");
  CHECK(core.file_containing_extension("grpc.testing.SimpleRequest", 100).error().message ==
        "extension not found: grpc.testing.SimpleRequest field 100");
  auto numbers = core.extension_numbers("grpc.testing.SimpleRequest");
  REQUIRE(numbers);
  CHECK(numbers->empty());
}

TEST_CASE("served_pool holds the generated files and the embedded ones") {
  const auto& pool = served_pool();
  const auto* test = pool.FindServiceByName("grpc.testing.TestService");
  REQUIRE(test);
  CHECK(test->file()->name() == "grpc/testing/test.proto");
  REQUIRE(test->FindMethodByName("UnaryCall"));
  // The method's types are the generated ones: test.proto was built over the generated pool.
  CHECK(test->FindMethodByName("UnaryCall")->input_type() ==
        google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName("grpc.testing.SimpleRequest"));
  const auto* alpha = pool.FindServiceByName("grpc.reflection.v1alpha.ServerReflection");
  REQUIRE(alpha);
  CHECK(alpha->FindMethodByName("ServerReflectionInfo")->client_streaming());
  CHECK(pool.FindServiceByName("grpc.reflection.v1.ServerReflection"));
  CHECK(&served_pool() == &pool);
}

TEST_CASE("answer_reflection maps requests to responses") {
  auto core = make_core();
  grpc::reflection::v1::ServerReflectionRequest req;
  req.set_host("h");
  req.set_list_services("*");
  grpc::reflection::v1::ServerReflectionResponse resp;
  answer_reflection(core, req, &resp);
  CHECK(resp.valid_host() == "h");
  CHECK(resp.original_request().list_services() == "*");
  REQUIRE(resp.list_services_response().service_size() == 2);
  CHECK(resp.list_services_response().service(1).name() == "grpc.testing.TestService");

  grpc::reflection::v1::ServerReflectionRequest missing;
  missing.set_file_containing_symbol("no.Such");
  grpc::reflection::v1::ServerReflectionResponse missing_resp;
  answer_reflection(core, missing, &missing_resp);
  CHECK(missing_resp.error_response().error_code() == 5);
  CHECK(missing_resp.error_response().error_message() == "symbol not found: no.Such");

  grpc::reflection::v1::ServerReflectionRequest empty;
  grpc::reflection::v1::ServerReflectionResponse empty_resp;
  answer_reflection(core, empty, &empty_resp);
  CHECK(empty_resp.error_response().error_code() == 12);

  grpc::reflection::v1::ServerReflectionRequest ext;
  ext.set_all_extension_numbers_of_type("grpc.testing.SimpleRequest");
  grpc::reflection::v1::ServerReflectionResponse ext_resp;
  answer_reflection(core, ext, &ext_resp);
  CHECK(ext_resp.all_extension_numbers_response().base_type_name() == "grpc.testing.SimpleRequest");
  CHECK(ext_resp.all_extension_numbers_response().extension_number_size() == 0);
}
