// Unit tests for src/compat/compare: each rule on pools built from .proto text, with the exact
// words of its finding.
#include <doctest.h>

#include <memory>

#include <google/protobuf/compiler/parser.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "compat/compare.hpp"

using namespace grpcdx::compat;
namespace gp = google::protobuf;

namespace {

// A pool holding one file parsed from `text`, and its services.
struct Schema {
  gp::DescriptorPool pool;
  std::vector<const gp::ServiceDescriptor*> services;

  explicit Schema(const std::string& text) {
    gp::io::ArrayInputStream in(text.data(), static_cast<int>(text.size()));
    gp::io::Tokenizer tokenizer(&in, nullptr);
    gp::FileDescriptorProto proto;
    gp::compiler::Parser parser;
    REQUIRE(parser.Parse(&tokenizer, &proto));
    proto.set_name("test.proto");
    const gp::FileDescriptor* file = pool.BuildFile(proto);
    REQUIRE(file != nullptr);
    for (int i = 0; i < file->service_count(); ++i) services.push_back(file->service(i));
  }
};

Report check(const std::string& client, const std::string& server, bool json = false) {
  Schema c(client), s(server);
  return compare(c.services, s.services, {.json = json});
}

// A proto3 schema: a service whose Get takes Req and returns Resp, with the fields given.
std::string proto3(const std::string& req_fields, const std::string& resp_fields, const std::string& more = "") {
  return "syntax = \"proto3\"; package t;\n"
         "service S { rpc Get(Req) returns (Resp); }\n"
         "message Req { " + req_fields + " }\n"
         "message Resp { " + resp_fields + " }\n" + more;
}

const Finding& only(const Report& r) {
  REQUIRE(r.findings.size() == 1);
  return r.findings.front();
}

}  // namespace

TEST_CASE("compat::compare: the same schema has no findings, and everything reached is counted") {
  const std::string text = proto3("string id = 1; Inner inner = 2;", "repeated Inner items = 1; Kind kind = 2;",
                                  "message Inner { int32 n = 1; Inner next = 2; }\nenum Kind { K0 = 0; K1 = 1; }\n");
  Report r = check(text, text);
  CHECK(r.findings.empty());
  CHECK(r.checked.services == 1);
  CHECK(r.checked.methods == 1);
  CHECK(r.checked.messages == 3);
  CHECK(r.checked.enums == 1);
  CHECK(r.methods == std::vector<std::string>{"t.S/Get"});
  CHECK(r.compatible(true));
}

TEST_CASE("compat::compare: FIELD_WIRE_COMPATIBLE_TYPE, in the direction the message travels") {
  Report r = check(proto3("int32 count = 3;", ""), proto3("string count = 3;", ""));
  const Finding& f = only(r);
  CHECK(f.severity == Severity::error);
  CHECK(f.rule == "FIELD_WIRE_COMPATIBLE_TYPE");
  CHECK(f.symbol == "t.Req.count");
  CHECK(f.client == "int32");
  CHECK(f.server == "string");
  CHECK(f.message ==
        "the server reads field 3 (count) of t.Req as string; this client sends int32: the server drops the value "
        "(it arrives with a wire type the field does not take) and sees the field unset");
  CHECK(f.methods == std::vector<std::string>{"t.S/Get"});
  CHECK_FALSE(r.compatible(false));

  r = check(proto3("", "sint64 total = 1;"), proto3("", "int64 total = 1;"));
  CHECK(only(r).message ==
        "this client reads field 1 (total) of t.Resp as sint64; the server sends int64: this client misreads every "
        "value (zigzag and plain varints encode numbers differently)");
}

TEST_CASE("compat::compare: a message sent both ways is checked both ways") {
  const std::string more = "message Shared { bytes blob = 1; }\n";
  Report r = check(proto3("Shared s = 1;", "Shared s = 1;", more),
                   proto3("Shared s = 1;", "Shared s = 1;", "message Shared { string blob = 1; }\n"));
  const Finding& f = only(r);
  CHECK(f.severity == Severity::warning);
  CHECK(f.message ==
        "in requests, the server reads field 1 (blob) of t.Shared as string; this client sends bytes: the server "
        "fails to parse the message when the bytes are not valid UTF-8; in responses, this client reads field 1 "
        "(blob) of t.Shared as bytes; the server sends string: this client gets the text's UTF-8 bytes "
        "(wire-compatible this way; bytes sent as string must be valid UTF-8)");
}

