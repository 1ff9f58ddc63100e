# End-to-end tests of `grpcdx chaos`: transparency for every streaming kind (messages, headers,
# trailers, statuses, 4 MB messages, TLS), each fault kind as a client sees it, matching keys,
# seeds, limits, --max-active, header faults, counters, graceful stop, --emit and bad input.
import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpcdx_test as t  # noqa: E402

SVC = "grpc.testing.TestService"
ECHO = ["-H", "x-grpc-test-echo-initial: hello", "-H", "x-grpc-test-echo-trailing-bin: AAEC"]


Chaos = t.Chaos
chaos = t.chaos


def call(address, method, *args, timeout=60):
    return t.run(["call", address, SVC + "/" + method, "--plaintext", "--proto", "grpc/testing/test.proto",
                  "-I", t.GRPC_PROTO_DIR] + list(args), timeout=timeout)


def events_without_timing(out):
    events = t.json_lines(out)
    for e in events:
        e.pop("elapsed_ms", None)
    return events


def messages_of(out):
    return [e for e in t.json_lines(out) if e["event"] == "message"]


def status_of(out):
    return [e for e in t.json_lines(out) if e["event"] == "status"][-1]


def grpcio_trailer(address, key):
    """The trailer `key` of a failed EmptyCall made with python3-grpcio (a client that is not
    grpcdx's), as bytes."""
    import grpc
    with grpc.insecure_channel(address) as channel:
        empty = channel.unary_unary("/%s/EmptyCall" % SVC, request_serializer=lambda b: b,
                                    response_deserializer=lambda b: b)
        try:
            empty(b"", timeout=10)
        except grpc.RpcError as e:
            for k, v in e.trailing_metadata() or ():
                if k == key:
                    return v
        return None


STREAM5 = json.dumps({"responseParameters": [{"size": 3, "intervalUs": 20000}] * 5})


class TransparencyTest(t.TestCase):
    """With no faults the proxy is invisible: same events, direct and through the proxy."""

    @classmethod
    def setUpClass(cls):
        cls.stack = contextlib.ExitStack()
        cls.server = cls.stack.enter_context(t.serve())
        cls.proxy = cls.stack.enter_context(chaos(cls.server))

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def same(self, method, *args, expect_rc=0):
        direct = call(self.server, method, "-o", "json", *args)
        proxied = call(self.proxy.address, method, "-o", "json", *args)
        self.assertEqual(direct[0], expect_rc, direct[2])
        self.assertEqual(proxied[0], expect_rc, proxied[2])
        self.assertEqual(events_without_timing(proxied[1]), events_without_timing(direct[1]))
        return events_without_timing(proxied[1])

    def test_unary_with_metadata(self):
        events = self.same("UnaryCall", "-d", '{"responseSize": 10}', *ECHO)
        self.assertEqual(events[0]["metadata"].get("x-grpc-test-echo-initial"), ["hello"])
        self.assertEqual(events[-1]["trailers"].get("x-grpc-test-echo-trailing-bin"), ["AAEC"])

    def test_large_unary_4mb(self):
        events = self.same("UnaryCall", "-d", '{"responseSize": 4194304}', "--max-msg-size", "0")
        message = [e for e in events if e["event"] == "message"][0]["message"]
        body = base64.b64decode(message["payload"]["body"])
        self.assertEqual(len(body), 4194304)

    def test_server_streaming(self):
        events = self.same("StreamingOutputCall", "-d",
                           '{"responseParameters": [{"size": 1}, {"size": 2}, {"size": 3}]}', *ECHO)
        self.assertEqual([e["event"] for e in events].count("message"), 3)

    def test_client_streaming(self):
        data = '{"payload": {"body": "AAAA"}}\n{"payload": {"body": "AAAAAA=="}}\n'
        events = self.same("StreamingInputCall", "-d", data, *ECHO)
        self.assertEqual(events[-2]["message"], {"aggregatedPayloadSize": 7})

    def test_bidi_streaming(self):
        data = '{"responseParameters": [{"size": 2}]}\n{"responseParameters": [{"size": 1}, {"size": 3}]}\n'
        events = self.same("FullDuplexCall", "-d", data, *ECHO)
        self.assertEqual([e["event"] for e in events].count("message"), 3)

    def test_error_status_and_message(self):
        data = json.dumps({"responseStatus": {"code": 9, "message": "precondition \u00e9 failed"}})
        events = self.same("UnaryCall", "-d", data, *ECHO, expect_rc=64 + 9)
        self.assertEqual(events[-1]["message"], "precondition \u00e9 failed")

    def test_reflection_through_the_proxy(self):
        out = self.assert_ok(t.run(["list", self.proxy.address, "--plaintext"]))
        self.assertIn(SVC, out.split())

    def test_client_deadline_is_propagated(self):
        # The only message comes after 2 s: a call that ends DEADLINE_EXCEEDED without it ended
        # on its 300 ms deadline (a wall-time ceiling would say the same, and fail on a busy
        # machine). Were the deadline lost, the message would come and the call end OK.
        data = json.dumps({"responseParameters": [{"size": 1, "intervalUs": 2000000}]})
        rc, out, err = call(self.proxy.address, "StreamingOutputCall", "-d", data, "--timeout", "300ms",
                            "-o", "json")
        self.assertEqual(rc, 64 + 4, err)
        self.assertEqual(messages_of(out), [])
        self.assertEqual(status_of(out)["code_name"], "DEADLINE_EXCEEDED")


