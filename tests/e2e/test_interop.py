# `grpcdx interop`: every case passes against the built-in server and against a server written
# with python3-grpcio; --cases selects; failures say what was expected and what came back.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpcdx_test as t  # noqa: E402

ALL_CASES = ["empty_unary", "large_unary", "client_streaming", "server_streaming", "ping_pong",
             "empty_stream", "timeout_on_sleeping_server", "cancel_after_begin",
             "cancel_after_first_response", "status_code_and_message", "special_status_message",
             "unimplemented_method", "unimplemented_service", "custom_metadata"]


class InteropTest(t.TestCase):
    def test_all_cases_pass_against_grpcdx_serve(self):
        with t.serve() as address:
            out = self.assert_ok(t.run(["interop", address, "--plaintext", "-o", "json"], timeout=60))
        report = t.json_lines(out)[0]
        self.assertEqual([c["name"] for c in report["cases"]], ALL_CASES)
        self.assertEqual(report["passed"], 14)
        self.assertEqual(report["failed"], 0)
        for case in report["cases"]:
            self.assertEqual(set(case), {"name", "passed", "ms", "error"})
            self.assertTrue(case["passed"], case)
            self.assertEqual(case["error"], "")
            self.assertGreaterEqual(case["ms"], 0)

    def test_text_table(self):
        with t.serve() as address:
            out = self.assert_ok(t.run(["interop", address, "--plaintext"], timeout=60))
        for name in ALL_CASES:
            self.assertRegex(out, r"PASS  %s\s+[\d.]+ ms" % name)
        self.assertIn("14 passed, 0 failed", out)

    def test_tls(self):
        certs = t.certs()
        with t.serve("--tls-cert", certs.server_cert, "--tls-key", certs.server_key) as address:
            self.assert_ok(t.run(["interop", address, "--cacert", certs.ca_cert, "--cases",
                                  "large_unary,ping_pong"], timeout=60))

    def test_python_server(self):
        # A second gRPC implementation: the cases it implements must pass here too.
        cases = "empty_unary,large_unary,client_streaming,server_streaming,ping_pong,empty_stream," \
                "status_code_and_message,special_status_message,unimplemented_service,custom_metadata"
        with t.python_server() as address:
            out = self.assert_ok(t.run(["interop", address, "--plaintext", "--cases", cases, "-o", "json"],
                                       timeout=60))
        report = t.json_lines(out)[0]
        self.assertEqual(report["failed"], 0, report)
        self.assertEqual(report["passed"], len(cases.split(",")))

    def test_cases_selects_and_keeps_order(self):
        with t.serve() as address:
            out = self.assert_ok(t.run(["interop", address, "--plaintext", "--cases",
                                        "ping_pong,empty_unary", "-o", "json"]))
        self.assertEqual([c["name"] for c in t.json_lines(out)[0]["cases"]], ["ping_pong", "empty_unary"])

    def test_unknown_case_is_a_usage_error(self):
        self.assert_fails(t.run(["interop", "127.0.0.1:1", "--plaintext", "--cases", "empty_unary,nope"]), 2,
                          ["unknown interop case 'nope'", "known cases: empty_unary"])

    def test_all_cases_pass_through_a_transparent_chaos_proxy(self):
        with t.serve() as upstream, t.chaos(upstream) as proxy:
            out = self.assert_ok(t.run(["interop", proxy.address, "--plaintext", "-o", "json"], timeout=60))
        report = t.json_lines(out)[0]
        self.assertEqual(report["failed"], 0, [c for c in report["cases"] if not c["passed"]])
        self.assertEqual(report["passed"], 14)

    def test_faults_fail_the_right_cases_with_reasons(self):
        faults = ["--fault", "abort=UNAVAILABLE,message=injected,method=grpc.testing.TestService/EmptyCall",
                  "--fault", "cancel,after=2,method=grpc.testing.TestService/StreamingOutputCall",
                  "--fault", "delay=3s,method=grpc.testing.TestService/StreamingInputCall"]
        with t.serve() as upstream, t.chaos(upstream, *faults) as proxy:
            rc, out, err = t.run(["interop", proxy.address, "--plaintext", "--timeout", "1s", "-o", "json"],
                                 timeout=60)
        self.assertEqual(rc, 1, out + err)
        report = t.json_lines(out)[0]
        cases = {c["name"]: c for c in report["cases"]}
        self.assertEqual(cases["empty_unary"]["error"], "expected status OK (0), got UNAVAILABLE (14): injected")
        self.assertIn("got CANCELLED (1)", cases["server_streaming"]["error"])
        self.assertIn("expected status OK (0), got DEADLINE_EXCEEDED (4)", cases["client_streaming"]["error"])
        broken = {"empty_unary", "server_streaming", "client_streaming"}
        for name, case in cases.items():
            if name in broken:
                self.assertFalse(case["passed"], name)
            elif name != "cancel_after_begin":  # a delayed StreamingInputCall still ends CANCELLED
                self.assertTrue(case["passed"], case)
        self.assertEqual(report["failed"], len(broken))

    def test_unreachable_server_fails_every_case(self):
        rc, out, err = t.run(["interop", "127.0.0.1:%d" % t.free_port(), "--plaintext", "--cases",
                              "empty_unary,large_unary", "-o", "json"], timeout=30)
        self.assertEqual(rc, 1, out + err)
        report = t.json_lines(out)[0]
        self.assertEqual(report["failed"], 2)
        for case in report["cases"]:
            self.assertIn("expected status OK (0), got UNAVAILABLE (14)", case["error"])

    def test_wrong_answers_fail_with_reasons(self):
        # A server (python3-grpcio, in this process) that answers TestService calls wrongly.
        import grpc
        from concurrent import futures

        def unary(request, context):
            return b""  # an empty SimpleResponse: no payload at all

        def streaming_output(request, context):
            yield b"\x0a\x03\x12\x01\x00"  # one response of 1 byte instead of four

        def status_unary(request, context):
            context.abort(grpc.StatusCode.INTERNAL, "not what was asked")

        class Handler(grpc.GenericRpcHandler):
            def service(self, details):
                if details.method == "/grpc.testing.TestService/UnaryCall":
                    return grpc.unary_unary_rpc_method_handler(unary)
                if details.method == "/grpc.testing.TestService/StreamingOutputCall":
                    return grpc.unary_stream_rpc_method_handler(streaming_output)
                if details.method == "/grpc.testing.TestService/EmptyCall":
                    return grpc.unary_unary_rpc_method_handler(status_unary)
                return None

        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        server.add_generic_rpc_handlers((Handler(),))
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        try:
            rc, out, err = t.run(["interop", "127.0.0.1:%d" % port, "--plaintext", "--cases",
                                  "large_unary,server_streaming,empty_unary,status_code_and_message", "-o", "json"],
                                 timeout=30)
        finally:
            server.stop(0)
        self.assertEqual(rc, 1, out + err)
        cases = {c["name"]: c for c in t.json_lines(out)[0]["cases"]}
        self.assertEqual(cases["large_unary"]["error"], "response: expected a payload of 314159 bytes, got 0")
        self.assertEqual(cases["server_streaming"]["error"], "expected 4 responses, got 1")
        self.assertEqual(cases["empty_unary"]["error"], "expected status OK (0), got INTERNAL (13): not what was asked")
        self.assertEqual(cases["status_code_and_message"]["error"],
                         "UnaryCall: expected status UNKNOWN (2), got OK (0)")
        self.assertFalse(any(c["passed"] for c in cases.values()))


if __name__ == "__main__":
    t.main()