TEST_CASE("compat::compare: interchangeable types are not reported on the wire; --json reports their JSON forms") {
  const std::string client = proto3("int32 count = 1; fixed32 f = 2; sint32 z = 3; repeated int32 p = 4;", "");
  const std::string server = proto3("uint64 count = 1; sfixed32 f = 2; sint64 z = 3; "
                                    "repeated int32 p = 4 [packed = false];", "");
  CHECK(check(client, server).findings.empty());
  Report r = check(client, server, true);
  REQUIRE(r.findings.size() == 2);
  CHECK(r.findings[0].rule == "FIELD_WIRE_JSON_COMPATIBLE_TYPE");
  CHECK(r.findings[0].severity == Severity::warning);
  CHECK(r.findings[0].message ==
        "in JSON, field 1 (count) of t.Req is a number (int32) on this client and a quoted integer (uint64) on the "
        "server: protobuf's JSON parsers accept integers quoted or not, but a 64-bit value does not fit a 32-bit "
        "field");
  CHECK(r.findings[1].symbol == "t.Req.z");
}

TEST_CASE("compat::compare: FIELD_NO_DELETE for a field either side lacks") {
  Report r = check(proto3("string id = 1; int32 count = 3;", "string id = 1;"),
                   proto3("string id = 1;", "string id = 1; double weight = 8;"));
  REQUIRE(r.findings.size() == 2);
  CHECK(r.findings[0].rule == "FIELD_NO_DELETE");
  CHECK(r.findings[0].severity == Severity::warning);
  CHECK(r.findings[0].symbol == "t.Req.count");
  CHECK(r.findings[0].client == "singular int32");
  CHECK(r.findings[0].server == "absent");
  CHECK(r.findings[0].message ==
        "this client sends field 3 (count) of t.Req; the server's t.Req has no field 3 and drops it");
  CHECK(r.findings[1].symbol == "t.Resp.weight");
  CHECK(r.findings[1].client == "absent");
  CHECK(r.findings[1].message ==
        "the server sends field 8 (weight) of t.Resp; this client's t.Resp has no field 8 and drops it");
  CHECK(r.compatible(false));
  CHECK_FALSE(r.compatible(true));

  r = check(proto3("", "string id = 1; string note = 2;"), proto3("string extra = 4;", "string id = 1;"));
  REQUIRE(r.findings.size() == 2);
  CHECK(r.findings[0].message ==
        "the server reads field 4 (extra) of t.Req; this client's t.Req has no field 4, so the server always sees it "
        "unset");
  CHECK(r.findings[1].message ==
        "this client reads field 2 (note) of t.Resp; the server's t.Resp has no field 2, so this client always sees "
        "it unset");
}

TEST_CASE("compat::compare: FIELD_SAME_CARDINALITY") {
  Report r = check(proto3("repeated int64 total = 6;", ""), proto3("int64 total = 6;", ""));
  const Finding& f = only(r);
  CHECK(f.severity == Severity::error);
  CHECK(f.client == "repeated");
  CHECK(f.server == "singular");
  CHECK(f.message ==
        "the server takes field 6 (total) of t.Req as one value; this client sends a list: the server keeps only the "
        "last element (a message merges them; packed numbers are dropped)");
  r = check(proto3("int64 total = 6;", ""), proto3("repeated int64 total = 6;", ""));
  CHECK(only(r).severity == Severity::warning);
  CHECK(only(r).message ==
        "the server takes field 6 (total) of t.Req as a list; this client sends one value: the server reads a list "
        "of one");
}

TEST_CASE("compat::compare: FIELD_SAME_ONEOF, ignoring proto3 optional's synthetic oneof") {
  Report r = check(proto3("oneof pay { string card = 4; string iban = 5; }", ""),
                   proto3("oneof pay { string card = 4; } string iban = 5;", ""));
  const Finding& f = only(r);
  CHECK(f.rule == "FIELD_SAME_ONEOF");
  CHECK(f.severity == Severity::warning);
  CHECK(f.client == "oneof pay");
  CHECK(f.server == "no oneof");
  CHECK(f.message ==
        "field 5 (iban) of t.Req is in oneof pay on this client and in no oneof on the server: when several fields "
        "of a reader's oneof arrive, it keeps only the last and drops the others");
  CHECK(check(proto3("optional string a = 1;", ""), proto3("string a = 1;", "")).findings.empty());
}

