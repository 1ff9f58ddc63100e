#!/usr/bin/python3
"""End-to-end: what grpcurl, ghz and grpc_health_probe users type in their first minute.
--timeout and --max-time against a black-holed server (chaos --tcp --fault blackhole),
user-agent, --expand-headers, --format text, describe without a symbol and --msg-template,
--use-reflection, single-dash flags, grpcurl's argument order, --version, health's hints and
timings, and bench's arrays of messages and ghz's template functions."""
import contextlib
import json
import os
import re
import subprocess
import time

import grpcdx_test as t

SVC = "grpc.testing.TestService"
SHOP = os.path.join(os.environ.get("GRPCDX_TESTDATA", os.path.join(t.REPO, "testdata")), "protos")
_stack = contextlib.ExitStack()
_address = None


def setUpModule():
    global _address
    _address = _stack.enter_context(t.serve())


def tearDownModule():
    _stack.close()


@contextlib.contextmanager
def blackhole():
    """A TCP proxy that accepts connections and never forwards a byte: a server that accepts TCP
    and never speaks HTTP/2."""
    argv = [t.binary(), "chaos", "--tcp", "--listen", "127.0.0.1:0", "--target", _address, "--fault", "blackhole"]
    with t._server(argv, "chaos --tcp --fault blackhole") as address:
        yield address


class Deadlines(t.TestCase):
    def test_timeout_bounds_connecting(self):
        # Without the bound these wait for --connect-timeout (60 s here); the RPC deadline wins.
        # The ceiling sits far from both, so a loaded machine cannot fail it.
        with blackhole() as hole:
            for args in (["call", hole, SVC + "/EmptyCall"], ["health", hole]):
                start = time.monotonic()
                rc, out, err = t.run(args + ["--plaintext", "--timeout", "1s", "--connect-timeout", "60s"])
                elapsed = time.monotonic() - start
                self.assertEqual(rc, 68, (args, err))
                self.assert_error_line(err, "within the --timeout of 1s")
                self.assertGreaterEqual(elapsed, 1.0)
                self.assertLess(elapsed, 30.0, "the 60 s connect timeout decided, not --timeout")

    def test_max_time_names_the_step(self):
        with blackhole() as hole:
            for command in (["list", hole], ["describe", hole], ["call", hole, SVC + "/EmptyCall"],
                            ["health", hole], ["interop", hole, "--cases", "empty_unary"]):
                start = time.monotonic()
                rc, out, err = t.run(command + ["--plaintext", "--max-time", "700ms", "--connect-timeout", "60s"])
                elapsed = time.monotonic() - start
                self.assertEqual(rc, 68, (command, err))
                self.assert_error_line(err, "--max-time 700ms reached while connecting to " + hole)
                self.assertGreaterEqual(elapsed, 0.7)
                self.assertLess(elapsed, 30.0, "the 60 s connect timeout decided, not --max-time")

    def test_max_time_during_a_call(self):
        # A stream whose server pauses 5 s before its second message: --max-time ends it.
        data = json.dumps({"responseParameters": [{"size": 1}, {"size": 1, "intervalUs": 5000000}]})
        rc, out, err = t.run(["call", _address, SVC + "/StreamingOutputCall", "--plaintext", "-d", data,
                              "--max-time", "1s"])
        self.assertEqual(rc, 68, err)
        self.assert_error_line(err, "--max-time 1s reached while calling /grpc.testing.TestService/StreamingOutputCall")
        self.assertIn('"payload"', out)  # the first message was printed before the bound fired

    def test_bad_max_time(self):
        self.assert_fails(t.run(["list", _address, "--plaintext", "--max-time", "soon"]), 2)
        self.assert_fails(t.run(["list", _address, "--plaintext", "--max-time", "0s"]), 2, "--max-time")


