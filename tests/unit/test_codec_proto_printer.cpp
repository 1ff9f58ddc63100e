// Unit tests for src/codec/proto_printer: .proto text of services, methods, messages, enums.
#include <doctest.h>

#include "codec/proto_printer.hpp"
#include "schema/file_source.hpp"

using namespace grpcdx;

namespace {

std::unique_ptr<schema::SchemaSource> shop() {
  auto source = schema::open_proto_files({"shop/v1/shop.proto"}, {std::string(GRPCDX_TESTDATA) + "/protos"});
  REQUIRE_MESSAGE(source, (source ? "" : source.error().message));
  return std::move(*source);
}

}  // namespace

TEST_CASE("strip_leading_dots removes the dot of type names only") {
  CHECK(codec::strip_leading_dots("  .pkg.Foo foo = 1;") == "  pkg.Foo foo = 1;");
  CHECK(codec::strip_leading_dots("rpc M(stream .a.B) returns (.a.C);") == "rpc M(stream a.B) returns (a.C);");
  CHECK(codec::strip_leading_dots("map<string, .a.V> m = 1;") == "map<string, a.V> m = 1;");
  CHECK(codec::strip_leading_dots("string s = 1 [default = \" .x\"];") == "string s = 1 [default = \" .x\"];");
  CHECK(codec::strip_leading_dots("// see .pkg.Foo\n.a.B") == "// see .pkg.Foo\na.B");
  CHECK(codec::strip_leading_dots("double d = 1 [default = 0.5];") == "double d = 1 [default = 0.5];");
}

TEST_CASE("print_method shows streaming and types without leading dots") {
  auto source = shop();
  CHECK(codec::print_method(**source->find_method("shop.v1.ShopService/Chat")) ==
        "rpc Chat(stream shop.v1.ChatMessage) returns (stream shop.v1.ChatMessage);\n");
  CHECK(codec::print_method(**source->find_method("shop.v1.ShopService/UploadItems")) ==
        "rpc UploadItems(stream shop.v1.Item) returns (google.protobuf.Empty);\n");
  CHECK(codec::print_method(**source->find_method("shop.v1.ShopService/ListItems")) ==
        "rpc ListItems(shop.v1.ListItemsRequest) returns (stream shop.v1.Item);\n");
}

TEST_CASE("print_service lists every method with its comments") {
  auto source = shop();
  CHECK(codec::print_service(**source->find_service("shop.v1.ShopService")) ==
        "// Sells items.\n"
        "service ShopService {\n"
        "  // Returns one item.\n"
        "  rpc GetItem(shop.v1.GetItemRequest) returns (shop.v1.Item);\n"
        "  rpc ListItems(shop.v1.ListItemsRequest) returns (stream shop.v1.Item);\n"
        "  rpc UploadItems(stream shop.v1.Item) returns (google.protobuf.Empty);\n"
        "  rpc Chat(stream shop.v1.ChatMessage) returns (stream shop.v1.ChatMessage);\n"
        "}\n");
}

TEST_CASE("print_message and print_enum") {
  auto source = shop();
  auto request = source->find_symbol("shop.v1.ListItemsRequest");
  REQUIRE(request);
  CHECK(codec::print_message(*std::get<const google::protobuf::Descriptor*>(*request)) ==
        "message ListItemsRequest {\n"
        "  int32 page_size = 1;\n"
        "  optional string page_token = 2;\n"
        "}\n");
  auto item = source->find_symbol("shop.v1.Item");
  REQUIRE(item);
  std::string text = codec::print_message(*std::get<const google::protobuf::Descriptor*>(*item));
  CHECK(text.find("  map<string, shop.v1.Money> prices_by_region = 5;\n") != std::string::npos);
  CHECK(text.find("  google.protobuf.Timestamp created = 6;\n") != std::string::npos);
  CHECK(text.find("  oneof discount {\n    int32 percent_off = 7;\n") != std::string::npos);
  CHECK(text.find("  message Variant {\n") != std::string::npos);
  auto currency = source->find_symbol("shop.v1.Currency");
  REQUIRE(currency);
  CHECK(codec::print_enum(*std::get<const google::protobuf::EnumDescriptor*>(*currency)) ==
        "// A currency, ISO 4217.\n"
        "enum Currency {\n"
        "  CURRENCY_UNSPECIFIED = 0;\n"
        "  CURRENCY_EUR = 1;\n"
        "  CURRENCY_USD = 2;\n"
        "}\n");
}
