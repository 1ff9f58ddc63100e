// Unit tests for describe --msg-template's example messages.
#include <doctest.h>

#include <nlohmann/json.hpp>

#include "codec/message_template.hpp"
#include "grpc/testing/messages.pb.h"

using grpcdx::codec::message_template;

TEST_CASE("codec::message_template fills every field") {
  auto text = message_template(*grpc::testing::SimpleRequest::descriptor());
  REQUIRE(text);
  auto j = nlohmann::json::parse(*text);
  CHECK(j["responseType"] == "COMPRESSABLE");  // the enum's first value
  CHECK(j["responseSize"] == 0);
  CHECK(j["fillUsername"] == false);
  CHECK(j["payload"]["body"] == "");
  CHECK(j["responseStatus"]["message"] == "");
  // Indented by two spaces, as call prints messages.
  CHECK(text->find("\n  \"responseType\"") != std::string::npos);
}

TEST_CASE("codec::message_template: repeated fields, maps, .proto names") {
  auto text = message_template(*grpc::testing::StreamingOutputCallRequest::descriptor(), true);
  REQUIRE(text);
  auto j = nlohmann::json::parse(*text);
  REQUIRE(j["response_parameters"].is_array());
  CHECK(j["response_parameters"].size() == 1);
  CHECK(j["response_parameters"][0]["interval_us"] == 0);

  auto with_map = message_template(*grpc::testing::LoadBalancerStatsResponse::descriptor());
  REQUIRE(with_map);
  auto m = nlohmann::json::parse(*with_map);
  CHECK(m["rpcsByPeer"].is_object());
  CHECK(m["rpcsByPeer"].size() == 1);
}
