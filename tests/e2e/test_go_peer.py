# grpcdx against grpc-go: the peer of tests/peers/go (TestService, health, reflection v1alpha
# only, channelz), built from Debian's grpc-go sources; list, describe, call of every streaming
# kind, statuses, health, probe, interop and a short bench, each bounded in time, on loopback.
import base64
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpcdx_test as t  # noqa: E402

SVC = "grpc.testing.TestService"
DOWN = "grpcdx.test.Down"  # the service the class's peer reports NOT_SERVING
SERVICES = ["grpc.channelz.v1.Channelz", "grpc.health.v1.Health",
            "grpc.reflection.v1alpha.ServerReflection", SVC]
METHODS = ["EmptyCall", "UnaryCall", "CacheableUnaryCall", "StreamingOutputCall",
           "StreamingInputCall", "FullDuplexCall", "HalfDuplexCall", "UnimplementedCall"]
INTEROP_CASES = ["empty_unary", "large_unary", "client_streaming", "server_streaming", "ping_pong",
                 "empty_stream", "timeout_on_sleeping_server", "cancel_after_begin",
                 "cancel_after_first_response", "status_code_and_message",
                 "special_status_message", "unimplemented_method", "unimplemented_service",
                 "custom_metadata"]


def peer_binary():
    """The grpc-go peer from GRPCDX_GO_PEER (ctest sets it). Missing is a failure, never a skip:
    the project requires Go (scripts/install-deps installs it)."""
    path = os.environ.get("GRPCDX_GO_PEER")
    if not path:
        reason = os.environ.get("GRPCDX_GO_PEER_MISSING", "GRPCDX_GO_PEER is not set (ctest sets it)")
        raise AssertionError("no grpc-go peer: %s" % reason)
    if not os.access(path, os.X_OK):
        raise AssertionError("no grpc-go peer at %s: build the go_peer target" % path)
    return path


def go_peer(*extra):
    """Context manager: the grpc-go peer on 127.0.0.1:0 with flags EXTRA; yields its address."""
    argv = [peer_binary(), "-listen", "127.0.0.1:0"] + [str(a) for a in extra]
    return t._server(argv, "grpcdx-go-peer " + " ".join(map(str, extra)))


def b64_zeros(n):
    """The protobuf JSON of `n` zero bytes (a COMPRESSABLE payload's body)."""
    return base64.b64encode(b"\0" * n).decode()