TEST_CASE("compat::compare: ENUM_VALUE_NO_DELETE, an error for a closed enum that drops the value") {
  const std::string open_v1 = proto3("", "Kind kind = 1;", "enum Kind { K0 = 0; K1 = 1; K2 = 2; }\n");
  const std::string open_v2 = proto3("", "Kind kind = 1;", "enum Kind { K0 = 0; K1 = 1; }\n");
  Report r = check(open_v2, open_v1);
  const Finding& f = only(r);
  CHECK(f.rule == "ENUM_VALUE_NO_DELETE");
  CHECK(f.severity == Severity::warning);
  CHECK(f.symbol == "t.Kind.K2");
  CHECK(f.client == "absent");
  CHECK(f.server == "K2 = 2");
  CHECK(f.message ==
        "the server may send K2 (2); this client's t.Kind has no value 2: this client keeps the number but has no "
        "name for it");
  CHECK(only(check(open_v1, open_v2)).message == "the server's t.Kind has no value 2 (K2), so the server never sends it");

  const std::string closed = "syntax = \"proto2\"; package t;\n"
                             "service S { rpc Get(Req) returns (Resp); }\n"
                             "message Req { optional Kind kind = 1; }\nmessage Resp {}\n";
  r = check(closed + "enum Kind { K0 = 0; K1 = 1; }\n", closed + "enum Kind { K0 = 0; }\n");
  CHECK(only(r).severity == Severity::error);
  CHECK(only(r).message ==
        "this client may send K1 (1); the server's t.Kind has no value 1 and, a closed proto2 enum, drops it: the "
        "server sees the field unset");
}

TEST_CASE("compat::compare: services, methods and streaming kinds") {
  const std::string base = "syntax = \"proto3\"; package t; message M {}\n";
  Report r = check(base + "service S { rpc A(M) returns (M); rpc B(M) returns (M); }\nservice Gone { rpc X(M) returns (M); }",
                   base + "service S { rpc A(M) returns (M); }");
  REQUIRE(r.findings.size() == 2);
  CHECK(r.findings[0].rule == "RPC_NO_DELETE");
  CHECK(r.findings[0].symbol == "t.S.B");
  CHECK(r.findings[0].message == "the server's t.S has no method B: calls to it fail with UNIMPLEMENTED");
  CHECK(r.findings[1].rule == "SERVICE_NO_DELETE");
  CHECK(r.findings[1].message == "the server has no service t.Gone: every call to its 1 method fails with UNIMPLEMENTED");
  CHECK(r.checked.services == 2);
  CHECK(r.checked.methods == 3);

  r = check(base + "service S { rpc A(stream M) returns (M); rpc B(M) returns (M); }",
            base + "service S { rpc A(M) returns (M); rpc B(M) returns (stream M); }");
  REQUIRE(r.findings.size() == 2);
  CHECK(r.findings[0].rule == "RPC_SAME_CLIENT_STREAMING");
  CHECK(r.findings[0].severity == Severity::error);
  CHECK(r.findings[0].message ==
        "this client streams requests to A; the server's A takes one request: a call that sends more than one fails");
  CHECK(r.findings[1].rule == "RPC_SAME_SERVER_STREAMING");
  CHECK(r.findings[1].severity == Severity::error);
  CHECK(r.findings[1].client == "unary");
  CHECK(r.findings[1].server == "streaming");

  r = check(base + "service S { rpc A(M) returns (stream M); }", base + "service S { rpc A(stream M) returns (M); }");
  REQUIRE(r.findings.size() == 2);
  CHECK(r.findings[0].severity == Severity::warning);
  CHECK(r.findings[0].message ==
        "this client sends one request to A; the server's A takes a stream of requests: it gets a stream of one");
  CHECK(r.findings[1].severity == Severity::warning);
}

TEST_CASE("compat::compare: a renamed request type is a warning; its contents are compared by structure") {
  Report r = check(proto3("int32 count = 3;", ""),
                   "syntax = \"proto3\"; package t;\nservice S { rpc Get(Fetch) returns (Resp); }\n"
                   "message Fetch { string count = 3; }\nmessage Resp {}\n");
  REQUIRE(r.findings.size() == 2);
  CHECK(r.findings[0].rule == "RPC_SAME_REQUEST_TYPE");
  CHECK(r.findings[0].severity == Severity::warning);
  CHECK(r.findings[0].message ==
        "this client sends t.Req as the request of Get and the server has t.Fetch: type names do not travel on the "
        "wire, so the two are compared field by field (buf breaking reports any change of request type)");
  CHECK(r.findings[1].rule == "FIELD_WIRE_COMPATIBLE_TYPE");
  CHECK(r.findings[1].message.starts_with("the server reads field 3 (count) of t.Req (the server's t.Fetch) as string"));
}

