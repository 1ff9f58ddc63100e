// Unit tests for src/schema/descriptor_repair: fixing descriptors other implementations send, and
// leaving protoc's alone.
#include <doctest.h>

#include <algorithm>
#include <fstream>
#include <map>

#include <google/protobuf/compiler/parser.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/text_format.h>

#include "schema/descriptor_repair.hpp"

using namespace grpcdx::schema;
namespace gp = google::protobuf;

TEST_CASE("repair_file drops duplicate and self imports and renumbers public ones") {
  gp::FileDescriptorProto file;
  file.set_name("a.proto");
  file.add_dependency("b.proto");
  file.add_dependency("a.proto");
  file.add_dependency("b.proto");
  file.add_dependency("c.proto");
  file.add_public_dependency(3);  // c.proto
  auto notes = repair_file(file);
  REQUIRE(file.dependency_size() == 2);
  CHECK(file.dependency(0) == "b.proto");
  CHECK(file.dependency(1) == "c.proto");
  REQUIRE(file.public_dependency_size() == 1);
  CHECK(file.public_dependency(0) == 1);
  CHECK(notes == std::vector<std::string>{"a.proto: dropped an import of the file itself",
                                          "a.proto: dropped a second import of \"b.proto\""});
}

TEST_CASE("repair_file adds the synthetic oneof of proto3 optional fields") {
  gp::FileDescriptorProto file;
  file.set_name("o.proto");
  file.set_package("p");
  file.set_syntax("proto3");
  auto* msg = file.add_message_type();
  msg->set_name("M");
  auto* real = msg->add_oneof_decl();
  real->set_name("choice");
  auto* a = msg->add_field();
  a->set_name("a");
  a->set_number(1);
  a->set_type(gp::FieldDescriptorProto::TYPE_STRING);
  a->set_label(gp::FieldDescriptorProto::LABEL_OPTIONAL);
  a->set_oneof_index(0);
  auto* b = msg->add_field();
  b->set_name("b");
  b->set_number(2);
  b->set_type(gp::FieldDescriptorProto::TYPE_INT32);
  b->set_label(gp::FieldDescriptorProto::LABEL_OPTIONAL);
  b->set_proto3_optional(true);  // as some implementations send it: no oneof_index

  // As sent, protobuf rejects it.
  {
    struct Quiet : gp::DescriptorPool::ErrorCollector {
      void AddError(const std::string&, const std::string&, const gp::Message*, ErrorLocation,
                    const std::string& message) override {
        first = first.empty() ? message : first;
      }
      std::string first;
    } errors;
    gp::DescriptorPool pool;
    CHECK(pool.BuildFileCollectingErrors(file, &errors) == nullptr);
    CHECK(errors.first == "Fields with proto3_optional set must be a member of a one-field oneof");
  }
  auto notes = repair_file(file);
  CHECK(notes == std::vector<std::string>{"o.proto: added the missing synthetic oneof of optional field p.M.b"});
  gp::DescriptorPool pool;
  const gp::FileDescriptor* built = pool.BuildFile(file);
  REQUIRE(built);
  const gp::FieldDescriptor* field = built->message_type(0)->FindFieldByName("b");
  REQUIRE(field->containing_oneof());
  CHECK(field->containing_oneof()->name() == "_b");
  CHECK(field->has_optional_keyword());
  // Nothing left to repair the second time.
  CHECK(repair_file(file).empty());
}

TEST_CASE("builtin_file supplies the well-known types only") {
  auto ts = builtin_file("google/protobuf/timestamp.proto");
  REQUIRE(ts);
  CHECK(ts->package() == "google.protobuf");
  CHECK(ts->message_type(0).name() == "Timestamp");
  CHECK(!builtin_file("shop/v1/shop.proto"));
  CHECK(!builtin_file("google/protobuf/nope.proto"));
}

