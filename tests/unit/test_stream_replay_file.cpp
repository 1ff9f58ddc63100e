// Unit tests for src/stream/replay_file: parsing replay files (with the exact error text naming
// the line) and writing them with mode 0600.
#include <doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "grpc/testing/messages.pb.h"
#include "stream/replay_file.hpp"

using namespace grpcdx;
using namespace grpcdx::stream;

namespace {

const google::protobuf::Descriptor* in_type() {
  return grpc::testing::StreamingOutputCallRequest::descriptor();
}
const google::protobuf::Descriptor* out_type() {
  return grpc::testing::StreamingOutputCallResponse::descriptor();
}

Result<ReplayScript> parse(const std::string& text) {
  static codec::MessageCodec codec({});  // the parsed messages' factory must outlive them
  return parse_replay(text, "replay.jsonl", in_type(), out_type(), codec);
}

std::string parse_error(const std::string& text) {
  auto r = parse(text);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == ErrorKind::local);
  return r.error().message;
}

}  // namespace

TEST_CASE("parse_replay reads sends, recvs and the status line") {
  auto script = parse(
      "{\"t_ms\": 0, \"dir\": \"send\", \"message\": {\"responseParameters\": [{\"size\": 2}]}}\n"
      "\n"
      "{\"t_ms\": 1.5, \"dir\": \"recv\", \"message\": {\"payload\": {\"body\": \"AAA=\"}}}\n"
      "{\"t_ms\": 2, \"dir\": \"status\", \"code\": 0, \"message\": \"\"}\n");
  REQUIRE(script);
  REQUIRE(script->sends.size() == 1);
  CHECK(script->sends[0].line == 1);
  grpc::testing::StreamingOutputCallRequest req;
  REQUIRE(req.ParseFromString(script->sends[0].bytes));
  CHECK(req.response_parameters(0).size() == 2);
  REQUIRE(script->recvs.size() == 1);
  CHECK(script->recvs[0].line == 3);
  CHECK(script->recvs[0].t_ms == 1.5);
  REQUIRE(script->status);
  CHECK(script->status->code == 0);
  CHECK(script->status->line == 4);
}

TEST_CASE("parse_replay names the bad line") {
  CHECK(parse_error("{\"t_ms\":0,\"dir\":\"send\",\"message\":{}}\n{\"t_ms\":1,\"dir\":\"recv\","
                    "\"message\":{}}\n"
                    "{\"t_ms\":2,\"dir\":\"sideways\",\"message\":{}}\n") ==
        "replay.jsonl:3: unknown dir 'sideways' (use send, recv or status)");
  CHECK(parse_error("not json\n") ==
        "replay.jsonl:1: not JSON (each line must be one JSON object)");
  CHECK(parse_error("[1, 2]\n") == "replay.jsonl:1: expected a JSON object, got array");
  CHECK(parse_error("{\"t_ms\":0,\"message\":{}}") ==
        "replay.jsonl:1: missing \"dir\" (use send, recv or status)");
  CHECK(parse_error("{\"dir\":\"send\",\"message\":{}}") == "replay.jsonl:1: missing \"t_ms\"");
  CHECK(parse_error("{\"t_ms\":-1,\"dir\":\"send\",\"message\":{}}") ==
        "replay.jsonl:1: \"t_ms\" must not be negative, got -1");
  CHECK(parse_error("{\"t_ms\":0,\"dir\":\"send\"}") ==
        "replay.jsonl:1: a send line needs \"message\"");
  CHECK(parse_error("{\"dir\":\"status\",\"code\":\"OK\"}") ==
        "replay.jsonl:1: a status line needs \"code\": a status number 0-16");
  CHECK(parse_error(
            "{\"dir\":\"status\",\"code\":0}\n{\"t_ms\":0,\"dir\":\"send\",\"message\":{}}") ==
        "replay.jsonl:2: nothing may follow the status line (line 1)");
}

