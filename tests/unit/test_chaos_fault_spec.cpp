// Unit tests for src/chaos/fault_spec: the --fault flag form and the --rules JSON form.
#include <doctest.h>

#include "chaos/fault_spec.hpp"

using namespace grpcdx;
using namespace grpcdx::chaos;
using namespace std::chrono_literals;

TEST_CASE("parse_fault_spec: kinds and their values") {
  auto delay = parse_fault_spec("delay=200ms,jitter=50ms,pct=25,method=grpc.testing.*/*");
  REQUIRE(delay);
  CHECK(delay->kind == FaultKind::delay);
  CHECK(delay->delay == 200ms);
  CHECK(delay->jitter == 50ms);
  CHECK(delay->pct == 25);
  CHECK(delay->method_glob == "grpc.testing.*/*");
  CHECK(delay->text == "delay=200ms,jitter=50ms,pct=25,method=grpc.testing.*/*");

  auto abort = parse_fault_spec("abort=UNAVAILABLE,message=try later");
  REQUIRE(abort);
  CHECK(abort->code == 14);
  CHECK(abort->message == "try later");
  CHECK(parse_fault_spec("abort=5")->code == 5);
  CHECK(parse_fault_spec("abort,code=internal")->code == 13);

  auto cancel = parse_fault_spec("cancel,after=2");
  REQUIRE(cancel);
  CHECK(cancel->after_messages == 2);
  CHECK(!cancel->after_duration);
  CHECK(*parse_fault_spec("cancel,after=1500ms")->after_duration == 1500ms);
  CHECK(parse_fault_spec("reset")->after_messages == 0);
  CHECK(parse_fault_spec("stall,after=1")->after_messages == 1);
  CHECK(parse_fault_spec("drop")->kind == FaultKind::drop);

  auto keyed = parse_fault_spec("drop,header=X-Env: canary,limit=3,pct=0.5");
  REQUIRE(keyed);
  CHECK(keyed->header_key == "x-env");
  CHECK(keyed->header_value_glob == "canary");
  CHECK(*keyed->limit == 3);
  CHECK(keyed->pct == 0.5);
  CHECK(parse_fault_spec("abort=14,method=/pkg.S/M")->method_glob == "pkg.S/M");
}

TEST_CASE("parse_fault_spec: errors name the problem") {
  CHECK(parse_fault_spec("abort=NOPE").error().message ==
        "unknown status code 'NOPE' (use a name like UNAVAILABLE or a number 0-16)");
  CHECK(parse_fault_spec("abort=NOPE").error().kind == ErrorKind::usage);
  CHECK(parse_fault_spec("abort=OK").error().message == "abort code OK (0) is not a fault (use a code from 1 to 16)");
  CHECK(parse_fault_spec("slow=1s").error().message ==
        "unknown fault kind 'slow' (use delay, abort, cancel, reset, stall or drop)");
  CHECK(parse_fault_spec("").error().message == "missing fault kind (use delay, abort, cancel, reset, stall or drop)");
  CHECK(parse_fault_spec("delay").error().message == "delay needs a duration (use delay=200ms)");
  CHECK(parse_fault_spec("abort").error().message == "abort needs a status code (use abort=UNAVAILABLE)");
  CHECK(parse_fault_spec("delay=soon").error().message == "invalid delay 'soon' (use a duration like 200ms or 1s)");
  CHECK(parse_fault_spec("delay=1s,jitter=2s").error().message == "jitter 2s is larger than the delay 1s");
  CHECK(parse_fault_spec("abort=14,jitter=1s").error().message == "key 'jitter' does not apply to 'abort'");
  CHECK(parse_fault_spec("drop,colour=red").error().message == "unknown key 'colour' (keys: pct, method, header, limit)");
  CHECK(parse_fault_spec("abort=14,pct=150").error().message ==
        "invalid pct '150' (use a percentage from 0 to 100, e.g. 30 or 0.5)");
  CHECK(parse_fault_spec("abort=14,pct=1,pct=2").error().message == "key 'pct' given twice");
  CHECK(parse_fault_spec("abort=14,,pct=2").error().message == "empty key (two commas in a row, or a trailing comma)");
  CHECK(parse_fault_spec("abort=14,pct").error().message == "'pct' is not key=value");
  CHECK(parse_fault_spec("reset,after=1s").error().message ==
        "invalid after '1s' (use a number of messages, e.g. after=2)");
  CHECK(parse_fault_spec("cancel,after=soon").error().message ==
        "invalid after 'soon' (use a number of messages like 2 or a duration like 500ms)");
  CHECK(parse_fault_spec("cancel=3").error().message == "'cancel' takes no value of its own (use cancel,after=N)");
  CHECK(parse_fault_spec("drop,limit=-1").error().message == "invalid limit '-1' (use a whole number, e.g. 3)");
  CHECK(parse_fault_spec("drop,header=novalue").error().message ==
        "invalid header 'novalue' (use key:value; the value may be a glob like *)");
  CHECK(parse_fault_spec("drop,method=Foo").error().message ==
        "invalid method 'Foo' (use pkg.Service/Method, or a glob like pkg.Service/*)");
}

