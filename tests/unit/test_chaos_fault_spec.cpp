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
  CHECK(!abort->retry_after);
  CHECK(*parse_fault_spec("abort=RESOURCE_EXHAUSTED,retry_after=1500ms")->retry_after == 1500ms);
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
  CHECK(parse_fault_spec("delay=1s,retry_after=1s").error().message == "key 'retry_after' does not apply to 'delay'");
  CHECK(parse_fault_spec("abort=14,retry_after=soon").error().message ==
        "invalid retry_after 'soon' (use a duration like 2s or 500ms)");
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
  CHECK(parse_fault_spec("drop,limit=0").error().message ==
        "invalid limit '0' (a fault that may never inject does nothing: use 1 or more)");
  CHECK(parse_fault_spec("drop,limit=99999999999999999999").error().message ==
        "invalid limit '99999999999999999999' (use a whole number, e.g. 3)");
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
  CHECK(to_flag_form(*parse_fault_spec("abort=8,message=slow down,retry_after=2000ms")) ==
        "abort=RESOURCE_EXHAUSTED,retry_after=2s,message=slow down");
}

TEST_CASE("parse_rules: the same faults as JSON") {
  auto rules = parse_rules(R"({"faults": [
      {"kind": "abort", "code": "UNAVAILABLE", "pct": 30, "method": "pkg.S/*"},
      {"kind": "delay", "delay": "200ms", "jitter": "50ms"},
      {"kind": "cancel", "after": 2, "limit": 5},
      {"kind": "abort", "code": 8, "pct": 12.5, "retry_after": "250ms"}]})",
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
  CHECK(*(*rules)[3].retry_after == 250ms);
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

TEST_CASE("parse_fault_spec --tcp: kinds, values and dir") {
  const auto tcp = ProxyMode::tcp;
  auto latency = parse_fault_spec("latency=50ms,jitter=10ms,dir=down,pct=40", tcp);
  REQUIRE(latency);
  CHECK(latency->kind == FaultKind::latency);
  CHECK(latency->delay == 50ms);
  CHECK(latency->jitter == 10ms);
  CHECK(latency->dir == Direction::down);
  CHECK(latency->pct == 40);
  // As in toxiproxy: latency, bandwidth and slice act downstream unless dir says otherwise.
  CHECK(parse_fault_spec("latency=5ms", tcp)->dir == Direction::down);
  CHECK(parse_fault_spec("bandwidth=1KB/s", tcp)->dir == Direction::down);
  CHECK(parse_fault_spec("slice=10", tcp)->dir == Direction::down);
  CHECK(parse_fault_spec("latency=5ms,dir=both", tcp)->dir == Direction::both);
  CHECK(parse_fault_spec("reset,after=1KB", tcp)->dir == Direction::both);
  CHECK(parse_fault_spec("blackhole", tcp)->dir == Direction::both);
  // after= of reset and close: bytes (toxiproxy's limit_data) or a duration (reset_peer timeout).
  auto reset_bytes = parse_fault_spec("reset,after=4KB", tcp);
  CHECK(reset_bytes->after_bytes == 4000);
  CHECK(!reset_bytes->after_duration);
  auto reset_time = parse_fault_spec("reset,after=300ms", tcp);
  CHECK(*reset_time->after_duration == 300ms);
  CHECK(reset_time->after_bytes == 0);
  CHECK(parse_fault_spec("close,after=4KB", tcp)->after_bytes == 4000);
  CHECK(parse_fault_spec("close,after=1500", tcp)->after_bytes == 1500);
  CHECK(*parse_fault_spec("close,after=1m", tcp)->after_duration == 60s);
  CHECK(*parse_fault_spec("blackhole,after=2s", tcp)->after_duration == 2s);
  auto slow = parse_fault_spec("slow_close=500ms", tcp);
  CHECK(slow->kind == FaultKind::slow_close);
  CHECK(slow->delay == 500ms);
  CHECK(slow->dir == Direction::both);
  CHECK(parse_fault_spec("bandwidth=100KB/s", tcp)->rate == 100000);
  CHECK(parse_fault_spec("bandwidth=1MiB/s,dir=up", tcp)->rate == 1048576);
  CHECK(parse_fault_spec("bandwidth=2500", tcp)->rate == 2500);
  CHECK(parse_fault_spec("reset", tcp)->after_bytes == 0);
  CHECK(parse_fault_spec("reset,after=64KiB,dir=down", tcp)->after_bytes == 65536);
  CHECK(parse_fault_spec("blackhole,dir=up", tcp)->kind == FaultKind::blackhole);
  auto slice = parse_fault_spec("slice=100,delay=2ms,limit=3", tcp);
  REQUIRE(slice);
  CHECK(slice->slice_bytes == 100);
  CHECK(slice->delay == 2ms);
  CHECK(*slice->limit == 3);
  CHECK(*parse_fault_spec("close,after=1500ms", tcp)->after_duration == 1500ms);
  CHECK(!parse_fault_spec("close", tcp)->after_duration);
}