TEST_CASE("parse_replay rejects a message that does not fit the method's type") {
  std::string message =
      parse_error("{\"t_ms\":0,\"dir\":\"send\",\"message\":{\"noSuchField\":1}}");
  CHECK(message.starts_with(
      "replay.jsonl:1: message does not fit grpc.testing.StreamingOutputCallRequest: "));
  message = parse_error("{\"t_ms\":0,\"dir\":\"recv\",\"message\":{\"payload\":{\"body\":12}}}");
  CHECK(message.starts_with(
      "replay.jsonl:1: message does not fit grpc.testing.StreamingOutputCallResponse: "));
}

TEST_CASE("parse_replay rejects an empty file") {
  CHECK(parse_error("") == "replay.jsonl: empty replay file (no send, recv or status lines)");
  CHECK(parse_error("\n  \n") == "replay.jsonl: empty replay file (no send, recv or status lines)");
}

TEST_CASE("ReplayRecorder writes lines a parser reads back, in a file of mode 0600") {
  char dir_template[] = "/tmp/grpcdx-unit-XXXXXX";
  REQUIRE(::mkdtemp(dir_template));
  std::string path = std::string(dir_template) + "/rec.jsonl";
  {
    std::ofstream existing(path);  // an existing file with a wider mode is narrowed
    existing << "old\n";
  }
  ::chmod(path.c_str(), 0644);
  auto recorder = ReplayRecorder::open(path);
  REQUIRE(recorder);
  (*recorder)->send(0, R"({"responseParameters":[{"size":1}]})");
  (*recorder)->recv(12.3456, R"({"payload":{"body":"AA=="}})");
  (*recorder)->status(13, 0, "fine \"quoted\"");
  REQUIRE((*recorder)->close());
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  CHECK(text.str() ==
        "{\"t_ms\":0,\"dir\":\"send\",\"message\":{\"responseParameters\":[{\"size\":1}]}}\n"
        "{\"t_ms\":12.346,\"dir\":\"recv\",\"message\":{\"payload\":{\"body\":\"AA==\"}}}\n"
        "{\"t_ms\":13,\"dir\":\"status\",\"code\":0,\"message\":\"fine \\\"quoted\\\"\"}\n");
  auto script = parse(text.str());
  REQUIRE(script);
  CHECK(script->sends.size() == 1);
  CHECK(script->recvs.size() == 1);
  CHECK(script->status->message == "fine \"quoted\"");
  ::unlink(path.c_str());
  ::rmdir(dir_template);
}

TEST_CASE("ReplayRecorder::open names the file it cannot create") {
  auto r = ReplayRecorder::open("/nonexistent-dir/rec.jsonl");
  REQUIRE_FALSE(r);
  CHECK(r.error().message ==
        "cannot create record file '/nonexistent-dir/rec.jsonl': No such file or directory");
}

TEST_CASE("parse_replay reads recorded metadata, headers and trailers") {
  auto script = parse(
      "{\"t_ms\":0,\"dir\":\"metadata\",\"metadata\":{\"authorization\":[\"<redacted>\"],"
      "\"x-trace\":[\"1\",\"2\"]}}\n"
      "{\"t_ms\":0,\"dir\":\"send\",\"message\":{}}\n"
      "{\"t_ms\":1,\"dir\":\"headers\",\"metadata\":{\"server\":[\"x\"]}}\n"
      "{\"t_ms\":2,\"dir\":\"status\",\"code\":0,\"trailers\":{\"k\":[\"v\"]}}\n");
  REQUIRE(script);
  REQUIRE(script->request_metadata.size() == 3);
  CHECK(script->request_metadata[0].key == "authorization");
  CHECK(script->request_metadata[2].value == "2");
  REQUIRE(script->headers.size() == 1);
  CHECK(script->headers[0].value == "x");
  REQUIRE(script->status);
  REQUIRE(script->status->trailers.size() == 1);
  CHECK(script->sends.size() == 1);

  CHECK(parse_error("{\"t_ms\":0,\"dir\":\"metadata\"}") ==
        "replay.jsonl:1: a metadata line needs \"metadata\"");
  CHECK(parse_error("{\"t_ms\":0,\"dir\":\"headers\",\"metadata\":[1]}") ==
        "replay.jsonl:1: \"metadata\" must be an object of lists of strings");
  CHECK(parse_error("{\"t_ms\":0,\"dir\":\"headers\",\"metadata\":{\"k\":\"v\"}}") ==
        "replay.jsonl:1: \"metadata\".\"k\" must be a list of strings");
  CHECK(parse_error("{\"dir\":\"status\",\"code\":0,\"trailers\":{\"k\":[1]}}") ==
        "replay.jsonl:1: \"trailers\".\"k\" must be a list of strings");
}