TEST_CASE("drop_default_json_names keeps only json names a .proto chose") {
  CHECK(default_json_name("page_token") == "pageToken");
  CHECK(default_json_name("a__b_c") == "aBC");
  CHECK(default_json_name("already") == "already");
  gp::FileDescriptorProto file;
  auto* msg = file.add_message_type();
  auto* a = msg->add_field();
  a->set_name("page_token");
  a->set_json_name("pageToken");
  auto* b = msg->add_field();
  b->set_name("id");
  b->set_json_name("ID");
  auto* nested = msg->add_nested_type()->add_field();
  nested->set_name("x_y");
  nested->set_json_name("xY");
  drop_default_json_names(file);
  CHECK(!file.message_type(0).field(0).has_json_name());
  CHECK(file.message_type(0).field(1).json_name() == "ID");
  CHECK(!file.message_type(0).nested_type(0).field(0).has_json_name());
}

// --- what @grpc/proto-loader sends through @grpc/reflection --------------------------------

namespace {

// The first error protobuf reports building `file` (after `deps`) in a fresh pool; empty when it
// builds.
std::string build_error(const gp::FileDescriptorProto& file, const std::vector<gp::FileDescriptorProto>& deps = {}) {
  struct Collector : gp::DescriptorPool::ErrorCollector {
    void AddError(const std::string&, const std::string& element, const gp::Message*, ErrorLocation,
                  const std::string& message) override {
      if (first.empty()) first = element + ": " + message;
    }
    std::string first;
  } errors;
  gp::DescriptorPool pool;
  for (const auto& dep : deps) REQUIRE(pool.BuildFile(dep));
  pool.BuildFileCollectingErrors(file, &errors);
  return errors.first;
}

gp::FileDescriptorProto from_text(const std::string& text) {
  gp::FileDescriptorProto file;
  REQUIRE(gp::TextFormat::ParseFromString(text, &file));
  return file;
}

// `source` compiled as protoc writes it into a descriptor set: built, then copied out with
// fully-qualified type names and json_name on every field. `deps` are built first.
gp::FileDescriptorProto as_protoc_writes(const std::string& name, const std::string& source,
                                         gp::DescriptorPool& pool) {
  gp::io::ArrayInputStream input(source.data(), static_cast<int>(source.size()));
  gp::io::Tokenizer tokenizer(&input, nullptr);
  gp::compiler::Parser parser;
  gp::FileDescriptorProto parsed;
  REQUIRE(parser.Parse(&tokenizer, &parsed));
  parsed.set_name(name);
  const gp::FileDescriptor* built = pool.BuildFile(parsed);
  REQUIRE(built);
  gp::FileDescriptorProto out;
  built->CopyTo(&out);
  built->CopyJsonNameTo(&out);
  return out;
}

std::vector<std::string> repair_all(std::vector<gp::FileDescriptorProto>& files) {
  std::vector<std::string> notes;
  SymbolTable symbols;
  for (auto& file : files) {
    for (auto& note : repair_file(file)) notes.push_back(note);
    symbols.add(file);
  }
  for (auto& file : files)
    for (auto& note : repair_references(file, symbols)) notes.push_back(note);
  return notes;
}

}  // namespace

