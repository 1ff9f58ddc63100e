// Unit tests for the per-call request templates and the k6 script's string quoting.
#include <doctest.h>

#include <random>
#include <regex>

#include "load/k6_script.hpp"
#include "load/request_template.hpp"

using namespace grpcdx::load;

TEST_CASE("load::expand_template") {
  TemplateVars vars{42, 7, "0b1c2d3e-0000-4000-8000-000000000000",
                    std::chrono::system_clock::time_point(std::chrono::nanoseconds(1714564800123456789))};
  CHECK(expand_template(R"({"responseSize": {{.RequestNumber}}})", vars) == R"({"responseSize": 42})");
  CHECK(expand_template(R"({"a": "w{{.WorkerID}}-r{{.RequestNumber}}"})", vars) == R"({"a": "w7-r42"})");
  CHECK(expand_template("{{.UUID}}", vars) == "0b1c2d3e-0000-4000-8000-000000000000");
  CHECK(expand_template("{{.Timestamp}}", vars) == "2024-05-01T12:00:00.123456789Z");
  CHECK(expand_template("no templates", vars) == "no templates");
  CHECK(expand_template("{{.RequestNumber}}{{.RequestNumber}}", vars) == "4242");
  CHECK(expand_template("{{ left as is", vars) == "{{ left as is");
}

TEST_CASE("load::expand_template: ghz's placeholders and functions") {
  MethodNames names{"grpc.testing.TestService.UnaryCall", "UnaryCall", "grpc.testing.TestService",
                    "grpc.testing.SimpleRequest", "grpc.testing.SimpleResponse", false, true};
  std::mt19937_64 rng(3);
  TemplateVars vars{1, 2, "", std::chrono::system_clock::time_point(std::chrono::nanoseconds(1714564800123456789)),
                    &names, &rng};
  CHECK(expand_template("{{.TimestampUnix}} {{.TimestampUnixMilli}} {{.TimestampUnixNano}}", vars) ==
        "1714564800 1714564800123 1714564800123456789");
  CHECK(expand_template("{{.MethodName}} {{.ServiceName}} {{.FullyQualifiedName}}", vars) ==
        "UnaryCall grpc.testing.TestService grpc.testing.TestService.UnaryCall");
  CHECK(expand_template("{{.InputName}}/{{.OutputName}} {{.IsClientStreaming}} {{.IsServerStreaming}}", vars) ==
        "grpc.testing.SimpleRequest/grpc.testing.SimpleResponse false true");
  std::regex v4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::string a = expand_template("{{newUUID}}", vars), b = expand_template("{{ newUUID }}", vars);
  CHECK(std::regex_match(a, v4));
  CHECK(a != b);  // a new one each time
  for (int i = 0; i < 200; ++i) {
    int n = std::stoi(expand_template("{{randomInt 1 10}}", vars));
    CHECK(n >= 1);
    CHECK(n < 10);
  }
  CHECK(std::stoi(expand_template("{{randomInt -5 -4}}", vars)) == -5);
  std::string s = expand_template("{{randomString 8}}", vars);
  CHECK(std::regex_match(s, std::regex("^[a-zA-Z0-9]{8}$")));
  CHECK(expand_template("{{randomString 0}}", vars).empty());
  CHECK(uses_call_uuid("{{.UUID}}"));
  CHECK(!uses_call_uuid("{{newUUID}}"));
}

TEST_CASE("load::check_template") {
  CHECK(check_template("{{randomInt 1 10}} {{randomString 8}} {{newUUID}} {{.TimestampUnixNano}}", "-d"));
  CHECK(check_template("{{randomInt 10 1}}", "-d").error().message ==
        "invalid template '{{randomInt 10 1}}' in -d: randomInt takes MIN and MAX, integers with MIN < MAX");
  CHECK(check_template("{{randomString -1}}", "-d").error().message ==
        "invalid template '{{randomString -1}}' in -d: randomString takes one length from 0 to 1048576");
  CHECK(check_template("{{randomString}}", "-d").error().message ==
        "invalid template '{{randomString}}' in -d: randomString takes one length from 0 to 1048576");
  CHECK(check_template(R"({"a": {{.RequestNumber}}, "b": "{{.UUID}}"})", "-d"));
  CHECK(check_template("plain", "-d"));
  CHECK(check_template(R"({"a": "{{.Foo}}"})", "-d").error().message.starts_with(
      "unknown template '{{.Foo}}' in -d (known: {{.RequestNumber}}, {{.WorkerID}}, {{.UUID}}, {{.Timestamp}}, "));
  auto unclosed = check_template(R"({"a": "{{.UUID"})", "req.json");
  REQUIRE(!unclosed);
  CHECK(unclosed.error().message == R"(unclosed template '{{.UUID"}' in req.json)");
  CHECK(has_template("x{{.UUID}}"));
  CHECK(!has_template("{x}"));
}

TEST_CASE("load::random_uuid and rfc3339") {
  std::mt19937_64 rng(5);
  std::regex v4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::string first = random_uuid(rng);
  for (int i = 0; i < 100; ++i) CHECK(std::regex_match(random_uuid(rng), v4));
  CHECK(first != random_uuid(rng));
  CHECK(rfc3339(std::chrono::system_clock::time_point{}) == "1970-01-01T00:00:00.000000000Z");
}

TEST_CASE("load::js_string and k6_script") {
  CHECK(js_string("a\"b\\c\n") == R"("a\"b\\c\n")");
  K6Plan plan;
  plan.target = "127.0.0.1:50051";
  plan.method = "grpc.testing.TestService/UnaryCall";
  plan.plaintext = true;
  plan.messages = {R"({"responseSize": {{.RequestNumber}}})"};
  plan.concurrency = 20;
  plan.total_calls = 1000;
  plan.max_p99 = std::chrono::milliseconds(250);
  plan.unsupported = {"--warmup 1s (k6 has no warm-up left out of its figures)"};
  std::string s = k6_script(plan);
  CHECK(s.find("executor: 'shared-iterations'") != std::string::npos);
  CHECK(s.find("vus: 20,\n      iterations: 1000,") != std::string::npos);
  CHECK(s.find("grpc_req_duration: ['p(99)<=250']") != std::string::npos);
  CHECK(s.find("//   --warmup 1s") != std::string::npos);
  CHECK(s.find("plaintext: true, reflect: true") != std::string::npos);
  CHECK(s.find(R"("{\"responseSize\": {{.RequestNumber}}}")") != std::string::npos);
  CHECK(s.find("client.invoke(\"grpc.testing.TestService/UnaryCall\"") != std::string::npos);
  plan.rps = 100;
  plan.total_calls = 0;
  plan.duration = std::chrono::seconds(30);
  s = k6_script(plan);
  CHECK(s.find("executor: 'constant-arrival-rate',\n      rate: 100,") != std::string::npos);
  CHECK(s.find("duration: '30s'") != std::string::npos);
}