TEST_CASE("ReplayRecorder redacts secrets in metadata unless asked not to") {
  char dir_template[] = "/tmp/grpcdx-unit-XXXXXX";
  REQUIRE(::mkdtemp(dir_template));
  auto record = [&](bool show_secrets) {
    std::string path = std::string(dir_template) + "/rec.jsonl";
    auto recorder = ReplayRecorder::open(path, show_secrets);
    REQUIRE(recorder);
    net::Metadata request{{"authorization", "Bearer s3cret"}, {"x-trace", "t1"}, {"x-bin", std::string("\x00\x01", 2)}};
    (*recorder)->request_metadata(0, request);
    (*recorder)->send(0.5, "{}");
    (*recorder)->headers(1, {{"set-cookie", "id=42"}});
    (*recorder)->headers(1.5, {});  // nothing to write
    (*recorder)->status(2, 0, "", {{"x-session-token", "tok"}});
    REQUIRE((*recorder)->close());
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    ::unlink(path.c_str());
    return text.str();
  };
  CHECK(record(false) ==
        "{\"t_ms\":0,\"dir\":\"metadata\",\"metadata\":{\"authorization\":[\"<redacted>\"],\"x-bin\":[\"AAE=\"],"
        "\"x-trace\":[\"t1\"]}}\n"
        "{\"t_ms\":0.5,\"dir\":\"send\",\"message\":{}}\n"
        "{\"t_ms\":1,\"dir\":\"headers\",\"metadata\":{\"set-cookie\":[\"<redacted>\"]}}\n"
        "{\"t_ms\":2,\"dir\":\"status\",\"code\":0,\"message\":\"\",\"trailers\":{\"x-session-token\":[\"<redacted>\"]}}\n");
  std::string shown = record(true);
  CHECK(shown.find("Bearer s3cret") != std::string::npos);
  CHECK(shown.find("id=42") != std::string::npos);
  CHECK(shown.find("\"tok\"") != std::string::npos);
  auto script = parse(shown);
  REQUIRE(script);
  CHECK(script->request_metadata.size() == 3);
  ::rmdir(dir_template);
}

TEST_CASE("ReplayRecorder takes lines from several threads at once, whole and in time order") {
  // call --record writes sends from the calling thread and receives from gRPC's threads.
  char dir_template[] = "/tmp/grpcdx-unit-XXXXXX";
  REQUIRE(::mkdtemp(dir_template));
  std::string path = std::string(dir_template) + "/threads.jsonl";
  auto recorder = ReplayRecorder::open(path);
  REQUIRE(recorder);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&recorder, t] {
      for (int i = 0; i < 250; ++i) {
        double when = i * 0.5 + t * 0.1;
        if (t % 2 == 0) (*recorder)->send(when, R"({"responseParameters":[{"size":1}]})");
        else (*recorder)->recv(when, R"({"payload":{"body":"AA=="}})");
      }
    });
  for (auto& t : threads) t.join();
  REQUIRE((*recorder)->close());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  auto script = parse(text.str());
  REQUIRE(script);
  CHECK(script->sends.size() == 500);
  CHECK(script->recvs.size() == 500);
  double last = 0;
  size_t si = 0, ri = 0;
  while (si < script->sends.size() || ri < script->recvs.size()) {
    bool take_send = ri >= script->recvs.size() ||
                     (si < script->sends.size() && script->sends[si].line < script->recvs[ri].line);
    double t = take_send ? script->sends[si++].t_ms : script->recvs[ri++].t_ms;
    CHECK(t >= last);
    last = t;
  }
  ::unlink(path.c_str());
  ::rmdir(dir_template);
}