TEST_CASE("parse_fault_spec: a fault of the other mode is refused, naming the kind and the mode") {
  CHECK(parse_fault_spec("latency=50ms").error().message ==
        "'latency' is a --tcp fault: add --tcp for the byte-level proxy (without it, use delay, abort, cancel, "
        "reset, stall or drop)");
  CHECK(parse_fault_spec("blackhole").error().kind == ErrorKind::usage);
  CHECK(parse_fault_spec("abort=UNAVAILABLE", ProxyMode::tcp).error().message ==
        "'abort' is a gRPC fault and does not apply to --tcp (use latency, bandwidth, reset, blackhole, slice, "
        "close, slow_close or loss)");
  CHECK(parse_fault_spec("delay=1s", ProxyMode::tcp).error().message ==
        "'delay' is a gRPC fault and does not apply to --tcp (use latency, bandwidth, reset, blackhole, slice, "
        "close, slow_close or loss)");
  CHECK(parse_fault_spec("slow", ProxyMode::tcp).error().message ==
        "unknown fault kind 'slow' (use latency, bandwidth, reset, blackhole, slice, close, slow_close or loss)");
  CHECK(parse_fault_spec("reset,after=2,dir=up").error().message ==
        "key 'dir' needs --tcp (the gRPC proxy's faults act on calls, not on one direction of bytes)");
  CHECK(parse_fault_spec("latency=1s,method=pkg.S/M", ProxyMode::tcp).error().message ==
        "key 'method' does not apply to --tcp (bytes have no methods or metadata; keys: pct, dir, limit)");
  CHECK(parse_fault_spec("reset,header=a:b", ProxyMode::tcp).error().message ==
        "key 'header' does not apply to --tcp (bytes have no methods or metadata; keys: pct, dir, limit)");
}

TEST_CASE("parse_fault_spec --tcp: errors name the problem") {
  auto err = [](const char* text) { return parse_fault_spec(text, ProxyMode::tcp).error().message; };
  CHECK(err("latency") == "latency needs a duration (use latency=50ms)");
  CHECK(err("latency=soon") == "invalid latency 'soon' (use a duration like 200ms or 1s)");
  CHECK(err("latency=10ms,jitter=20ms") == "jitter 20ms is larger than the latency 10ms");
  CHECK(err("bandwidth") == "bandwidth needs a rate (use bandwidth=100KB/s)");
  CHECK(err("bandwidth=fast") == "invalid bandwidth 'fast' (use bytes per second like 100000/s, 100KB/s or 1MiB/s)");
  CHECK(err("bandwidth=10XB/s") == "invalid bandwidth '10XB/s' (use bytes per second like 100000/s, 100KB/s or 1MiB/s)");
  CHECK(err("bandwidth=0/s") == "bandwidth 0 would forward nothing (use blackhole for that, or a rate like 1KB/s)");
  CHECK(err("slice") == "slice needs a size (use slice=100, in bytes)");
  CHECK(err("slice=0") == "slice 0 would forward nothing (use a size of 1 byte or more)");
  CHECK(err("slice=-5") == "invalid slice '-5' (use bytes like 1400, 64KB or 1MiB)");
  CHECK(err("slice=10,delay=x") == "invalid delay 'x' (use a duration like 200ms or 1s)");
  CHECK(err("reset,after=soon") ==
        "invalid after 'soon' (use bytes like 1024, 64KB or 1MiB, or a duration like 300ms)");
  CHECK(err("close,after=3x") == "invalid after '3x' (use bytes like 1024, 64KB or 1MiB, or a duration like 300ms)");
  CHECK(err("blackhole,after=3KB") == "invalid after '3KB' (use a duration like 30s: silent from then on)");
  CHECK(err("blackhole,after=1s,dir=up") == "blackhole,after=DUR goes silent both ways: leave out dir");
  CHECK(err("slow_close") == "slow_close needs a duration (use slow_close=500ms)");
  CHECK(err("slow_close=soon") == "invalid slow_close 'soon' (use a duration like 200ms or 1s)");
  CHECK(err("close,dir=up") == "key 'dir' does not apply to 'close' (it closes both directions)");
  CHECK(err("latency=1s,dir=sideways") == "invalid dir 'sideways' (use up, down or both)");
  CHECK(err("blackhole=1") == "'blackhole' takes no value of its own (use blackhole,after=DUR)");
  CHECK(err("reset=5") == "'reset' takes no value of its own (use reset,after=BYTES|DUR)");
  CHECK(err("close=1s") == "'close' takes no value of its own (use close,after=BYTES|DUR)");
  CHECK(err("latency=1s,after=5") == "key 'after' does not apply to 'latency'");
  CHECK(err("blackhole,colour=red") == "unknown key 'colour' (keys: after, pct, dir, limit)");
  CHECK(err("close,colour=red") == "unknown key 'colour' (keys: after, pct, limit)");
  CHECK(err("slice=1,slice=2") == "key 'slice' given twice");
  CHECK(parse_fault_spec("slice=1", ProxyMode::tcp).value().kind == FaultKind::slice);
}