class Headers(t.TestCase):
    def test_user_agent_reaches_the_server(self):
        # A fault that matches the user-agent fires only when the user-agent was really sent.
        chaos = t.Chaos(_address, "--fault", "abort=UNAVAILABLE,header=user-agent:foo/1 *")
        try:
            for flags in (["-H", "user-agent: foo/1"], ["--user-agent", "foo/1"]):
                rc, out, err = t.run(["call", chaos.address, SVC + "/EmptyCall", "--plaintext"] + flags)
                self.assertEqual(rc, 78, (flags, err))
            self.assert_ok(t.run(["call", chaos.address, SVC + "/EmptyCall", "--plaintext"]))
            rc, out, err = t.run(["call", _address, SVC + "/EmptyCall", "--plaintext", "--user-agent", "foo/1", "-v"])
            self.assertEqual(rc, 0, err)
            self.assertRegex(err, r"user-agent: foo/1 grpc-c\+\+/")
        finally:
            counters = chaos.counters(self)
        self.assertEqual(counters["faults"][0]["injected"], 2)

    def test_expand_headers(self):
        args = ["call", _address, SVC + "/EmptyCall", "--plaintext", "-o", "json", "--expand-headers",
                "-H", "x-grpc-test-echo-initial: v=${GRPCDX_E2E_TOKEN}"]
        rc, out, err = t.run(args, env={"GRPCDX_E2E_TOKEN": "s3cret"})
        self.assertEqual(rc, 0, err)
        headers = t.events(out, "headers")[0]["metadata"]
        self.assertEqual(headers["x-grpc-test-echo-initial"], ["v=s3cret"])
        # Without --expand-headers the text goes as typed.
        rc, out, err = t.run(args[:6] + args[7:], env={"GRPCDX_E2E_TOKEN": "s3cret"})
        self.assertEqual(t.events(out, "headers")[0]["metadata"]["x-grpc-test-echo-initial"], ["v=${GRPCDX_E2E_TOKEN}"])
        self.assertNotIn("GRPCDX_E2E_TOKEN", os.environ)
        self.assert_fails(t.run(args), 2, "GRPCDX_E2E_TOKEN")


