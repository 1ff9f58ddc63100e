# End-to-end tests of `grpcdx call`: every streaming kind, text and JSON output, request data
# from flags, files and stdin, metadata echo, --max-messages, over every schema source; TLS,
# --insecure and mutual TLS against `grpcdx serve`; rich error details from python3-grpcio.
import json
import os
import time

import grpcdx_test as t

SOURCES = t.SchemaSources()
SVC = "grpc.testing.TestService"
STATUS_KEYS = {"event", "code", "code_name", "message", "trailers", "elapsed_ms"}


def tearDownModule():
    SOURCES.close()


def call(source, method, *args, input=None):
    return t.run(SOURCES.command(source, "call", [SVC + "/" + method], args), input=input)


def messages(self, result):
    return t.parse_json_stream(self.assert_ok(result))


def case_empty_call(self, source):
    self.assertEqual(messages(self, call(source, "EmptyCall")), [{}])
    # METHOD may also be written pkg.Service.Method.
    rc, out, err = t.run(SOURCES.command(source, "call", [SVC + ".EmptyCall"], ["-d", "{}"]))
    self.assertEqual((rc, t.parse_json_stream(out)), (0, [{}]), err)


def case_unary_call(self, source):
    got = messages(self, call(source, "UnaryCall", "-d", '{"responseSize": 10}'))
    self.assertEqual(got, [{"payload": {"body": "AAAAAAAAAAAAAA=="}}])
    # Input accepts the .proto field names too.
    got = messages(self, call(source, "UnaryCall", "-d", '{"response_size": 3}'))
    self.assertEqual(got, [{"payload": {"body": "AAAA"}}])


def case_unary_status(self, source):
    rc, out, err = call(source, "UnaryCall", "-d",
                        '{"responseStatus": {"code": 14, "message": "msg"}}')
    self.assertEqual(rc, 78, err)
    self.assertEqual(err.strip(), "error: UNAVAILABLE (14): msg")
    self.assertEqual(out.strip(), "")


def case_server_streaming(self, source):
    data = '{"responseParameters": [{"size": 1}, {"size": 2}, {"size": 3}]}'
    got = messages(self, call(source, "StreamingOutputCall", "-d", data))
    self.assertEqual(got, [{"payload": {"body": "AA=="}}, {"payload": {"body": "AAA="}},
                           {"payload": {"body": "AAAA"}}])


def case_client_streaming(self, source):
    # Several messages, concatenated and one a line.
    data = '{"payload": {"body": "AAAA"}}{"payload": {"body": "AA=="}}\n{"payload": {"body": "AAAAAA=="}}\n'
    got = messages(self, call(source, "StreamingInputCall", "-d", data))
    self.assertEqual(got, [{"aggregatedPayloadSize": 3 + 1 + 4}])


def case_bidi_streaming(self, source):
    data = ('{"responseParameters": [{"size": 2}]}\n'
            '{"responseParameters": [{"size": 1}, {"size": 3}]}\n')
    got = messages(self, call(source, "FullDuplexCall", "-d", data))
    self.assertEqual(got, [{"payload": {"body": "AAA="}}, {"payload": {"body": "AA=="}},
                           {"payload": {"body": "AAAA"}}])


def case_json_events(self, source):
    out = self.assert_ok(call(source, "UnaryCall", "-d", '{"responseSize": 2}', "-o", "json"))
    events = t.json_lines(out)
    self.assertEqual([e["event"] for e in events], ["headers", "message", "status"])
    self.assertEqual(set(events[0].keys()), {"event", "metadata"})
    self.assertIsInstance(events[0]["metadata"], dict)
    for values in events[0]["metadata"].values():
        self.assertIsInstance(values, list)
    self.assertEqual(events[1], {"event": "message", "message": {"payload": {"body": "AAA="}}})
    status = events[2]
    self.assertEqual(set(status.keys()), STATUS_KEYS)
    self.assertEqual((status["code"], status["code_name"], status["message"]), (0, "OK", ""))
    self.assertIsInstance(status["trailers"], dict)
    self.assertIsInstance(status["elapsed_ms"], (int, float))
    self.assertGreaterEqual(status["elapsed_ms"], 0)
    # One object a line (json_lines parsed each line on its own).
    for line in out.splitlines():
        self.assertTrue(line.startswith("{") and line.endswith("}"), line)