TEST_CASE("parse_bytes and format_bytes") {
  CHECK(*parse_bytes("1400", "x") == 1400);
  CHECK(*parse_bytes("64KB", "x") == 64000);
  CHECK(*parse_bytes("64kB", "x") == 64000);
  CHECK(*parse_bytes("64KiB", "x") == 65536);
  CHECK(*parse_bytes("2MB", "x") == 2000000);
  CHECK(*parse_bytes("1GiB", "x") == 1073741824);
  CHECK(*parse_bytes("7B", "x") == 7);
  CHECK(parse_bytes("", "slice").error().message == "invalid slice '' (use bytes like 1400, 64KB or 1MiB)");
  CHECK(!parse_bytes("99999999999999999999", "x"));
  CHECK(!parse_bytes("20000000000GiB", "x"));
  CHECK(!parse_bytes("1.5MB", "x"));
  CHECK(format_bytes(0) == "0");
  CHECK(format_bytes(1400) == "1400");
  CHECK(format_bytes(64000) == "64KB");
  CHECK(format_bytes(65536) == "64KiB");
  CHECK(format_bytes(3 * 1024 * 1024) == "3MiB");
  CHECK(format_bytes(2000000) == "2MB");
}

TEST_CASE("to_flag_form of --tcp faults parses back") {
  for (const char* text : {"latency=50ms,jitter=10ms", "latency=5ms,dir=both", "bandwidth=100KB/s",
                           "reset,after=64KiB,dir=up", "reset,after=300ms", "blackhole,pct=25", "blackhole,after=2s",
                           "slice=100,delay=2ms,limit=3", "close,after=1.5s", "close,after=4KB", "slow_close=1s",
                           "reset", "close"}) {
    auto spec = parse_fault_spec(text, ProxyMode::tcp);
    REQUIRE(spec);
    CHECK(to_flag_form(*spec) == text);
    auto again = parse_fault_spec(to_flag_form(*spec), ProxyMode::tcp);
    REQUIRE(again);
    CHECK(to_flag_form(*again) == text);
  }
  CHECK(to_flag_form(*parse_fault_spec("bandwidth=1048576/s,dir=down", ProxyMode::tcp)) == "bandwidth=1MiB/s");
}