class GoPeerTest(t.TestCase):
    """One grpc-go peer for the class; every test runs the real grpcdx against it."""

    @classmethod
    def setUpClass(cls):
        cls._peer = go_peer("-not-serving", DOWN)
        cls.address = cls._peer.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls._peer.__exit__(None, None, None)

    def grpcdx(self, command, *args, timeout=30):
        return t.run([command, self.address, "--plaintext"] + list(args), timeout=timeout)

    def call(self, method, *args):
        return self.grpcdx("call", SVC + "/" + method, *args)

    def call_json(self, method, *args):
        """The -o json events of a call that must succeed."""
        return t.json_lines(self.assert_ok(self.call(method, *args, "-o", "json")))

    # list and describe, over grpc-go's v1alpha reflection (grpcdx falls back from v1).

    def test_list_services(self):
        out = self.assert_ok(self.grpcdx("list"))
        self.assertEqual(out.splitlines(), SERVICES)
        out = self.assert_ok(self.grpcdx("list", "-o", "json"))
        self.assertEqual(t.json_lines(out), [{"services": SERVICES}])

    def test_list_methods(self):
        out = self.assert_ok(self.grpcdx("list", SVC))
        self.assertEqual(out.splitlines(), [SVC + "." + m for m in METHODS])
        doc = t.json_lines(self.assert_ok(self.grpcdx("list", SVC, "-o", "json")))[0]
        self.assertEqual(doc["service"], SVC)
        by_name = {m["name"]: m for m in doc["methods"]}
        self.assertEqual(list(by_name), METHODS)
        self.assertEqual(by_name["UnaryCall"], {
            "name": "UnaryCall", "full_name": SVC + ".UnaryCall",
            "input_type": "grpc.testing.SimpleRequest", "output_type": "grpc.testing.SimpleResponse",
            "client_streaming": False, "server_streaming": False})
        kinds = {name: (m["client_streaming"], m["server_streaming"]) for name, m in by_name.items()}
        self.assertEqual(kinds["StreamingOutputCall"], (False, True))
        self.assertEqual(kinds["StreamingInputCall"], (True, False))
        self.assertEqual(kinds["FullDuplexCall"], (True, True))
        self.assertEqual(kinds["HalfDuplexCall"], (True, True))

    def test_describe_service(self):
        out = self.assert_ok(self.grpcdx("describe", SVC))
        self.assertIn("service TestService {", out)
        self.assertIn("rpc FullDuplexCall(stream grpc.testing.StreamingOutputCallRequest) returns "
                      "(stream grpc.testing.StreamingOutputCallResponse);", out)
        doc = t.json_lines(self.assert_ok(self.grpcdx("describe", SVC, "-o", "json")))[0]
        self.assertEqual((doc["symbol"], doc["kind"]), (SVC, "service"))
        for method in METHODS:
            self.assertIn("rpc %s(" % method, doc["proto"])

    def test_describe_method(self):
        for symbol in (SVC + ".StreamingInputCall", SVC + "/StreamingInputCall"):
            doc = t.json_lines(self.assert_ok(self.grpcdx("describe", symbol, "-o", "json")))[0]
            self.assertEqual(doc, {
                "symbol": SVC + ".StreamingInputCall", "kind": "method",
                "proto": "rpc StreamingInputCall(stream grpc.testing.StreamingInputCallRequest) "
                         "returns (grpc.testing.StreamingInputCallResponse);\n"})

    def test_describe_message(self):
        out = self.assert_ok(self.grpcdx("describe", "grpc.testing.SimpleRequest"))
        self.assertIn("message SimpleRequest {", out)
        self.assertIn("int32 response_size = 2;", out)
        self.assertIn("grpc.testing.EchoStatus response_status = 7;", out)
        doc = t.json_lines(self.assert_ok(self.grpcdx("describe", "grpc.testing.Payload", "-o", "json")))[0]
        self.assertEqual((doc["symbol"], doc["kind"]), ("grpc.testing.Payload", "message"))
        self.assertIn("bytes body = 2;", doc["proto"])

    def test_describe_unknown_symbol(self):
        self.assert_fails(self.grpcdx("describe", "grpc.testing.NoSuchThing"), 1, "grpc.testing.NoSuchThing")

    # call: the four streaming kinds, text and JSON.

    def test_unary(self):
        got = t.parse_json_stream(self.assert_ok(self.call("UnaryCall", "-d", '{"responseSize": 10}')))
        self.assertEqual(got, [{"payload": {"body": b64_zeros(10)}}])
        self.assertEqual(t.parse_json_stream(self.assert_ok(self.call("EmptyCall"))), [{}])
        events = self.call_json("UnaryCall", "-d", '{"response_size": 3}')
        self.assertEqual([e["event"] for e in events], ["headers", "message", "status"])
        self.assertEqual(events[1]["message"], {"payload": {"body": b64_zeros(3)}})
        self.assertEqual((events[2]["code"], events[2]["code_name"], events[2]["message"]), (0, "OK", ""))

    def test_large_unary(self):
        events = self.call_json("UnaryCall", "-d", '{"responseSize": 314159}')
        self.assertEqual(events[1]["message"], {"payload": {"body": b64_zeros(314159)}})

    def test_server_streaming_sizes_and_intervals(self):
        data = ('{"responseParameters": [{"size": 1, "intervalUs": 100000}, {"size": 2, "intervalUs": 100000},'
                ' {"size": 5}]}')
        got = t.parse_json_stream(self.assert_ok(self.call("StreamingOutputCall", "-d", data)))
        self.assertEqual(got, [{"payload": {"body": b64_zeros(n)}} for n in (1, 2, 5)])
        out = self.assert_ok(self.call("StreamingOutputCall", "-d", data, "-o", "json"))
        self.assertEqual([e["event"] for e in t.json_lines(out)], ["headers"] + ["message"] * 3 + ["status"])
        self.assertEqual([e["message"] for e in t.events(out, "message")],
                         [{"payload": {"body": b64_zeros(n)}} for n in (1, 2, 5)])
        self.assertGreaterEqual(t.events(out, "status")[0]["elapsed_ms"], 200)  # two 100 ms intervals

    def test_client_streaming_sums_payload_sizes(self):
        data = '{"payload": {"body": "AAAA"}}{"payload": {"body": "AA=="}}\n{"payload": {"body": "%s"}}\n' % \
            b64_zeros(1000)
        got = t.parse_json_stream(self.assert_ok(self.call("StreamingInputCall", "-d", data)))
        self.assertEqual(got, [{"aggregatedPayloadSize": 3 + 1 + 1000}])
        events = self.call_json("StreamingInputCall", "-d", data)
        self.assertEqual(events[1], {"event": "message", "message": {"aggregatedPayloadSize": 1004}})
        # No request at all: an empty sum, which protobuf's JSON leaves out.
        self.assertEqual(t.parse_json_stream(self.assert_ok(self.call("StreamingInputCall", "-d", ""))), [{}])

    def test_full_duplex(self):
        data = '{"responseParameters": [{"size": 2}]}\n{"responseParameters": [{"size": 1}, {"size": 3}]}\n'
        got = t.parse_json_stream(self.assert_ok(self.call("FullDuplexCall", "-d", data)))
        self.assertEqual(got, [{"payload": {"body": b64_zeros(n)}} for n in (2, 1, 3)])
        events = self.call_json("FullDuplexCall", "-d", data)
        self.assertEqual([e["message"] for e in events if e["event"] == "message"],
                         [{"payload": {"body": b64_zeros(n)}} for n in (2, 1, 3)])
        self.assertEqual(events[-1]["code"], 0)

    def test_half_duplex(self):
        data = '{"responseParameters": [{"size": 4}]}{"responseParameters": [{"size": 6}]}'
        events = self.call_json("HalfDuplexCall", "-d", data)
        self.assertEqual([e["message"] for e in events if e["event"] == "message"],
                         [{"payload": {"body": b64_zeros(n)}} for n in (4, 6)])

    def test_max_messages_ends_a_stream_cleanly(self):
        data = '{"responseParameters": [{"size": 1}, {"size": 1}, {"size": 1, "intervalUs": 5000000}]}'
        got = t.parse_json_stream(self.assert_ok(self.call("StreamingOutputCall", "-d", data,
                                                           "--max-messages", "2")))
        self.assertEqual(len(got), 2)

    def test_metadata_echo(self):
        events = self.call_json("UnaryCall", "-d", '{"responseSize": 1}',
                                "-H", "x-grpc-test-echo-initial: hello-go",
                                "-H", "x-grpc-test-echo-trailing-bin: AAEC")
        self.assertEqual(events[0]["event"], "headers")
        self.assertEqual(events[0]["metadata"].get("x-grpc-test-echo-initial"), ["hello-go"])
        self.assertEqual(events[-1]["trailers"].get("x-grpc-test-echo-trailing-bin"), ["AAEC"])
        # On streams too, and on a call that fails.
        events = self.call_json("FullDuplexCall", "-d", '{"responseParameters": [{"size": 1}]}',
                                "-H", "x-grpc-test-echo-initial: on-a-stream")
        self.assertEqual(events[0]["metadata"].get("x-grpc-test-echo-initial"), ["on-a-stream"])
        rc, out, err = self.call("UnaryCall", "-d", '{"responseStatus": {"code": 2, "message": "x"}}', "-o", "json",
                                 "-H", "x-grpc-test-echo-trailing-bin: /w==")
        self.assertEqual(rc, 64 + 2, err)
        self.assertEqual(t.events(out, "status")[0]["trailers"].get("x-grpc-test-echo-trailing-bin"), ["/w=="])

    # Statuses.

    def test_non_ok_status_is_echoed(self):
        rc, out, err = self.call("UnaryCall", "-d", '{"responseStatus": {"code": 9, "message": "not now"}}')
        self.assertEqual(rc, 64 + 9, err)
        self.assertEqual(err.strip(), "error: FAILED_PRECONDITION (9): not now")
        self.assertEqual(out.strip(), "")
        rc, out, err = self.call("UnaryCall", "-d", '{"responseStatus": {"code": 14, "message": "down"}}',
                                 "-o", "json")
        self.assertEqual(rc, 78, err)
        status = t.events(out, "status")
        self.assertEqual([(s["code"], s["code_name"], s["message"]) for s in status], [(14, "UNAVAILABLE", "down")])
        self.assertEqual(t.events(out, "message"), [])

    def test_status_after_stream_messages(self):
        # grpc-go percent-encodes the message on the wire; grpcdx must print it as sent.
        message = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001F608\t\n"
        data = ('{"responseParameters": [{"size": 1}]}\n' +
                json.dumps({"responseStatus": {"code": 3, "message": message}}) + "\n")
        rc, out, err = self.call("FullDuplexCall", "-d", data, "-o", "json")
        self.assertEqual(rc, 64 + 3, err)
        self.assertEqual(len(t.events(out, "message")), 1)
        status = t.events(out, "status")[0]
        self.assertEqual((status["code"], status["code_name"], status["message"]), (3, "INVALID_ARGUMENT", message))

    def test_unimplemented(self):
        self.assert_fails(self.call("UnimplementedCall"), 64 + 12, "UNIMPLEMENTED (12)")

    def test_channelz_is_served(self):
        out = self.assert_ok(self.grpcdx("call", "grpc.channelz.v1.Channelz/GetServers", "-o", "json"))
        servers = t.events(out, "message")[0]["message"]["server"]
        self.assertEqual(len(servers), 1)
        self.assertIn("listenSocket", servers[0])

    # health, probe, interop, bench.

    def test_health(self):
        self.assertEqual(self.assert_ok(self.grpcdx("health")), "SERVING\n")
        out = self.assert_ok(self.grpcdx("health", "--service", SVC, "-o", "json"))
        self.assertEqual(t.json_lines(out), [{"service": SVC, "status": "SERVING"}])

    def test_health_not_serving_exits_4(self):
        rc, out, err = self.grpcdx("health", "--service", DOWN)
        self.assertEqual(rc, 4, err)
        self.assertEqual(out, DOWN + ": NOT_SERVING\n")
        rc, out, err = self.grpcdx("health", "--service", DOWN, "-o", "json")
        self.assertEqual(rc, 4, err)
        self.assertEqual(t.json_lines(out), [{"service": DOWN, "status": "NOT_SERVING"}])

    def test_health_unknown_service_is_not_found(self):
        self.assert_fails(self.grpcdx("health", "--service", "nope"), 64 + 5, "NOT_FOUND (5)")

    def test_health_watch(self):
        out = self.assert_ok(self.grpcdx("health", "--watch", "--count", "1", "-o", "json"))
        self.assertEqual(t.json_lines(out), [{"service": "", "status": "SERVING"}])
        rc, out, err = self.grpcdx("health", "--service", DOWN, "--watch", "--count", "1", "-o", "json")
        self.assertEqual(rc, 4, err)
        self.assertEqual(t.json_lines(out), [{"service": DOWN, "status": "NOT_SERVING"}])

    def test_probe_plaintext(self):
        out = self.assert_ok(self.grpcdx("probe", "-o", "json"))
        report = t.json_lines(out)[0]
        stages = {s["name"]: s for s in report["stages"]}
        self.assertEqual([s["name"] for s in report["stages"]], ["dns", "tcp", "tls", "http2", "grpc"])
        self.assertEqual([stages[n]["status"] for n in ("dns", "tcp", "tls", "http2", "grpc")],
                         ["skip", "ok", "skip", "ok", "ok"])
        self.assertEqual(stages["grpc"]["detail"].get("code"), "OK")
        self.assertEqual(stages["grpc"]["detail"].get("serving_status"), "SERVING")
        self.assertEqual((report["verdict"]["ok"], report["verdict"]["class"], report["verdict"]["exit_code"]),
                         (True, "ok", 0))
        self.assertIn("ok", self.assert_ok(self.grpcdx("probe")))

    def test_interop_all_cases_pass(self):
        out = self.assert_ok(self.grpcdx("interop", "-o", "json", timeout=90))
        report = t.json_lines(out)[0]
        self.assertEqual([c["name"] for c in report["cases"]], INTEROP_CASES)
        self.assertEqual([c for c in report["cases"] if not c["passed"]], [])
        self.assertEqual((report["passed"], report["failed"]), (14, 0))

    def test_interop_text(self):
        out = self.assert_ok(self.grpcdx("interop", timeout=90))
        for name in INTEROP_CASES:
            self.assertRegex(out, r"PASS  %s\s+[\d.]+ ms" % name)
        self.assertIn("14 passed, 0 failed", out)

    def test_bench(self):
        out = self.assert_ok(self.grpcdx("bench", SVC + "/UnaryCall", "-n", "200", "-c", "10",
                                         "-d", '{"responseSize": 10}', "-o", "json", timeout=60))
        r = t.json_lines(out)[0]
        self.assertEqual((r["count"], r["ok"], r["status"]), (200, 200, {"OK": 200}))
        lat = r["latency_ms"]
        self.assertTrue(0 < lat["min"] <= lat["p50"] <= lat["p99"] <= lat["max"], lat)
        # Failed calls are counted by status, and the run still exits 0.
        out = self.assert_ok(self.grpcdx("bench", SVC + "/UnaryCall", "-n", "200", "-c", "10",
                                         "-d", '{"responseStatus": {"code": 8, "message": "full"}}',
                                         "-o", "json", timeout=60))
        r = t.json_lines(out)[0]
        self.assertEqual((r["count"], r["ok"], r["status"]), (200, 0, {"RESOURCE_EXHAUSTED": 200}))

    def test_bench_bidi_stream(self):
        out = self.assert_ok(self.grpcdx("bench", SVC + "/FullDuplexCall", "-n", "200", "-c", "10",
                                         "-d", '{"responseParameters": [{"size": 4}]}', "-o", "json",
                                         timeout=60))
        r = t.json_lines(out)[0]
        self.assertEqual((r["count"], r["status"]), (200, {"OK": 200}))

    def test_channelz_and_a_stall_seen_from_the_server(self):
        t.check_channelz_peer(self, self.address)