def case_json_events_error(self, source):
    rc, out, err = call(source, "UnaryCall", "-d",
                        '{"responseStatus": {"code": 14, "message": "msg"}}', "-o", "json")
    self.assertEqual(rc, 78, err)
    events = t.json_lines(out)
    self.assertEqual(events[-1]["event"], "status")
    self.assertEqual(set(events[-1].keys()), STATUS_KEYS)
    self.assertEqual((events[-1]["code"], events[-1]["code_name"], events[-1]["message"]),
                     (14, "UNAVAILABLE", "msg"))
    self.assertNotIn("message", [e["event"] for e in events])


def case_json_events_streaming(self, source):
    data = '{"responseParameters": [{"size": 1}, {"size": 1}, {"size": 1}]}'
    events = t.json_lines(self.assert_ok(call(source, "StreamingOutputCall", "-d", data,
                                              "-o", "json")))
    self.assertEqual([e["event"] for e in events],
                     ["headers", "message", "message", "message", "status"])


def case_data_from_file(self, source):
    path = t.write_file("unary-%s.json" % source, '{"responseSize": 4}\n')
    got = messages(self, call(source, "UnaryCall", "-d", "@" + path))
    self.assertEqual(got, [{"payload": {"body": "AAAAAA=="}}])
    stream = t.write_file("stream-%s.json" % source,
                          '{"payload": {"body": "AAAA"}}\n{"payload": {"body": "AAAA"}}\n')
    got = messages(self, call(source, "StreamingInputCall", "-d", "@" + stream))
    self.assertEqual(got, [{"aggregatedPayloadSize": 6}])


def case_data_from_stdin(self, source):
    got = messages(self, call(source, "UnaryCall", "-d", "@-", input='{"responseSize": 1}'))
    self.assertEqual(got, [{"payload": {"body": "AA=="}}])
    got = messages(self, call(source, "StreamingInputCall", "-d", "@-",
                              input='{"payload": {"body": "AA=="}}\n' * 5))
    self.assertEqual(got, [{"aggregatedPayloadSize": 5}])


def case_max_messages(self, source):
    # Two messages at once, then 48 more 300 ms apart: the whole stream takes at least 14.4 s,
    # so a call that waited for it all cannot end within the 10 s below, however fast the
    # machine; one that stops after 2 ends in well under that, however loaded. (With 50 x 20 ms
    # the whole stream took a second: the ceiling could not tell waiting from stopping.)
    data = json.dumps({"responseParameters": [{"size": 1}] * 2 + [{"size": 1, "intervalUs": 300000}] * 48})
    started = time.monotonic()
    rc, out, err = call(source, "StreamingOutputCall", "-d", data, "--max-messages", "2")
    self.assertEqual(rc, 0, err)
    t.TestCase.assert_clean_stderr(self, err)
    self.assertEqual(t.parse_json_stream(out), [{"payload": {"body": "AA=="}}] * 2)
    self.assertLess(time.monotonic() - started, 10)

    rc, out, err = call(source, "FullDuplexCall", "-d", '{"responseParameters": [{"size": 1}]}\n' * 4,
                        "--max-messages", "3", "-o", "json")
    self.assertEqual(rc, 0, err)
    events = t.json_lines(out)
    self.assertEqual([e["event"] for e in events].count("message"), 3)


def case_metadata_echo_json(self, source):
    rc, out, err = call(source, "EmptyCall", "-o", "json",
                        "-H", "x-grpc-test-echo-initial: hello",
                        "-H", "x-grpc-test-echo-trailing-bin: AAEC")
    self.assertEqual(rc, 0, err)
    events = t.json_lines(out)
    self.assertEqual(events[0]["event"], "headers")
    self.assertEqual(events[0]["metadata"].get("x-grpc-test-echo-initial"), ["hello"])
    self.assertEqual(events[-1]["trailers"].get("x-grpc-test-echo-trailing-bin"), ["AAEC"])


