// Unit tests for src/schema/protoset_out: which files --protoset-out saves, and in what order.
#include <doctest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/text_format.h>

#include "schema/protoset_out.hpp"

using namespace grpcdx::schema;
namespace pb = google::protobuf;

namespace {

// a.proto (message A, enum E) <- b.proto (message B) <- c.proto (service S), c also importing a.
struct Pool {
  pb::DescriptorPool pool;
  Pool() {
    for (const char* text : {
             R"(name: "a.proto" package: "t" message_type { name: "A" } enum_type { name: "E" value { name: "E0" number: 0 } })",
             R"(name: "b.proto" package: "t" dependency: "a.proto"
                message_type { name: "B" field { name: "a" number: 1 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".t.A" } })",
             R"(name: "c.proto" package: "t" dependency: "a.proto" dependency: "b.proto"
                service { name: "S" method { name: "M" input_type: ".t.B" output_type: ".t.A" } })"}) {
      pb::FileDescriptorProto file;
      REQUIRE(pb::TextFormat::ParseFromString(text, &file));
      REQUIRE(pool.BuildFile(file));
    }
  }
  const pb::FileDescriptor* file(const char* name) const { return pool.FindFileByName(name); }
};

std::vector<std::string> names(const std::vector<const pb::FileDescriptor*>& files) {
  std::vector<std::string> out;
  for (const auto* f : files) out.push_back(f->name());
  return out;
}

}  // namespace

TEST_CASE("files_with_imports puts each file after its imports, once") {
  Pool p;
  const std::vector<std::string> all = {"a.proto", "b.proto", "c.proto"};
  CHECK(names(files_with_imports({p.file("c.proto")})) == all);
  // A file asked for twice, or also reached as an import, is still written once.
  CHECK(names(files_with_imports({p.file("b.proto"), p.file("c.proto"), p.file("c.proto")})) == all);
  CHECK(names(files_with_imports({p.file("b.proto")})) == std::vector<std::string>{"a.proto", "b.proto"});
  CHECK(files_with_imports({}).empty());
}

TEST_CASE("file_of names the defining file of each kind of symbol") {
  Pool p;
  const auto* service = p.pool.FindServiceByName("t.S");
  REQUIRE(service);
  CHECK(file_of(Symbol{service}) == p.file("c.proto"));
  CHECK(file_of(Symbol{service->FindMethodByName("M")}) == p.file("c.proto"));
  CHECK(file_of(Symbol{p.pool.FindMessageTypeByName("t.B")}) == p.file("b.proto"));
  CHECK(file_of(Symbol{p.pool.FindEnumTypeByName("t.E")}) == p.file("a.proto"));
}

TEST_CASE("write_protoset writes a FileDescriptorSet that parses back, or names the path it cannot write") {
  Pool p;
  std::string path = "/tmp/grpcdx-unit-" + std::to_string(::getpid()) + ".protoset";
  REQUIRE(write_protoset(path, {p.file("c.proto")}));
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  pb::FileDescriptorSet set;
  REQUIRE(set.ParseFromString(bytes.str()));
  REQUIRE(set.file_size() == 3);
  CHECK(set.file(2).name() == "c.proto");
  CHECK(set.file(2).service(0).method(0).input_type() == ".t.B");
  std::remove(path.c_str());
  auto failed = write_protoset("/nonexistent-dir/x.protoset", {p.file("a.proto")});
  REQUIRE(!failed);
  CHECK(failed.error().message == "cannot write --protoset-out '/nonexistent-dir/x.protoset': No such file or directory");
}