class GoPeerFlagsTest(t.TestCase):
    """The peer's own flags: keepalive policy (for `conn`) and health."""

    def test_keepalive_flags_parse_and_the_peer_serves(self):
        with go_peer("-keepalive-min-time", "10s", "-keepalive-permit-without-stream",
                     "-max-connection-idle", "1m", "-max-connection-age", "1m30s",
                     "-max-connection-age-grace", "5s", "-keepalive-time", "1h",
                     "-keepalive-timeout", "5s") as address:
            out = self.assert_ok(t.run(["call", address, SVC + "/UnaryCall", "--plaintext", "-d",
                                        '{"responseSize": 2}']))
            self.assertEqual(t.parse_json_stream(out), [{"payload": {"body": b64_zeros(2)}}])

    def test_bad_flag_value_is_a_usage_error(self):
        proc = subprocess.run([peer_binary(), "-max-connection-age", "soon"], capture_output=True,
                              timeout=10, stdin=subprocess.DEVNULL)
        self.assertEqual(proc.returncode, 2)
        self.assertIn('invalid value "soon" for flag -max-connection-age', proc.stderr.decode())
        self.assertEqual(proc.stdout, b"")

    def test_whole_server_not_serving(self):
        with go_peer("-not-serving", "") as address:
            rc, out, err = t.run(["health", address, "--plaintext"])
            self.assertEqual((rc, out), (4, "NOT_SERVING\n"), err)
            rc, out, err = t.run(["probe", address, "--plaintext", "-o", "json"])
            verdict = t.json_lines(out)[0]["verdict"]
            self.assertEqual((rc, verdict["class"], verdict["exit_code"]), (42, "not_serving", 42), err)


if __name__ == "__main__":
    t.main()