class FaultTest(t.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = contextlib.ExitStack()
        cls.server = cls.stack.enter_context(t.serve())

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def test_abort(self):
        with chaos(self.server, "--fault", "abort=UNAVAILABLE,message=try again") as c:
            self.assert_fails(call(c.address, "EmptyCall"), 78, ["UNAVAILABLE (14)", "try again"])
            counts = c.counters(self)
        self.assertEqual(counts, {"calls": 1, "faults": [{"spec": "abort=UNAVAILABLE,message=try again",
                                                          "matched": 1, "injected": 1}],
                                  "upstream_status": {}, "client_status": {"UNAVAILABLE": 1}})

    def test_abort_with_retry_after_sends_a_retry_info(self):
        spec = "abort=RESOURCE_EXHAUSTED,retry_after=1500ms,message=slow down"
        with chaos(self.server, "--fault", spec) as c:
            rc, out, err = call(c.address, "EmptyCall", "-o", "json")
            self.assertEqual(rc, 64 + 8, err)
            status = status_of(out)
            self.assertEqual(status["message"], "slow down")
            self.assertEqual(status["details"], [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                                  "retryDelay": "1.500s"}])
            # A gRPC client that is not grpcdx's gets the same bytes, field for field.
            from python_server import _any, _field
            trailer = grpcio_trailer(c.address, "grpc-status-details-bin")
            self.assertEqual(trailer, _field(1, 8) + _field(2, "slow down") + _field(
                3, _any("google.rpc.RetryInfo", _field(1, _field(1, 1) + _field(2, 500000000)))))
            counts = c.counters(self)
        self.assertEqual(counts["faults"][0]["spec"], spec)

    def test_delay(self):
        # Measured on the call itself (the status event's elapsed_ms, from the call's start to
        # its status, inside one grpcdx process), not as the wall time of a process compared
        # with another's: a delay never comes early, so the call takes at least 300 ms; without
        # the fault an EmptyCall on loopback takes a few milliseconds and this fails.
        with chaos(self.server, "--fault", "delay=300ms") as slow:
            rc, out, err = call(slow.address, "EmptyCall", "-o", "json")
            counts = slow.counters(self)
        self.assertEqual(rc, 0, err)
        status = status_of(out)
        self.assertEqual(status["code_name"], "OK")
        self.assertGreaterEqual(status["elapsed_ms"], 300)
        self.assertEqual(counts["faults"][0], {"spec": "delay=300ms", "matched": 1, "injected": 1})

    def test_cancel_after_two_messages(self):
        with chaos(self.server, "--fault", "cancel,after=2") as c:
            rc, out, err = call(c.address, "StreamingOutputCall", "-d", STREAM5, "-o", "json")
            self.assertEqual(rc, 65, err)
            self.assertEqual(len(messages_of(out)), 2)
            self.assertEqual(status_of(out)["code_name"], "CANCELLED")
            counts = c.counters(self)
        self.assertEqual(counts["client_status"], {"CANCELLED": 1})
        self.assertEqual(counts["upstream_status"], {"CANCELLED": 1})

    def test_cancel_after_duration(self):
        data = json.dumps({"responseParameters": [{"size": 1, "intervalUs": 200000}] * 5})
        with chaos(self.server, "--fault", "cancel,after=300ms") as c:
            rc, out, err = call(c.address, "StreamingOutputCall", "-d", data, "-o", "json")
        self.assertEqual(rc, 65, err)
        self.assertEqual(len(messages_of(out)), 1)

    def test_reset_after_one_message(self):
        with chaos(self.server, "--fault", "reset,after=1") as c:
            rc, out, err = call(c.address, "StreamingOutputCall", "-d", STREAM5, "-o", "json")
            self.assertEqual(rc, 65, err)
            self.assertEqual(len(messages_of(out)), 1)
            self.assertEqual(status_of(out)["code_name"], "CANCELLED")
            counts = c.counters(self)
        self.assertEqual(counts["client_status"], {"CANCELLED": 1})

    def test_stall_after_one_message(self):
        with chaos(self.server, "--fault", "stall,after=1") as c:
            start = time.monotonic()
            rc, out, err = call(c.address, "StreamingOutputCall", "-d", STREAM5, "-o", "json", "--timeout", "1s")
            elapsed = time.monotonic() - start
            self.assertEqual(rc, 68, err)
            self.assertEqual(len(messages_of(out)), 1)
            self.assertGreaterEqual(elapsed, 0.9)
            counts = c.counters(self)
        self.assertEqual(counts["client_status"], {"DEADLINE_EXCEEDED": 1})

    def test_drop(self):
        with chaos(self.server, "--fault", "drop") as c:
            start = time.monotonic()
            self.assert_fails(call(c.address, "EmptyCall", "--timeout", "500ms"), 68, "DEADLINE_EXCEEDED")
            self.assertGreaterEqual(time.monotonic() - start, 0.45)
            counts = c.counters(self)
        self.assertEqual(counts["upstream_status"], {})
        self.assertEqual(counts["client_status"], {"DEADLINE_EXCEEDED": 1})

    def test_method_and_header_matching(self):
        with chaos(self.server, "--fault", "abort=NOT_FOUND,method=%s/EmptyCall" % SVC,
                   "--fault", "abort=PERMISSION_DENIED,header=x-env:canary") as c:
            self.assert_fails(call(c.address, "EmptyCall"), 64 + 5, "NOT_FOUND")
            self.assert_ok(call(c.address, "UnaryCall", "-d", "{}"))
            self.assert_fails(call(c.address, "UnaryCall", "-d", "{}", "-H", "x-env: canary"), 64 + 7,
                              "PERMISSION_DENIED")
            self.assert_ok(call(c.address, "UnaryCall", "-d", "{}", "-H", "x-env: prod"))
            counts = c.counters(self)
        self.assertEqual([(f["matched"], f["injected"]) for f in counts["faults"]], [(1, 1), (1, 1)])

    def test_limit(self):
        with chaos(self.server, "--fault", "abort=INTERNAL,limit=2") as c:
            got = [call(c.address, "EmptyCall")[0] for _ in range(3)]
            counts = c.counters(self)
        self.assertEqual(got, [64 + 13, 64 + 13, 0])
        self.assertEqual(counts["faults"][0]["injected"], 2)
        self.assertEqual(counts["faults"][0]["matched"], 3)

    def test_header_faults(self):
        with chaos(self.server, "--header-faults") as c:
            self.assert_fails(call(c.address, "EmptyCall", "-H", "x-grpcdx-abort: ABORTED"), 64 + 10, "ABORTED")
            out = self.assert_ok(call(c.address, "EmptyCall", "-H", "x-grpcdx-delay: 400ms", "-o", "json"))
            self.assertGreaterEqual(status_of(out)["elapsed_ms"], 400)  # on the call itself
            self.assert_fails(call(c.address, "EmptyCall", "-H", "x-grpcdx-delay: soon"), 64 + 3,
                              "invalid x-grpcdx-delay 'soon'")
        with chaos(self.server) as c:  # without the flag the headers mean nothing
            self.assert_ok(call(c.address, "EmptyCall", "-H", "x-grpcdx-abort: ABORTED"))

    def test_max_active(self):
        # The held call takes the one slot: it gets its first message and then stalls, open,
        # until it is stopped. Its first message is the event that it is inside the proxy (a
        # fixed wait raced the start of the call on a busy machine). Were --max-active ignored,
        # the second call would stall too and end DEADLINE_EXCEEDED.
        two = json.dumps({"responseParameters": [{"size": 1}, {"size": 2}]})
        with chaos(self.server, "--fault", "stall,after=1", "--max-active", "1") as c:
            held = subprocess.Popen([t.binary(), "call", c.address, SVC + "/StreamingOutputCall", "--plaintext",
                                     "--proto", "grpc/testing/test.proto", "-I", t.GRPC_PROTO_DIR, "-d", two,
                                     "-o", "json", "--timeout", "60s"],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            try:
                line = ""
                while '"event":"message"' not in line:
                    line = t.read_line(held, 20)
                    self.assertIsNotNone(line, "the held call got no first message")
                rc, out, err = call(c.address, "StreamingOutputCall", "-d", two, "-o", "json", "--timeout", "20s")
                self.assertEqual(rc, 0, err)
                self.assertEqual(len(messages_of(out)), 2)
            finally:
                held.kill()
                held.communicate(timeout=10)
            counts = c.counters(self)
        self.assertEqual(counts["faults"][0], {"spec": "stall,after=1", "matched": 2, "injected": 1})

    def test_rules_file(self):
        rules = t.write_file("rules-ok.json", json.dumps({"faults": [
            {"kind": "abort", "code": "UNAVAILABLE", "method": SVC + "/EmptyCall"},
            {"kind": "delay", "delay": "10ms"}]}))
        with chaos(self.server, "--rules", rules) as c:
            self.assert_fails(call(c.address, "EmptyCall"), 78)
            counts = c.counters(self)
        self.assertEqual([f["spec"] for f in counts["faults"]],
                         ["abort=UNAVAILABLE,method=%s/EmptyCall" % SVC, "delay=10ms"])

    def test_graceful_stop_ends_open_calls_with_unavailable(self):
        # The call stalls after its first message; that message on the client's stdout is the
        # event that the call is open in the proxy, and the signal goes then (a fixed wait could
        # come before the call on a busy machine, and the proxy would stop with no call open).
        c = Chaos(self.server, "--fault", "stall,after=1")
        try:
            proc = subprocess.Popen([t.binary(), "call", c.address, SVC + "/StreamingOutputCall", "--plaintext",
                                     "--proto", "grpc/testing/test.proto", "-I", t.GRPC_PROTO_DIR, "-d", STREAM5,
                                     "--timeout", "20s"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                self.assertIsNotNone(t.read_line(proc, 20), "the call got no first message")
                rc, out, err = c.stop(signal.SIGINT)
                _, cerr = proc.communicate(timeout=10)
                crc, cerr = proc.returncode, cerr.decode()
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()
        finally:
            c.stop()
        self.assertEqual(rc, 0, err)
        self.assertEqual(crc, 78, cerr)
        self.assertIn("shutting down", cerr)
        self.assertEqual(json.loads(out)["client_status"], {"UNAVAILABLE": 1})

    def test_duration_and_text_counters(self):
        rc, out, err = t.run(["chaos", "--listen", "127.0.0.1:0", "--target", self.server, "--plaintext",
                              "--duration", "300ms", "--fault", "abort=14,pct=50"], timeout=20)
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertRegex(lines[0], r"^127\.0\.0\.1:\d+$")
        self.assertEqual(lines[1], "calls            0")
        self.assertIn("abort=14,pct=50", out)
        self.assertIn("client status    -", out)


# A grpcio client loop: which of N EmptyCalls through the proxy failed.
PCT_CLIENT = r"""
import sys, grpc
ch = grpc.insecure_channel(sys.argv[1])
m = ch.unary_unary("/grpc.testing.TestService/EmptyCall", request_serializer=None, response_deserializer=None)
out = []
for _ in range(int(sys.argv[2])):
    try:
        m(b"", timeout=5)
        out.append("0")
    except grpc.RpcError as e:
        out.append(str(e.code().value[0]))
print(",".join(out))
"""


# A grpcio client that asks for 100 responses of 1 MiB, reads one, then sits still while the
# caller looks at the proxy's memory; prints "ready" after the first response.
SLOW_CLIENT = r"""
import sys, time, grpc
ch = grpc.insecure_channel(sys.argv[1])
m = ch.unary_stream("/grpc.testing.TestService/StreamingOutputCall")
it = m(bytes([0x12, 0x04, 0x08, 0x80, 0x80, 0x40]) * 100, timeout=30)
next(it)
print("ready", flush=True)
sys.stdin.readline()
it.cancel()
"""


# A grpcio server whose bidi method sends its headers at once and then waits for the client's
# first message (the headers carry what the client needs to start: a session, a version...), and
# a client that waits for those headers before it sends anything.
HEADERS_FIRST = r"""
import os, queue, sys, threading, grpc
from concurrent import futures
if sys.argv[1] == "server":
    def chat(requests, context):
        context.send_initial_metadata((("x-early", "yes"),))
        for r in requests:
            yield r
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
        "test.Echo", {"Chat": grpc.stream_stream_rpc_method_handler(chat)}),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    sys.stdin.readline()
    server.stop(0)
else:
    ch = grpc.insecure_channel(sys.argv[2])
    q = queue.Queue()
    call = ch.stream_stream("/test.Echo/Chat")(iter(q.get, None), timeout=10)
    got = []
    waiter = threading.Thread(target=lambda: got.append(dict(call.initial_metadata())), daemon=True)
    waiter.start()
    waiter.join(3)
    if not got:
        print("no headers before the first message", flush=True)
        os._exit(1)
    q.put(b"ping")
    reply = next(call)
    q.put(None)
    rest = list(call)  # the end of the stream, through the proxy
    print("headers x-early=%s, reply %s, then %d more, %s" % (got[0].get("x-early"), reply.decode(), len(rest),
                                                            call.code().name), flush=True)
    os._exit(0)  # grpcio can hang at interpreter exit with a channel still open
"""


class HeadersFirstTest(t.TestCase):
    def test_headers_reach_the_client_before_any_message(self):
        script = t.write_file("headers_first.py", HEADERS_FIRST)
        server = subprocess.Popen([t.PYTHON, script, "server"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        try:
            port = t._read_first_line(server, 20)
            with chaos("127.0.0.1:" + port) as c:
                proc = subprocess.run([t.PYTHON, script, "client", c.address], capture_output=True, timeout=60)
        finally:
            server.communicate(input=b"\n", timeout=20)
        self.assertEqual(proc.returncode, 0, proc.stdout.decode() + proc.stderr.decode())
        self.assertEqual(proc.stdout.decode().strip(), "headers x-early=yes, reply ping, then 0 more, OK")


class FlowControlTest(t.TestCase):
    def test_slow_client_does_not_pile_up_in_the_proxy(self):
        script = t.write_file("slow_client.py", SLOW_CLIENT)
        with t.serve() as server, chaos(server) as c:
            before = t.rss_kib(c.proc.pid)
            client = subprocess.Popen([t.PYTHON, script, c.address], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE)
            try:
                self.assertEqual(t._read_first_line(client, 20), "ready")
                time.sleep(1.5)  # time for 100 MiB to pile up, were nothing holding it back
                grown = t.rss_kib(c.proc.pid) - before
            finally:
                client.communicate(input=b"\n", timeout=20)
            counts = c.counters(self)
        self.assertLess(grown, 40 * 1024, "the proxy grew by %d KiB" % grown)
        self.assertEqual(counts["calls"], 1)


class SeedTest(t.TestCase):
    def outcomes(self, server, seed, n=300):
        script = t.write_file("pct_client.py", PCT_CLIENT)
        with chaos(server, "--fault", "abort=UNAVAILABLE,pct=30", "--seed", seed) as c:
            proc = subprocess.run([t.PYTHON, script, c.address, str(n)], capture_output=True, timeout=120)
            self.assertEqual(proc.returncode, 0, proc.stderr.decode())
            counts = c.counters(self)
        got = proc.stdout.decode().strip().split(",")
        self.assertEqual(counts["calls"], n)
        self.assertEqual(counts["faults"][0]["injected"], got.count("14"))
        return got

    def test_same_seed_same_choices_and_rate_near_pct(self):
        with t.serve() as server:
            first = self.outcomes(server, 7)
            second = self.outcomes(server, 7)
            other = self.outcomes(server, 8)
        self.assertEqual(first, second)
        self.assertNotEqual(first, other)
        self.assertEqual(set(first), {"0", "14"})
        rate = first.count("14") / len(first)
        self.assertGreater(rate, 0.2)
        self.assertLess(rate, 0.4)


class TlsTest(t.TestCase):
    def test_tls_downstream_and_upstream(self):
        c = t.certs()
        with t.serve("--tls-cert", c.server_cert, "--tls-key", c.server_key) as server:
            argv = ["--listen-cert", c.server_cert, "--listen-key", c.server_key]
            cmd = [t.binary(), "chaos", "--listen", "127.0.0.1:0", "--target", server, "--cacert", c.ca_cert,
                   "-o", "json"] + argv
            p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                address = t._read_first_line(p, 20)
                self.assertIsNotNone(address)
                data = '{"responseSize": 5}'
                direct = t.run(["call", server, SVC + "/UnaryCall", "--cacert", c.ca_cert, "-d", data, "-o", "json"]
                               + ECHO)
                proxied = t.run(["call", address, SVC + "/UnaryCall", "--cacert", c.ca_cert, "-d", data, "-o",
                                 "json"] + ECHO)
                self.assertEqual(direct[0], 0, direct[2])
                self.assertEqual(proxied[0], 0, proxied[2])
                self.assertEqual(events_without_timing(proxied[1]), events_without_timing(direct[1]))
                self.assert_fails(t.run(["call", address, SVC + "/EmptyCall", "--plaintext", "--proto",
                                         "grpc/testing/test.proto", "-I", t.GRPC_PROTO_DIR]), 78)
            finally:
                p.send_signal(signal.SIGTERM)
                p.communicate(timeout=15)


class BadInputTest(t.TestCase):
    def test_bad_fault_is_usage_error(self):
        self.assert_fails(t.run(["chaos", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:1", "--plaintext",
                                 "--fault", "abort=NOPE"]), 2,
                          "error: invalid --fault 'abort=NOPE': unknown status code 'NOPE' (use a name like "
                          "UNAVAILABLE or a number 0-16)")
        self.assert_fails(t.run(["chaos", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:1",
                                 "--fault", "delay=1s,jitter=2s"]), 2, "jitter 2s is larger than the delay 1s")

    def test_bad_rules_file_is_local_error(self):
        bad = t.write_file("rules-bad.json", json.dumps({"faults": [{"kind": "delay", "delay": "1s"},
                                                                     {"kind": "abort", "code": "NOPE"}]}))
        self.assert_fails(t.run(["chaos", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:1", "--rules", bad]), 1,
                          bad + ": faults[1].code: unknown status code 'NOPE'")
        broken = t.write_file("rules-broken.json", '{"faults": [\n')
        self.assert_fails(t.run(["chaos", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:1", "--rules", broken]),
                          1, "invalid JSON")
        self.assert_fails(t.run(["chaos", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:1", "--rules",
                                 "/nonexistent/rules.json"]), 1, "cannot read rules file")

    def test_missing_flags_and_bad_values(self):
        self.assert_fails(t.run(["chaos", "--listen", "127.0.0.1:0"]), 2, "--target is required")
        self.assert_fails(t.run(["chaos", "--target", "127.0.0.1:1"]), 2, "--listen is required")
        self.assert_fails(t.run(["chaos", "--listen", "nowhere", "--target", "127.0.0.1:1"]), 2, "cannot listen on")
        self.assert_fails(t.run(["chaos", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:1", "--duration",
                                 "soon"]), 2, "invalid --duration")
        self.assert_fails(t.run(["chaos", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:1", "--emit", "linkerd"]),
                          2)

    def test_unreachable_upstream_is_unavailable(self):
        with chaos("127.0.0.1:%d" % t.free_port()) as c:
            self.assert_fails(call(c.address, "EmptyCall", "--timeout", "5s"), 78, "UNAVAILABLE")


class EmitTest(t.TestCase):
    def test_istio(self):
        rc, out, err = t.run(["chaos", "--emit", "istio", "--target", "orders.prod:50051",
                              "--fault", "abort=UNAVAILABLE,pct=30,method=pkg.S/*",
                              "--fault", "delay=200ms,jitter=50ms,header=x-env:canary", "--fault", "reset,after=1"])
        self.assertEqual(rc, 0, err)
        self.assertIn("kind: VirtualService", out)
        self.assertIn('grpcStatus: "UNAVAILABLE"', out)
        self.assertIn('prefix: "/pkg.S/"', out)
        self.assertIn("fixedDelay: 0.200s", out)
        self.assertIn('host: "orders.prod"', out)
        self.assertIn("'reset,after=1' has no mesh equivalent", err)
        self.assertIn("jitter is left out", err)

    def test_envoy(self):
        rc, out, err = t.run(["chaos", "--emit", "envoy", "--fault", "abort=UNAVAILABLE,pct=12.5",
                              "--fault", "drop", "--max-active", "3"])
        self.assertEqual(rc, 0, err)
        self.assertIn("envoy.extensions.filters.http.fault.v3.HTTPFault", out)
        self.assertIn("grpc_status: 14", out)
        self.assertIn("numerator: 125000\n        denominator: MILLION", out)
        self.assertIn("max_active_faults: 3", out)
        self.assertIn("'drop' has no mesh equivalent", err)

    def test_nothing_to_emit(self):
        self.assert_fails(t.run(["chaos", "--emit", "envoy", "--fault", "stall"]), 2, "nothing to emit")


class LiveSummaryTest(t.TestCase):
    def test_terminal_gets_a_live_line_and_a_pipe_does_not(self):
        import pty
        import select
        expected = b"grpcdx chaos: calls 1 | injected 1 | to clients: UNAVAILABLE 1"
        with t.serve() as upstream:
            master, slave = pty.openpty()
            # No --duration: the proxy runs until the line shows (an event), then SIGTERM. A
            # fixed --duration raced the call's start-up on a busy machine.
            proc = subprocess.Popen([t.binary(), "chaos", "--listen", "127.0.0.1:0", "--target", upstream,
                                     "--plaintext", "--fault", "abort=UNAVAILABLE"],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
            os.close(slave)
            seen = b""
            try:
                address = t._read_first_line(proc, 20)
                self.assertIsNotNone(address)
                t.run(["call", address, "grpc.testing.TestService/EmptyCall", "--plaintext"])
                deadline = time.monotonic() + 20  # the line is refreshed once a second
                while expected not in seen and time.monotonic() < deadline:
                    ready, _, _ = select.select([master], [], [], max(0.0, deadline - time.monotonic()))
                    if not ready:
                        continue
                    try:
                        chunk = os.read(master, 4096)
                    except OSError:
                        break
                    if not chunk:
                        break
                    seen += chunk
                proc.send_signal(signal.SIGTERM)
                proc.wait(20)
            finally:
                os.close(master)
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                proc.stdout.close()
            self.assertIn(expected.decode(), seen.decode(errors="replace"))
            self.assertEqual(proc.returncode, 0)
        # Through a pipe (every other test here), stderr holds no such line.
        with t.serve() as upstream, t.chaos(upstream) as proxy:
            pass
        self.assertNotIn("| injected", proxy.stderr())


if __name__ == "__main__":
    t.main()