TEST_CASE("a descriptor set protoc wrote is left as it is") {
  gp::DescriptorPool pool;
  std::vector<gp::FileDescriptorProto> files;
  files.push_back(*builtin_file("google/protobuf/timestamp.proto"));
  REQUIRE(pool.BuildFile(files.back()));
  files.push_back(as_protoc_writes("base.proto", R"(
    syntax = "proto3";
    package shop.base;
    message Money { int64 units = 1; }
  )", pool));
  files.push_back(as_protoc_writes("reexport.proto", R"(
    syntax = "proto3";
    import public "base.proto";
  )", pool));
  files.push_back(as_protoc_writes("shop.proto", R"(
    syntax = "proto3";
    package shop.v1;
    import "google/protobuf/timestamp.proto";
    import "reexport.proto";
    enum Colour { COLOUR_UNSPECIFIED = 0; RED = 1; }
    message Item {
      message Dimensions { enum Unit { UNIT_UNSPECIFIED = 0; MM = 1; } Unit unit = 1; }
      map<string, string> labels = 1;
      map<int32, Dimensions> variants = 2;
      map<string, Colour> colour_by_region = 3;
      optional int64 stock = 4;
      oneof choice { string a = 5; int32 b = 6; }
      oneof _c { int32 c = 7; }
      google.protobuf.Timestamp updated = 8;
      shop.base.Money price = 9;
      string page_token = 10 [json_name = "pageTok"];
    }
    service Shop { rpc Get(Item) returns (Item); rpc Watch(stream Item) returns (stream Item); }
  )", pool));
  std::vector<std::string> before;
  for (const auto& file : files) before.push_back(file.SerializeAsString());
  CHECK(repair_all(files).empty());
  for (std::size_t i = 0; i < files.size(); ++i) CHECK(files[i].SerializeAsString() == before[i]);
}

TEST_CASE("repair_file gives proto-loader's map entries the names protobuf requires") {
  auto file = from_text(R"(
    name: "grpc_testing.proto" package: "grpc.testing" syntax: "proto3"
    message_type {
      name: "LoadBalancerStatsResponse"
      field { name: "rpcs_by_peer" number: 1 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: "Rpcs_by_peer" }
      field { name: "rpcs_by_method" number: 3 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: "Rpcs_by_method" }
      nested_type {
        name: "Rpcs_by_peer"
        field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
        field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_INT32 }
        options { map_entry: true }
      }
      nested_type {
        name: "Rpcs_by_method"
        field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
        field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: "LoadBalancerStatsResponse.RpcsByPeer" }
        options { map_entry: true }
      }
      nested_type {
        name: "RpcsByPeer"
        field { name: "rpcs_by_peer" number: 1 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: "Rpcs_by_peer" }
        nested_type {
          name: "Rpcs_by_peer"
          field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
          field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_INT32 }
          options { map_entry: true }
        }
      }
    }
  )");
  CHECK(build_error(file) == "grpc.testing.LoadBalancerStatsResponse.rpcs_by_peer: "
                             "map_entry should not be set explicitly. Use map<KeyType, ValueType> instead.");
  CHECK(repair_file(file) ==
        std::vector<std::string>{
            "grpc_testing.proto: renamed 3 map entry messages to the <Field>Entry names protobuf requires: "
            "grpc.testing.LoadBalancerStatsResponse.Rpcs_by_peer -> RpcsByPeerEntry, "
            "grpc.testing.LoadBalancerStatsResponse.Rpcs_by_method -> RpcsByMethodEntry, "
            "grpc.testing.LoadBalancerStatsResponse.RpcsByPeer.Rpcs_by_peer -> RpcsByPeerEntry"});
  const auto& message = file.message_type(0);
  CHECK(message.field(0).type_name() == ".grpc.testing.LoadBalancerStatsResponse.RpcsByPeerEntry");
  CHECK(message.field(1).type_name() == ".grpc.testing.LoadBalancerStatsResponse.RpcsByMethodEntry");
  CHECK(message.nested_type(2).field(0).type_name() ==
        ".grpc.testing.LoadBalancerStatsResponse.RpcsByPeer.RpcsByPeerEntry");
  CHECK(build_error(file).empty());
  gp::DescriptorPool pool;
  const gp::FileDescriptor* built = pool.BuildFile(file);
  REQUIRE(built);
  const gp::Descriptor* response = built->message_type(0);
  CHECK(response->FindFieldByName("rpcs_by_peer")->is_map());
  CHECK(response->FindFieldByName("rpcs_by_method")->message_type()->map_value()->message_type() ==
        response->FindNestedTypeByName("RpcsByPeer"));
  CHECK(repair_file(file).empty());
}

