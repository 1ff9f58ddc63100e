// Unit tests for src/schema/descriptor_repair: fixing descriptors other implementations send.
#include <doctest.h>

#include <google/protobuf/descriptor.h>

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