TEST_CASE("compat::compare: a renamed field type is compared field by field") {
  Report r = check(proto3("Item item = 1;", "", "message Item { int32 qty = 2; }\n"),
                   proto3("Line item = 1;", "", "message Line { int32 qty = 2; }\n"));
  const Finding& f = only(r);
  CHECK(f.rule == "FIELD_WIRE_COMPATIBLE_TYPE");
  CHECK(f.severity == Severity::warning);
  CHECK(f.client == "t.Item");
  CHECK(f.server == "t.Line");
  CHECK(f.message ==
        "field 1 (item) of t.Req is a t.Item on this client and a t.Line on the server: type names do not travel on "
        "the wire, so the two are compared field by field (buf breaking reports any change of type)");
  r = check(proto3("Item item = 1;", "", "message Item { int32 qty = 2; }\n"),
            proto3("Line item = 1;", "", "message Line { float qty = 2; }\n"));
  REQUIRE(r.findings.size() == 2);
  CHECK(r.findings[1].symbol == "t.Item.qty");
  CHECK(r.findings[1].severity == Severity::error);
}

TEST_CASE("compat::compare: proto2 required fields and defaults") {
  const std::string head = "syntax = \"proto2\"; package t;\nservice S { rpc Open(Req) returns (Resp); }\n"
                           "message Resp { optional string account = 1; }\n";
  Report r = check(head + "message Req { required string name = 1; }",
                   head + "message Req { required string name = 1; required string token = 3; }");
  REQUIRE(r.findings.size() == 2);
  CHECK(r.findings[0].rule == "FIELD_NO_DELETE");
  CHECK(r.findings[1].rule == "MESSAGE_SAME_REQUIRED_FIELDS");
  CHECK(r.findings[1].severity == Severity::error);
  CHECK(r.findings[1].message ==
        "the server requires field 3 (token) of t.Req; the other side does not have it and never sends it: the "
        "server fails to parse every t.Req it gets");

  r = check(head + "message Req { optional int32 limit = 2; }", head + "message Req { required int32 limit = 2; }");
  CHECK(only(r).rule == "MESSAGE_SAME_REQUIRED_FIELDS");
  CHECK(only(r).severity == Severity::error);
  CHECK(only(r).message ==
        "the server requires field 2 (limit) of t.Req; this client has it as optional and may leave it unset: the "
        "server then fails to parse the whole message");

  r = check(head + "message Req { optional int32 limit = 2 [default = 10]; }",
            head + "message Req { optional int32 limit = 2 [default = 20]; }");
  CHECK(only(r).rule == "FIELD_SAME_DEFAULT");
  CHECK(only(r).client == "default 10");
  CHECK(only(r).server == "default 20");
  CHECK(only(r).message ==
        "field 2 (limit) of t.Req has default 10 on this client and default 20 on the server: when it is not set, "
        "the two sides read different values");
}

TEST_CASE("compat::compare: --json adds names, json_name and enum value names") {
  const std::string more = "enum Kind { K0 = 0; OPEN = 1; }\n";
  const std::string client = proto3("string id = 1; string sku = 2;", "Kind kind = 1;", more);
  const std::string server = proto3("string order_id = 1; string sku = 2 [json_name = \"SKU\"];", "Kind kind = 1;",
                                    "enum Kind { K0 = 0; ACTIVE = 1; }\n");
  CHECK(check(client, server).findings.empty());
  Report r = check(client, server, true);
  REQUIRE(r.findings.size() == 4);
  CHECK(r.findings[0].rule == "FIELD_SAME_NAME");
  CHECK(r.findings[0].severity == Severity::warning);
  CHECK(r.findings[1].rule == "FIELD_SAME_JSON_NAME");
  CHECK(r.findings[1].client == "id");
  CHECK(r.findings[1].server == "orderId");
  CHECK(r.findings[2].rule == "FIELD_SAME_JSON_NAME");
  CHECK(r.findings[2].message ==
        "field 2 (sku) of t.Req is \"sku\" in this client's JSON and \"SKU\" in the server's: a JSON reader rejects "
        "the other side's name as an unknown field (or, told to ignore unknown fields, drops it)");
  CHECK(r.findings[3].rule == "ENUM_VALUE_SAME_NAME");
  CHECK(r.findings[3].severity == Severity::error);
  CHECK(r.findings[3].message ==
        "value 1 of t.Kind is OPEN on this client and ACTIVE on the server: JSON carries enum values by name, and a "
        "reader rejects a name it does not know");
}

TEST_CASE("compat::compare: each pair once, with every method that reaches it; recursion ends") {
  const std::string text = "syntax = \"proto3\"; package t;\n"
                           "service S { rpc A(Node) returns (Node); rpc B(Node) returns (Node); }\n";
  Report r = check(text + "message Node { repeated Node children = 1; int32 v = 2; }",
                   text + "message Node { repeated Node children = 1; string v = 2; }");
  const Finding& f = only(r);
  CHECK(f.methods == std::vector<std::string>{"t.S/A", "t.S/B"});
  CHECK(f.message.starts_with("in requests, the server reads field 2 (v) of t.Node as string"));
  CHECK(r.checked.messages == 1);
}
