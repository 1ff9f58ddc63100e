// Unit tests for src/schema/file_source: .proto files and protosets, and the lookups on them.
#include <doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <google/protobuf/descriptor.pb.h>

#include "schema/file_source.hpp"

using namespace grpcdx;
using namespace grpcdx::schema;

namespace {

const std::string k_protos = std::string(GRPCDX_TESTDATA) + "/protos";

std::unique_ptr<SchemaSource> shop_from_protos() {
  auto source = open_proto_files({"shop/v1/shop.proto"}, {k_protos});
  REQUIRE_MESSAGE(source, (source ? "" : source.error().message));
  return std::move(*source);
}

// A scratch directory removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() / fmt::format("grpcdx-schema-test-{}-{}", getpid(), rand());
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

// Writes a protoset of the shop protos with protoc; `include_imports` as protoc's flag.
std::string make_shop_protoset(const TempDir& dir, bool include_imports) {
  std::string out = dir.file(include_imports ? "shop.protoset" : "shop-no-imports.protoset");
  std::string cmd = fmt::format("protoc -I'{}' --descriptor_set_out='{}' {} shop/v1/shop.proto shop/v1/common.proto",
                                k_protos, out, include_imports ? "--include_imports" : "");
  REQUIRE(std::system(cmd.c_str()) == 0);
  return out;
}

}  // namespace

TEST_CASE("proto files: services, methods, messages and enums are found") {
  auto source = shop_from_protos();
  auto services = source->list_services();
  REQUIRE(services);
  CHECK(*services == std::vector<std::string>{"shop.v1.ShopService"});
  CHECK(source->reflection_requests() == 0);
  CHECK(source->reflection_version().empty());

  auto service = source->find_service("shop.v1.ShopService");
  REQUIRE(service);
  CHECK((*service)->method_count() == 4);

  auto method = source->find_method("shop.v1.ShopService/ListItems");
  REQUIRE(method);
  CHECK((*method)->server_streaming());
  CHECK((*method)->input_type()->full_name() == "shop.v1.ListItemsRequest");
  // Well-known types come from /usr/include.
  CHECK((*source->find_method("shop.v1.ShopService.UploadItems"))->output_type()->full_name() ==
        "google.protobuf.Empty");

  auto message = source->find_symbol("shop.v1.Item.Variant");
  REQUIRE(message);
  CHECK(symbol_kind(*message) == "message");
  CHECK(symbol_name(*message) == "shop.v1.Item.Variant");
  auto nested_enum = source->find_symbol("shop.v1.Item.State");
  REQUIRE(nested_enum);
  CHECK(symbol_kind(*nested_enum) == "enum");
  auto imported = source->find_symbol("shop.v1.Currency");
  REQUIRE(imported);
  CHECK(symbol_kind(*imported) == "enum");
  CHECK(symbol_kind(*source->find_symbol("shop.v1.ShopService")) == "service");
  CHECK(symbol_kind(*source->find_symbol("shop.v1.ShopService.Chat")) == "method");
  CHECK(symbol_kind(*source->find_symbol("shop.v1.ShopService/Chat")) == "method");
  CHECK(symbol_kind(*source->find_symbol(".shop.v1.Money")) == "message");

  CHECK(source->find_symbol("shop.v1.Nope").error().message == "symbol 'shop.v1.Nope' not found");
  CHECK(source->find_symbol("shop.v1.Nope").error().kind == ErrorKind::local);
}

TEST_CASE("proto files: named by disk path without -I") {
  auto source = open_proto_files({k_protos + "/shop/v1/common.proto"}, {});
  REQUIRE(source);
  CHECK((*source)->find_symbol("shop.v1.Money"));
  CHECK((*source.value()->list_services()).empty());
}

TEST_CASE("proto files: a parse error names file, line and column") {
  auto source = open_proto_files({"bad/syntax_error.proto"}, {k_protos});
  REQUIRE(!source);
  CHECK(source.error().kind == ErrorKind::local);
  CHECK(source.error().message == k_protos + "/bad/syntax_error.proto:7:14: Missing field number.");
  CHECK(source.error().hint.empty());
}

TEST_CASE("proto files: a missing import is reported at the import statement") {
  auto source = open_proto_files({"bad/missing_import.proto"}, {k_protos});
  REQUIRE(!source);
  CHECK(source.error().kind == ErrorKind::local);
  CHECK(source.error().message == k_protos +
                                      "/bad/missing_import.proto:6:1: Import \"does/not/exist.proto\" was not "
                                      "found or had errors. (and 1 more error)");
  CHECK(source.error().hint == fmt::format("import paths searched: {}, /usr/include; add more with -I", k_protos));
}