TEST_CASE("repair_file marks proto-loader's optional fields and puts their oneofs last") {
  auto file = from_text(R"(
    name: "peer_v1.proto" package: "peer.v1" syntax: "proto3"
    message_type {
      name: "Item"
      field { name: "stock" number: 6 label: LABEL_OPTIONAL type: TYPE_INT64 options {} oneof_index: 0 }
      field { name: "a" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING oneof_index: 1 }
      field { name: "c" number: 2 label: LABEL_OPTIONAL type: TYPE_INT32 oneof_index: 2 }
      oneof_decl { name: "_stock" }
      oneof_decl { name: "choice" }
      oneof_decl { name: "_c" }
    }
  )");
  CHECK(repair_file(file) == std::vector<std::string>{
                                 "peer_v1.proto: marked 1 field sent as a one-field oneof _<field> as proto3 "
                                 "optional: peer.v1.Item.stock"});
  const auto& message = file.message_type(0);
  // "c" had no empty options: a real oneof, as protoc would write `oneof _c { int32 c = 2; }`.
  REQUIRE(message.oneof_decl_size() == 3);
  CHECK(message.oneof_decl(0).name() == "choice");
  CHECK(message.oneof_decl(1).name() == "_c");
  CHECK(message.oneof_decl(2).name() == "_stock");
  CHECK(message.field(0).proto3_optional());
  CHECK(!message.field(0).has_options());
  CHECK(message.field(0).oneof_index() == 2);
  CHECK(message.field(1).oneof_index() == 0);
  CHECK(message.field(2).oneof_index() == 1);
  CHECK(!message.field(2).proto3_optional());
  gp::DescriptorPool pool;
  const gp::FileDescriptor* built = pool.BuildFile(file);
  REQUIRE(built);
  CHECK(built->message_type(0)->FindFieldByName("stock")->has_optional_keyword());
  CHECK(!built->message_type(0)->FindFieldByName("c")->has_optional_keyword());
}

TEST_CASE("repair_references qualifies relative type names as protoc does and adds missing imports") {
  auto wkt = from_text(R"(
    name: "google_protobuf.proto" package: "google.protobuf" syntax: "proto3"
    message_type { name: "Timestamp" field { name: "seconds" number: 1 label: LABEL_OPTIONAL type: TYPE_INT64 } }
  )");
  // Sent with no imports, every type name as the .proto spelled it.
  auto file = from_text(R"(
    name: "peer_v1.proto" package: "peer.v1" syntax: "proto3"
    enum_type { name: "Colour" value { name: "COLOUR_UNSPECIFIED" number: 0 } }
    message_type { name: "Dimensions" }
    message_type {
      name: "Item"
      field { name: "size" number: 1 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: "Dimensions" }
      field { name: "outer" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: "v1.Dimensions" }
      field { name: "colour" number: 3 label: LABEL_OPTIONAL type: TYPE_ENUM type_name: "Colour" }
      field { name: "full" number: 4 label: LABEL_OPTIONAL type: TYPE_ENUM type_name: "peer.v1.Colour" }
      field { name: "updated" number: 5 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: "google.protobuf.Timestamp" }
      field { name: "unit" number: 6 label: LABEL_OPTIONAL type: TYPE_ENUM type_name: "Dimensions.Unit" }
      nested_type {
        name: "Dimensions"
        enum_type { name: "Unit" value { name: "UNIT_UNSPECIFIED" number: 0 } }
      }
    }
    service {
      name: "Catalog"
      method { name: "Get" input_type: "Item" output_type: ".peer.v1.Item" }
    }
  )");
  // As sent, the pool resolves the relative names but cannot see the other file.
  CHECK(build_error(file, {wkt}) ==
        "peer.v1.Item.updated: \"google.protobuf.Timestamp\" seems to be defined in \"google_protobuf.proto\", which "
        "is not imported by \"peer_v1.proto\".  To use it here, please add the necessary import.");
  // What the pool makes of the relative names, given the import: the repair must agree.
  std::map<std::string, std::string> expected;
  {
    auto with_import = file;
    with_import.add_dependency("google_protobuf.proto");
    gp::DescriptorPool pool;
    REQUIRE(pool.BuildFile(wkt));
    const gp::FileDescriptor* built = pool.BuildFile(with_import);
    REQUIRE(built);
    const gp::Descriptor* item = built->FindMessageTypeByName("Item");
    for (int i = 0; i < item->field_count(); ++i) {
      const gp::FieldDescriptor* field = item->field(i);
      expected[field->name()] =
          "." + (field->message_type() ? field->message_type()->full_name() : field->enum_type()->full_name());
    }
  }
  std::vector<gp::FileDescriptorProto> files{wkt, file};
  CHECK(repair_all(files) ==
        std::vector<std::string>{"peer_v1.proto: made 7 relative type names fully qualified: "
                                 "Dimensions -> .peer.v1.Item.Dimensions, v1.Dimensions -> .peer.v1.Dimensions, "
                                 "Colour -> .peer.v1.Colour and 4 more",
                                 "peer_v1.proto: added the missing import of google_protobuf.proto"});
  const auto& repaired = files[1];
  for (const auto& field : repaired.message_type(1).field()) CHECK(field.type_name() == expected[field.name()]);
  CHECK(expected["size"] == ".peer.v1.Item.Dimensions");  // the inner scope first
  CHECK(expected["outer"] == ".peer.v1.Dimensions");
  CHECK(repaired.service(0).method(0).input_type() == ".peer.v1.Item");
  CHECK(repaired.dependency_size() == 1);
  CHECK(build_error(repaired, {files[0]}).empty());
  // Nothing left to repair the second time.
  CHECK(repair_all(files).empty());
}