def case_metadata_echo_verbose(self, source):
    rc, out, err = call(source, "EmptyCall", "-v", "-H", "x-grpc-test-echo-initial: hello-verbose")
    self.assertEqual(rc, 0, err)
    self.assertIn("x-grpc-test-echo-initial", out + err)
    self.assertIn("hello-verbose", out + err)
    # Without -v, headers are not shown.
    rc, out, err = call(source, "EmptyCall", "-H", "x-grpc-test-echo-initial: hello-verbose")
    self.assertEqual(rc, 0, err)
    self.assertNotIn("hello-verbose", out + err)


class Call(t.TestCase):
    pass


t.add_matrix(Call, {
    "empty_call": case_empty_call,
    "unary_call": case_unary_call,
    "unary_status": case_unary_status,
    "server_streaming": case_server_streaming,
    "client_streaming": case_client_streaming,
    "bidi_streaming": case_bidi_streaming,
    "json_events": case_json_events,
    "json_events_error": case_json_events_error,
    "json_events_streaming": case_json_events_streaming,
    "data_from_file": case_data_from_file,
    "data_from_stdin": case_data_from_stdin,
    "max_messages": case_max_messages,
    "metadata_echo_json": case_metadata_echo_json,
    "metadata_echo_verbose": case_metadata_echo_verbose,
})


