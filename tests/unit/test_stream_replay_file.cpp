// Unit tests for src/stream/replay_file: parsing replay files (with the exact error text naming
// the line) and writing them with mode 0600.
#include <doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

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