class TextFormat(t.TestCase):
    def test_unary_in_and_out(self):
        rc, out, err = t.run(["call", _address, SVC + "/UnaryCall", "--plaintext", "--format", "text",
                              "-d", 'response_size: 2 fill_username: false'])
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), 'payload {\n  body: "\\000\\000"\n}')

    def test_client_stream_separated_by_record_separators(self):
        rc, out, err = t.run(["call", _address, SVC + "/StreamingInputCall", "--plaintext", "--format", "text",
                              "-d", "@-"], input='payload { body: "abc" }\x1e\npayload { body: "abcd" }\n')
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), "aggregated_payload_size: 7")

    def test_json_events_keep_json(self):
        rc, out, err = t.run(["call", _address, SVC + "/UnaryCall", "--plaintext", "--format", "text",
                              "-d", "response_size: 1", "-o", "json"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(t.events(out, "message")[0]["message"], {"payload": {"body": "AA=="}})

    def test_bad_text(self):
        self.assert_fails(t.run(["call", _address, SVC + "/UnaryCall", "--plaintext", "--format", "text",
                                 "-d", "response_size: x"]), 1, "invalid text format for grpc.testing.SimpleRequest: 1:16")
        self.assert_fails(t.run(["call", _address, SVC + "/UnaryCall", "--plaintext", "--format", "yaml"]), 2)


class Describe(t.TestCase):
    def test_without_symbol_describes_every_service(self):
        rc, out, err = t.run(["describe", _address, "--plaintext"])
        self.assertEqual(rc, 0, err)
        for service in ("grpc.health.v1.Health", "grpc.testing.TestService", "grpc.reflection.v1.ServerReflection"):
            self.assertIn("// %s is a service" % service, out)
        rc, out, err = t.run(["describe", _address, "--plaintext", "-o", "json"])
        self.assertEqual(rc, 0, err)
        symbols = [e["symbol"] for e in t.json_lines(out)]
        self.assertEqual(symbols, sorted(symbols))
        self.assertIn("grpc.testing.TestService", symbols)

    def test_msg_template_round_trips_through_call(self):
        rc, out, err = t.run(["describe", _address, "--plaintext", "grpc.testing.SimpleRequest", "--msg-template",
                              "-o", "json"])
        self.assertEqual(rc, 0, err)
        template = json.loads(out)["template"]
        self.assertEqual(template["responseType"], "COMPRESSABLE")
        self.assertIn("payload", template)
        rc, out, err = t.run(["describe", _address, "--plaintext", "grpc.testing.SimpleRequest", "--msg-template"])
        self.assertEqual(rc, 0, err)
        self.assertIn("Message template:\n{", out)
        # The template is a valid request as it stands.
        rc, out, err = t.run(["call", _address, SVC + "/UnaryCall", "--plaintext", "-d", json.dumps(template)])
        self.assertEqual(rc, 0, err)

    def test_msg_template_needs_a_message(self):
        self.assert_fails(t.run(["describe", _address, "--plaintext", SVC, "--msg-template"]), 2, "--msg-template")


class UseReflection(t.TestCase):
    PROTO = ["--proto", "shop/v1/shop.proto", "-I", SHOP]

    def test_files_first_then_reflection(self):
        # shop.proto lacks TestService: only reflection has it.
        self.assert_fails(t.run(["call", _address, SVC + "/EmptyCall", "--plaintext"] + self.PROTO), 1, SVC)
        self.assert_ok(t.run(["call", _address, SVC + "/EmptyCall", "--plaintext", "--use-reflection"] + self.PROTO))
        rc, out, err = t.run(["list", _address, "--plaintext", "--use-reflection"] + self.PROTO)
        self.assertEqual(rc, 0, err)
        services = out.split()
        self.assertIn(SVC, services)
        self.assertTrue(any(s.startswith("shop.v1.") for s in services), services)
        self.assertEqual(services, sorted(services))

    def test_use_reflection_alone_is_a_usage_error(self):
        self.assert_fails(t.run(["list", _address, "--plaintext", "--use-reflection"]), 2, "--use-reflection")


class GrpcurlHabits(t.TestCase):
    def test_single_dash_long_flags(self):
        rc, out, err = t.run(["list", "-plaintext", _address])
        self.assertEqual(rc, 2)
        self.assert_error_line(err, "did you mean --plaintext?")
        rc, out, err = t.run(["call", _address, SVC + "/EmptyCall", "--plaintext", "-max-time", "1s"])
        self.assertEqual(rc, 2)
        self.assert_error_line(err, "did you mean --max-time?")

    def test_grpcurl_order(self):
        rc, out, err = t.run(["-plaintext", _address, "list"])
        self.assertEqual(rc, 2)
        self.assert_error_line(err, "the command comes first: grpcdx list --plaintext " + _address)
        # The line it suggests works.
        self.assert_ok(t.run(["list", "--plaintext", _address]))

    def test_version_flag(self):
        rc, out, err = t.run(["--version"])
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"^grpcdx \S+\ngrpc \S+\nprotobuf \S+\n$")


class Health(t.TestCase):
    def test_plaintext_server_without_plaintext_gets_a_hint(self):
        rc, out, err = t.run(["health", _address])
        self.assertEqual(rc, 78)
        self.assert_error_line(err, "try --plaintext")

    def test_verbose_prints_timings(self):
        rc, out, err = t.run(["health", _address, "--plaintext", "-v"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), "SERVING")
        self.assertRegex(err, r"Timing: connect [0-9.]+ms, check [0-9.]+ms, total [0-9.]+ms")


class BenchInput(t.TestCase):
    def bench(self, data, *extra):
        rc, out, err = t.run(["bench", _address, SVC + "/UnaryCall", "--plaintext", "-n", "10", "-c", "1",
                              "-o", "json", "-d", data] + list(extra), timeout=60)
        self.assertEqual(rc, 0, err)
        return json.loads(out)

    def test_array_of_messages_round_robin(self):
        report = self.bench('[{"responseStatus": {"code": 3}}, {}]')
        self.assertEqual(report["status"], {"OK": 5, "INVALID_ARGUMENT": 5})

    def test_template_functions(self):
        report = self.bench('{"responseStatus": {"code": {{randomInt 3 4}}, "message": "{{.MethodName}} '
                            '{{randomString 8}} {{newUUID}} {{.TimestampUnix}}"}}')
        self.assertEqual(report["status"], {"INVALID_ARGUMENT": 10})
        report = self.bench('{"responseSize": {{randomInt 0 5}}, "payload": {"body": "{{randomString 4}}"}}')
        self.assertEqual(report["status"], {"OK": 10})

    def test_bad_template(self):
        self.assert_fails(t.run(["bench", _address, SVC + "/UnaryCall", "--plaintext", "-n", "1",
                                 "-d", '{"responseSize": {{randomInt 5 1}}}']), 1, "randomInt takes MIN and MAX")
        # k6 scripts carry only the four original placeholders: another one is named, not emitted.
        self.assert_fails(t.run(["bench", _address, SVC + "/UnaryCall", "--plaintext", "--emit", "k6",
                                 "-d", '{"responseSize": {{randomInt 1 5}}}']), 1,
                          "--emit k6: the template {{randomInt 1 5}} has no k6 equivalent")


if __name__ == "__main__":
    t.main()