class CallErrorDetails(t.TestCase):
    """Rich error details (google.rpc.Status in grpc-status-details-bin) from python3-grpcio: the
    standard google.rpc types, a type only the server's reflection describes, and one nobody does."""

    FAIL = '{"responseStatus": {"code": 9, "message": "no stock"}}'
    DETAILS = [
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "STOCK_EMPTY", "domain": "shop.example",
         "metadata": {"sku": "A-1"}},
        {"@type": "type.googleapis.com/google.rpc.BadRequest",
         "fieldViolations": [{"field": "quantity", "description": "must be positive"}]},
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.500s"},
        {"@type": "type.googleapis.com/grpc.testing.SimpleRequest", "responseSize": 7},
        {"@type": "type.googleapis.com/example.v1.Unknown", "value": "CAE="},
    ]

    @classmethod
    def setUpClass(cls):
        cls.server = t.python_server()
        cls.address = cls.server.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def fail(self, *flags, rich="1"):
        return t.run(["call", self.address, SVC + "/UnaryCall", "--plaintext", "-d", self.FAIL,
                      "-H", "x-rich-details: " + rich] + list(flags))

    def test_text_prints_a_detail_line_each_before_the_error(self):
        rc, out, err = self.fail()
        self.assertEqual(rc, 64 + 9, err)
        self.assertEqual(out, "")
        self.assertEqual(err.splitlines(), [
            'detail: google.rpc.ErrorInfo {"reason":"STOCK_EMPTY","domain":"shop.example","metadata":{"sku":"A-1"}}',
            'detail: google.rpc.BadRequest {"fieldViolations":[{"field":"quantity","description":"must be positive"}]}',
            'detail: google.rpc.RetryInfo {"retryDelay":"1.500s"}',
            'detail: grpc.testing.SimpleRequest {"responseSize":7}',
            "detail: example.v1.Unknown (undecoded, base64) CAE=",
            "error: FAILED_PRECONDITION (9): no stock",
        ])
        # With -v they follow the Status line, before the timings.
        rc, _, err = self.fail("-v")
        self.assertEqual(rc, 64 + 9, err)
        lines = err.splitlines()
        status = lines.index("Status: FAILED_PRECONDITION (9): no stock")
        self.assertTrue(lines[status + 1].startswith("detail: google.rpc.ErrorInfo "), err)
        self.assertTrue(lines[status + 6].startswith("Timing:"), err)

    def test_json_status_event_lists_the_details(self):
        rc, out, err = self.fail("-o", "json")
        self.assertEqual(rc, 64 + 9, err)
        status = t.json_lines(out)[-1]
        self.assertEqual(list(status), ["event", "code", "code_name", "message", "details", "trailers",
                                        "elapsed_ms"])
        self.assertEqual(status["details"], self.DETAILS)
        # The trailer itself is still there, as every -bin trailer is: base64.
        self.assertEqual(len(status["trailers"]["grpc-status-details-bin"]), 1)
        # --proto-names applies to the details as to messages.
        rc, out, err = self.fail("-o", "json", "--proto-names")
        self.assertEqual(t.json_lines(out)[-1]["details"][1]["field_violations"][0]["field"], "quantity", err)

    def test_no_details_no_key(self):
        rc, out, err = t.run(["call", self.address, SVC + "/UnaryCall", "--plaintext", "-d", self.FAIL,
                              "-o", "json"])
        self.assertEqual(rc, 64 + 9, err)
        self.assertNotIn("details", t.json_lines(out)[-1])
        self.assertEqual(err.splitlines(), ["error: FAILED_PRECONDITION (9): no stock"])

    def test_malformed_details_are_named_not_fatal(self):
        rc, out, err = self.fail(rich="malformed")
        self.assertEqual(rc, 64 + 9, err)
        self.assertEqual(err.splitlines(), [
            "detail: grpc-status-details-bin (7 bytes) is not a google.rpc.Status",
            "error: FAILED_PRECONDITION (9): no stock",
        ])
        rc, out, err = self.fail("-o", "json", rich="malformed")
        self.assertEqual(rc, 64 + 9, err)
        self.assertNotIn("details", t.json_lines(out)[-1])
        # A string field that is not UTF-8: undecoded, and no log line of protobuf's on stderr.
        rc, out, err = self.fail(rich="bad-utf8")
        self.assertEqual(rc, 64 + 9, err)
        self.assertEqual(err.splitlines(), [
            "detail: google.rpc.ErrorInfo (undecoded, base64) CgL//g==",
            "error: FAILED_PRECONDITION (9): no stock",
        ])

    def test_the_chaos_proxy_passes_the_details_through(self):
        with t.chaos(self.address) as proxy:
            rc, out, err = t.run(["call", proxy.address, SVC + "/UnaryCall", "--plaintext", "-d", self.FAIL,
                                  "-H", "x-rich-details: 1", "-o", "json"])
            self.assertEqual(rc, 64 + 9, err)
            status = t.json_lines(out)[-1]
            self.assertEqual(status["details"], self.DETAILS)
            # Once, not once from the trailers and again from the status the proxy finishes with.
            self.assertEqual(len(status["trailers"]["grpc-status-details-bin"]), 1)

    def test_replay_shows_the_details_too(self):
        path = t.write_file("rich.replay", json.dumps({"t_ms": 0, "dir": "send", "message": json.loads(self.FAIL)})
                            + "\n")
        rc, out, err = t.run(["replay", self.address, SVC + "/UnaryCall", "--plaintext", "--in", path,
                              "-H", "x-rich-details: 1", "-o", "json"])
        self.assertEqual(rc, 64 + 9, err)
        status = [e for e in t.json_lines(out) if e.get("event") == "status"][-1]
        self.assertEqual(status["details"], self.DETAILS)


