// Unit tests for src/schema/reflection_source and reflection_client against the built-in server on
// loopback: both reflection versions, one request per file, files handed to the pool once and made
// again when asked again, and the symbol index built only when a lookup needs it.
#include <doctest.h>

#include <grpcpp/grpcpp.h>

#include "schema/reflection_client.hpp"
#include "schema/reflection_source.hpp"
#include "server/server.hpp"

using namespace grpcdx;
using namespace grpcdx::schema;

namespace gp = google::protobuf;

namespace {

struct Fixture {
  explicit Fixture(server::ServerOptions options = {}) {
    options.listen = "127.0.0.1:0";
    auto started = server::start_server(options);
    REQUIRE_MESSAGE(started, (started ? "" : started.error().message));
    running = std::move(*started);
    channel = grpc::CreateChannel(running->address(), grpc::InsecureChannelCredentials());
    conn.plaintext = true;
  }
  std::unique_ptr<server::RunningServer> running;
  std::shared_ptr<grpc::Channel> channel;
  net::ConnectionOptions conn;
};

std::string file_of(ReflectionDatabase& db, const std::string& symbol) {
  gp::FileDescriptorProto file;
  if (!db.FindFileContainingSymbol(symbol, &file)) return "(none)";
  return file.name();
}

}  // namespace

TEST_CASE("ReflectionSource lists the services over v1, and over v1alpha when v1 is missing") {
  for (bool v1 : {true, false}) {
    server::ServerOptions options;
    options.reflection_v1 = v1;
    Fixture f(options);
    ReflectionSource source(f.channel, f.conn);
    auto services = source.list_services();
    REQUIRE_MESSAGE(services, (services ? "" : services.error().message));
    CHECK(services->back() == "grpc.testing.TestService");
    CHECK(source.reflection_version() == (v1 ? "v1" : "v1alpha"));
    CHECK(source.reflection_requests() == (v1 ? 1 : 2));  // v1 answered UNIMPLEMENTED first
    auto method = source.find_method("grpc.testing.TestService/UnaryCall");
    REQUIRE_MESSAGE(method, (method ? "" : method.error().message));
    CHECK((*method)->input_type()->full_name() == "grpc.testing.SimpleRequest");
  }
}

TEST_CASE("ReflectionDatabase asks once per file and finds later symbols in what it received") {
  Fixture f;
  ReflectionClient client(f.channel, f.conn);
  ReflectionDatabase db(client);

  gp::FileDescriptorProto test;
  REQUIRE(db.FindFileContainingSymbol("grpc.testing.TestService", &test));
  CHECK(test.name() == "grpc/testing/test.proto");
  CHECK(test.service(0).name() == "TestService");
  CHECK(client.requests() == 1);

  // The dependencies came with it.
  gp::FileDescriptorProto messages;
  REQUIRE(db.FindFileByName("grpc/testing/messages.proto", &messages));
  CHECK(messages.message_type_size() > 10);

  // Every kind of name the index records, in files handed out already or not.
  CHECK(file_of(db, "grpc.testing.TestService.UnaryCall") == "grpc/testing/test.proto");
  CHECK(file_of(db, "grpc.testing.SimpleRequest") == "grpc/testing/messages.proto");
  CHECK(file_of(db, "grpc.testing.PayloadType") == "grpc/testing/messages.proto");
  CHECK(file_of(db, "grpc.testing.COMPRESSABLE") == "grpc/testing/messages.proto");  // enum value
  CHECK(file_of(db, "grpc.testing.LoadBalancerStatsResponse.RpcsByPeer") ==
        "grpc/testing/messages.proto");
  CHECK(file_of(db, "grpc.testing.ClientConfigureRequest.RpcType") ==
        "grpc/testing/messages.proto");
  CHECK(file_of(db, "grpc.testing.Empty") == "grpc/testing/empty.proto");
  CHECK(client.requests() == 1);

  // A file handed out before is made again, the same as the first time.
  gp::FileDescriptorProto again;
  REQUIRE(db.FindFileByName("grpc/testing/test.proto", &again));
  CHECK(again.SerializeAsString() == test.SerializeAsString());
  REQUIRE(db.FindFileByName("grpc/testing/messages.proto", &again));
  CHECK(again.SerializeAsString() == messages.SerializeAsString());

  // A name the server does not know costs one request, once.
  CHECK(file_of(db, "grpc.testing.NoSuchThing") == "(none)");
  CHECK(file_of(db, "grpc.testing.NoSuchThing") == "(none)");
  CHECK(client.requests() == 2);
  CHECK(!db.error());
}

TEST_CASE("ReflectionDatabase picks the file that defines the symbol among those of one answer") {
  Fixture f;
  ReflectionClient client(f.channel, f.conn);
  ReflectionDatabase db(client);
  // The server sends the file defining the symbol first; nested names and methods are found in it.
  CHECK(file_of(db, "grpc.testing.LoadBalancerStatsResponse.RpcsByPeer") ==
        "grpc/testing/messages.proto");
  CHECK(client.requests() == 1);
  ReflectionDatabase fresh(client);
  CHECK(file_of(fresh, "grpc.testing.TestService.StreamingOutputCall") ==
        "grpc/testing/test.proto");
  CHECK(client.requests() == 2);
}