TEST_CASE("repair_references leaves a name it cannot resolve for the pool to report") {
  auto file = from_text(R"(
    name: "a.proto" package: "p"
    message_type {
      name: "M"
      field { name: "x" number: 1 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: "M.Missing" }
      field { name: "y" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: "Nowhere" }
      field { name: "z" number: 3 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".q.Unknown" }
    }
  )");
  const std::string before = file.SerializeAsString();
  SymbolTable symbols;
  symbols.add(file);
  CHECK(repair_references(file, symbols).empty());
  CHECK(file.SerializeAsString() == before);
}

TEST_CASE("the descriptor set grpc-js's reflection sends for a proto-loader package definition builds once repaired") {
  const std::string path = std::string(GRPCDX_TESTDATA) + "/protosets/grpc_js_proto_loader.protoset";
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  gp::FileDescriptorSet set;
  REQUIRE(set.ParseFromIstream(&in));
  std::vector<gp::FileDescriptorProto> files(set.file().begin(), set.file().end());
  CHECK(build_error(files[0]) == "grpc.testing.LoadBalancerStatsResponse.rpcs_by_peer: "
                                 "map_entry should not be set explicitly. Use map<KeyType, ValueType> instead.");
  CHECK(!repair_all(files).empty());
  gp::DescriptorPool pool;
  // Dependencies first: the pool has no database to ask.
  for (const auto& name : {"google_protobuf.proto", "grpc_health_v1.proto", "grpc_testing.proto", "peer_v1.proto"}) {
    auto it = std::find_if(files.begin(), files.end(), [&](const auto& f) { return f.name() == name; });
    REQUIRE(it != files.end());
    INFO(name);
    CHECK(pool.BuildFile(*it));
  }
  const gp::Descriptor* item = pool.FindMessageTypeByName("peer.v1.Item");
  REQUIRE(item);
  CHECK(item->FindFieldByName("variants")->is_map());
  CHECK(item->FindFieldByName("stock")->has_optional_keyword());
  CHECK(item->FindFieldByName("updated")->message_type()->full_name() == "google.protobuf.Timestamp");
  CHECK(pool.FindMethodByName("grpc.testing.TestService.UnaryCall"));
  CHECK(repair_all(files).empty());
}