class RpcAndReflectHeaders(t.TestCase):
    """-H goes on every request; --rpc-header only on the call, --reflect-header only on reflection.
    A chaos proxy tells which requests carried a header: it aborts reflection when `x-where`
    reached it, and the call when `x-where` reached that."""

    def run_through(self, *flags):
        with t.serve() as server, t.chaos(
                server,
                "--fault", "abort=PERMISSION_DENIED,message=header on reflection,method=grpc.reflection.*/*,"
                           "header=x-where:*",
                "--fault", "abort=FAILED_PRECONDITION,message=header on the call,method=%s/*,header=x-where:*" % SVC
        ) as proxy:
            return t.run(["call", proxy.address, SVC + "/EmptyCall", "--plaintext"] + list(flags))

    def test_where_each_kind_of_header_goes(self):
        # -H: on reflection (the first request), which fails.
        self.assert_fails(self.run_through("-H", "x-where: both"), 64 + 7, "header on reflection")
        # --rpc-header: reflection passes, the call carries it.
        self.assert_fails(self.run_through("--rpc-header", "x-where: rpc"), 64 + 9, "header on the call")
        # --reflect-header: on reflection only.
        self.assert_fails(self.run_through("--reflect-header", "x-where: reflection"), 64 + 7,
                          "header on reflection")
        # Neither: the call goes through.
        self.assertEqual(json.loads(self.assert_ok(self.run_through())), {})

    def test_verbose_and_record_show_the_calls_metadata(self):
        path = os.path.join(t.tmpdir(), "headers.replay")
        with t.serve() as server:
            rc, out, err = t.run(["call", server, SVC + "/EmptyCall", "--plaintext", "-v", "-H", "x-a: 1",
                                  "--rpc-header", "x-b: 2", "--reflect-header", "x-c: 3", "--record", path])
        self.assertEqual(rc, 0, err)
        self.assertIn("Request metadata:\n  x-a: 1\n  x-b: 2\n", err)
        self.assertNotIn("x-c", err)
        with open(path) as f:
            first = json.loads(f.readline())
        self.assertEqual(first.get("metadata"), {"x-a": ["1"], "x-b": ["2"]})

    def test_chaos_adds_rpc_headers_to_what_it_sends_upstream(self):
        # The built-in server echoes the first value of x-grpc-test-echo-initial.
        with t.serve() as server, t.chaos(server, "--rpc-header", "x-grpc-test-echo-initial: rpc") as proxy:
            rc, out, err = t.run(["call", proxy.address, SVC + "/EmptyCall", "--plaintext", "-o", "json"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(t.json_lines(out)[0]["metadata"].get("x-grpc-test-echo-initial"), ["rpc"])

    def test_a_malformed_one_is_a_usage_error(self):
        self.assert_fails(t.run(["call", "127.0.0.1:1", SVC + "/EmptyCall", "--plaintext", "--rpc-header",
                                 "novalue"]), 2, "novalue")


class CallOverTls(t.TestCase):
    """TLS, --insecure and mutual TLS against `grpcdx serve --tls-cert/--tls-key [--client-ca]`."""

    def tls_call(self, addr, *flags):
        return t.run(["call", addr, SVC + "/UnaryCall", "-d", '{"responseSize": 1}'] + list(flags))

    def test_tls(self):
        c = t.certs()
        with t.serve("--tls-cert", c.server_cert, "--tls-key", c.server_key) as addr:
            with self.subTest("--cacert"):
                out = self.assert_ok(self.tls_call(addr, "--cacert", c.ca_cert))
                self.assertEqual(t.parse_json_stream(out), [{"payload": {"body": "AA=="}}])
            with self.subTest("--insecure"):
                self.assert_ok(self.tls_call(addr, "--insecure"))
            with self.subTest("--servername localhost"):
                self.assert_ok(self.tls_call(addr, "--cacert", c.ca_cert, "--servername", "localhost"))
            with self.subTest("untrusted CA"):
                self.assert_fails(self.tls_call(addr, "--cacert", c.other_ca_cert), 78,
                                  "UNAVAILABLE")
            with self.subTest("system roots"):
                self.assert_fails(self.tls_call(addr), 78, "UNAVAILABLE")
            with self.subTest("plaintext to a TLS server"):
                self.assert_fails(self.tls_call(addr, "--plaintext"), 78, "UNAVAILABLE")

    def test_mutual_tls(self):
        c = t.certs()
        with t.serve("--tls-cert", c.server_cert, "--tls-key", c.server_key,
                     "--client-ca", c.ca_cert) as addr:
            with self.subTest("with a client certificate"):
                self.assert_ok(self.tls_call(addr, "--cacert", c.ca_cert, "--cert", c.client_cert,
                                             "--key", c.client_key))
            with self.subTest("without a client certificate"):
                self.assert_fails(self.tls_call(addr, "--cacert", c.ca_cert), 78, "UNAVAILABLE")


if __name__ == "__main__":
    t.main()