TEST_CASE("to_flag_form is canonical and parses back") {
  auto spec = parse_fault_spec("abort=unavailable,pct=30,method=pkg.S/*,limit=2");
  REQUIRE(spec);
  CHECK(to_flag_form(*spec) == "abort=UNAVAILABLE,pct=30,method=pkg.S/*,limit=2");
  auto again = parse_fault_spec(to_flag_form(*spec));
  REQUIRE(again);
  CHECK(again->code == 14);
  CHECK(to_flag_form(*parse_fault_spec("delay=1500ms,jitter=100ms")) == "delay=1.5s,jitter=100ms");
  CHECK(to_flag_form(*parse_fault_spec("cancel,after=2")) == "cancel,after=2");
}

TEST_CASE("parse_rules: the same faults as JSON") {
  auto rules = parse_rules(R"({"faults": [
      {"kind": "abort", "code": "UNAVAILABLE", "pct": 30, "method": "pkg.S/*"},
      {"kind": "delay", "delay": "200ms", "jitter": "50ms"},
      {"kind": "cancel", "after": 2, "limit": 5},
      {"kind": "abort", "code": 8, "pct": 12.5}]})",
                           "rules.json");
  REQUIRE(rules);
  REQUIRE(rules->size() == 4);
  CHECK((*rules)[0].code == 14);
  CHECK((*rules)[0].pct == 30);
  CHECK((*rules)[0].text == "abort=UNAVAILABLE,pct=30,method=pkg.S/*");
  CHECK((*rules)[1].delay == 200ms);
  CHECK((*rules)[2].after_messages == 2);
  CHECK(*(*rules)[2].limit == 5);
  CHECK((*rules)[3].code == 8);
  CHECK((*rules)[3].pct == 12.5);
  CHECK(parse_rules(R"({"faults": []})", "r.json")->empty());
}

TEST_CASE("parse_rules: errors name the file, entry and field") {
  auto err = [](std::string_view text) { return parse_rules(text, "rules.json").error().message; };
  CHECK(err(R"({"faults": [{"kind": "delay", "delay": "1s"}, {"kind": "abort", "code": "NOPE"}]})") ==
        "rules.json: faults[1].code: unknown status code 'NOPE' (use a name like UNAVAILABLE or a number 0-16)");
  CHECK(parse_rules(R"({"faults": [{"kind": "abort", "code": "NOPE"}]})", "r").error().kind == ErrorKind::local);
  CHECK(err(R"({"faults": [{"kind": "slow"}]})") ==
        "rules.json: faults[0].kind: unknown fault kind 'slow' (use delay, abort, cancel, reset, stall or drop)");
  CHECK(err(R"({"faults": [{"code": 14}]})") ==
        "rules.json: faults[0].kind: missing or not a string (use delay, abort, cancel, reset, stall or drop)");
  CHECK(err(R"({"faults": [{"kind": "delay"}]})") == "rules.json: faults[0]: delay needs a duration (use delay=200ms)");
  CHECK(err(R"({"faults": [{"kind": "drop", "pct": true}]})") ==
        "rules.json: faults[0].pct: expected a string or a number, got boolean");
  CHECK(err(R"({"faults": [{"kind": "drop", "jitter": "1s"}]})") ==
        "rules.json: faults[0].jitter: key 'jitter' does not apply to 'drop'");
  CHECK(err(R"({"faults": {}})") == "rules.json: faults: expected an array of faults");
  CHECK(err(R"({"fault": []})") == "rules.json: unknown field 'fault' (the file holds {\"faults\": [...]})");
  CHECK(err(R"([1])") == "rules.json: expected a JSON object {\"faults\": [...]}");
  CHECK(err("{\"faults\": [\n  {\"kind\": }]}").starts_with("rules.json: invalid JSON: parse error at line 2, column 12"));
}