TEST_CASE("proto files: a file that does not exist is named") {
  auto source = open_proto_files({"nope/missing.proto"}, {k_protos});
  REQUIRE(!source);
  CHECK(source.error().kind == ErrorKind::local);
  CHECK(source.error().message == "cannot find proto file 'nope/missing.proto'");

  auto by_path = open_proto_files({k_protos + "/nope.proto"}, {});
  REQUIRE(!by_path);
  CHECK(by_path.error().message == fmt::format("cannot find proto file '{}/nope.proto'", k_protos));
}

TEST_CASE("protoset: loaded, merged, and lookups work") {
  TempDir dir;
  auto path = make_shop_protoset(dir, true);
  auto source = open_protosets({path});
  REQUIRE_MESSAGE(source, (source ? "" : source.error().message));
  CHECK(*(*source)->list_services() == std::vector<std::string>{"shop.v1.ShopService"});
  CHECK((*source)->find_method("/shop.v1.ShopService/GetItem"));
  CHECK((*source)->find_symbol("google.protobuf.Timestamp"));

  // protoc writes every json_name into a protoset; only chosen ones should show in describe.
  auto request = (*source)->find_symbol("shop.v1.ListItemsRequest");
  REQUIRE(request);
  CHECK(std::get<const google::protobuf::Descriptor*>(*request)->DebugString() ==
        "message ListItemsRequest {\n  int32 page_size = 1;\n  optional string page_token = 2;\n}\n");

  // The same set twice merges.
  auto twice = open_protosets({path, path});
  REQUIRE(twice);
  CHECK((*twice)->find_symbol("shop.v1.Item"));
}

TEST_CASE("protoset: written without --include_imports, the well-known types are supplied") {
  TempDir dir;
  auto path = make_shop_protoset(dir, false);
  auto source = open_protosets({path});
  REQUIRE_MESSAGE(source, (source ? "" : source.error().message));
  auto method = (*source)->find_method("shop.v1.ShopService.UploadItems");
  REQUIRE(method);
  CHECK((*method)->output_type()->full_name() == "google.protobuf.Empty");
}

TEST_CASE("protoset: a missing dependency names the set and the file") {
  TempDir dir;
  std::string out = dir.file("only-shop.protoset");
  std::string cmd = fmt::format("protoc -I'{}' --descriptor_set_out='{}' shop/v1/shop.proto", k_protos, out);
  REQUIRE(std::system(cmd.c_str()) == 0);
  auto source = open_protosets({out});
  REQUIRE(!source);
  CHECK(source.error().kind == ErrorKind::local);
  CHECK(source.error().message ==
        fmt::format("protoset '{}': shop/v1/shop.proto: Import \"shop/v1/common.proto\" was not found or had "
                    "errors.",
                    out));
}

TEST_CASE("protoset: unreadable or not a FileDescriptorSet") {
  TempDir dir;
  auto missing = open_protosets({dir.file("nope.protoset")});
  REQUIRE(!missing);
  CHECK(missing.error().message == fmt::format("cannot read protoset '{}': No such file or directory",
                                               dir.file("nope.protoset")));

  write_file(dir.file("text.protoset"), "this is not a protoset\n");
  auto text = open_protosets({dir.file("text.protoset")});
  REQUIRE(!text);
  CHECK(text.error().message ==
        fmt::format("'{}' is not a protoset (a binary FileDescriptorSet)", dir.file("text.protoset")));
  CHECK(text.error().kind == ErrorKind::local);
}

TEST_CASE("protoset: two sets defining one file differently") {
  TempDir dir;
  google::protobuf::FileDescriptorSet a, b;
  auto* fa = a.add_file();
  fa->set_name("x.proto");
  fa->set_package("x");
  fa->add_message_type()->set_name("A");
  auto* fb = b.add_file();
  fb->set_name("x.proto");
  fb->set_package("x");
  fb->add_message_type()->set_name("B");
  write_file(dir.file("a.protoset"), a.SerializeAsString());
  write_file(dir.file("b.protoset"), b.SerializeAsString());
  auto source = open_protosets({dir.file("a.protoset"), dir.file("b.protoset")});
  REQUIRE(!source);
  CHECK(source.error().message == fmt::format("protosets '{}' and '{}' define 'x.proto' differently",
                                              dir.file("a.protoset"), dir.file("b.protoset")));
}