TEST_CASE("parse_rules --tcp: the same faults as JSON") {
  auto rules = parse_rules(R"({"faults": [
      {"kind": "latency", "latency": "40ms", "jitter": "5ms", "dir": "down"},
      {"kind": "bandwidth", "bandwidth": 50000, "pct": 50},
      {"kind": "reset", "after": "1KB"},
      {"kind": "close", "after": "2s", "limit": 1}]})",
                           "tcp.json", ProxyMode::tcp);
  REQUIRE(rules);
  REQUIRE(rules->size() == 4);
  CHECK((*rules)[0].text == "latency=40ms,jitter=5ms");
  CHECK((*rules)[1].rate == 50000);
  CHECK((*rules)[1].text == "bandwidth=50KB/s,pct=50");
  CHECK((*rules)[2].after_bytes == 1000);
  CHECK(*(*rules)[3].after_duration == 2s);
  auto err = [](std::string_view text, ProxyMode mode) { return parse_rules(text, "r.json", mode).error().message; };
  CHECK(err(R"({"faults": [{"kind": "abort", "code": 14}]})", ProxyMode::tcp) ==
        "r.json: faults[0].kind: 'abort' is a gRPC fault and does not apply to --tcp (use latency, bandwidth, reset, "
        "blackhole, slice, close, slow_close or loss)");
  CHECK(err(R"({"faults": [{"kind": "slice"}]})", ProxyMode::grpc).starts_with("r.json: faults[0].kind: 'slice' is a --tcp fault"));
  CHECK(err(R"({"faults": [{"kind": "slice", "slice": 10, "dir": "left"}]})", ProxyMode::tcp) ==
        "r.json: faults[0].dir: invalid dir 'left' (use up, down or both)");
  CHECK(err(R"({"faults": [{}]})", ProxyMode::tcp) ==
        "r.json: faults[0].kind: missing or not a string (use latency, bandwidth, reset, blackhole, slice, close, "
        "slow_close or loss)");
}

TEST_CASE("parse_fault_spec: loss=P for --tcp, a share of packets the kernel drops") {
  auto loss = parse_fault_spec("loss=10", ProxyMode::tcp);
  REQUIRE(loss);
  CHECK(loss->kind == FaultKind::loss);
  CHECK(loss->loss == 10.0);
  CHECK(loss->dir == Direction::both);
  CHECK(to_flag_form(*loss) == "loss=10");
  auto up = parse_fault_spec("loss=0.5,dir=up", ProxyMode::tcp);
  REQUIRE(up);
  CHECK(up->loss == 0.5);
  CHECK(to_flag_form(*up) == "loss=0.5,dir=up");
  CHECK(parse_fault_spec("loss=100", ProxyMode::tcp));
  const std::string hint = "(use the percentage of packets to drop, above 0 and at most 100, e.g. 10 or 0.5)";
  CHECK(parse_fault_spec("loss=150", ProxyMode::tcp).error().message == "invalid loss '150' " + hint);
  CHECK(parse_fault_spec("loss=abc", ProxyMode::tcp).error().message == "invalid loss 'abc' " + hint);
  CHECK(parse_fault_spec("loss=0", ProxyMode::tcp).error().message == "invalid loss '0' " + hint);
  CHECK(parse_fault_spec("loss=-1", ProxyMode::tcp).error().message == "invalid loss '-1' " + hint);
  CHECK(parse_fault_spec("loss", ProxyMode::tcp).error().message ==
        "loss needs a percentage (use loss=10: the kernel drops 10% of the packets)");
  CHECK(parse_fault_spec("loss=10,pct=50", ProxyMode::tcp).error().message ==
        "key 'pct' does not apply to 'loss' (the kernel drops P percent of every packet on the proxy's port, of "
        "every connection; keys: loss, dir)");
  CHECK(parse_fault_spec("loss=10,limit=1", ProxyMode::tcp).error().kind == ErrorKind::usage);
  CHECK(parse_fault_spec("loss=10,after=1s", ProxyMode::tcp).error().message ==
        "key 'after' does not apply to 'loss'");
  CHECK(parse_fault_spec("loss=10,x=1", ProxyMode::tcp).error().message == "unknown key 'x' (keys: loss, dir)");
  CHECK(parse_fault_spec("loss=10").error().message ==
        "'loss' is a --tcp fault: add --tcp for the byte-level proxy (without it, use delay, abort, cancel, reset, "
        "stall or drop)");
  auto rules = parse_rules(R"({"faults": [{"kind": "loss", "loss": 2.5, "dir": "down"}]})", "r.json", ProxyMode::tcp);
  REQUIRE(rules);
  CHECK(rules->at(0).loss == 2.5);
  CHECK(rules->at(0).text == "loss=2.5,dir=down");
}
