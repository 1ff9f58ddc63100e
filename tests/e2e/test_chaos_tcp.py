# End-to-end tests of `grpcdx chaos --tcp`: each connection fault as a gRPC client sees it (reset
# -> UNAVAILABLE, latency per round trip, bandwidth never above its rate, blackhole -> deadline,
# close -> UNAVAILABLE mid-stream, slice still intact), dir, pct with --seed, limit, backpressure,
# many connections, the counters, stopping, and bad input.
# A fault's guarantee is one-sided (a rate is never exceeded, a delay or a close never comes
# early), and only that side is asserted: a loaded machine makes everything slower, never faster.
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpcdx_test as t  # noqa: E402
from test_chaos_tcp_integrity import EchoServer, field, varint  # noqa: E402

SVC = "grpc.testing.TestService"
EMPTY_CALL = "/grpc.testing.TestService/EmptyCall"
STREAMING_OUTPUT = "/grpc.testing.TestService/StreamingOutputCall"


def call(address, method, *args, timeout=60):
    return t.run(["call", address, SVC + "/" + method, "--plaintext", "--proto", "grpc/testing/test.proto",
                  "-I", t.GRPC_PROTO_DIR] + list(args), timeout=timeout)


def stream_request(sizes, interval_us=0):
    """A serialized StreamingOutputCallRequest asking for one response per size."""
    params = b""
    for size in sizes:
        p = varint(1 << 3) + varint(size)
        if interval_us:
            p += varint(2 << 3) + varint(interval_us)
        params += field(2, p)
    return params


def connect(address, timeout=10):
    host, port = address.rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=timeout)


def exchange(address, data=b"ping", timeout=5):
    """Sends `data` over a new connection and reads the echo; returns the bytes that came back,
    or "reset" when the connection was reset."""
    try:
        s = connect(address, timeout)
    except ConnectionResetError:  # reset before connect() returned
        return "reset"
    try:
        s.sendall(data)
        got = b""
        while len(got) < len(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        return got
    except (ConnectionResetError, BrokenPipeError):
        return "reset"
    finally:
        s.close()


class TcpTestCase(t.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = contextlib.ExitStack()
        cls.server = cls.stack.enter_context(t.serve())
        cls.echo = EchoServer()
        cls.stack.callback(cls.echo.close)

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def tcp(self, upstream, *faults):
        args = []
        for f in faults:
            args += ["--fault", f]
        return t.chaos(upstream, "--tcp", *args)


class GrpcClientTest(TcpTestCase):
    """What a gRPC client sees through each fault."""

    def test_no_faults_is_transparent(self):
        with self.tcp(self.server) as c:
            direct = call(self.server, "UnaryCall", "-d", '{"responseSize": 100000}', "-o", "json")
            proxied = call(c.address, "UnaryCall", "-d", '{"responseSize": 100000}', "-o", "json")
            self.assertEqual(proxied[0], 0, proxied[2])
            strip = lambda out: [{k: v for k, v in e.items() if k != "elapsed_ms"} for e in t.json_lines(out)]
            self.assertEqual(strip(proxied[1]), strip(direct[1]))
            out = self.assert_ok(t.run(["list", c.address, "--plaintext"]))
            self.assertIn(SVC, out.split())
            counts = c.counters(self)
        self.assertEqual(counts["connections"], 2)
        self.assertGreater(counts["bytes"]["down"], 100000)

    def test_reset_at_accept_is_unavailable(self):
        with self.tcp(self.server, "reset") as c:
            result = call(c.address, "EmptyCall", "--timeout", "5s")
            self.assert_fails(result, 78, "UNAVAILABLE")
            # A reset is not a TLS server hanging up on a plaintext preface: no TLS advice.
            self.assertIn("reset before HTTP/2 started", result[2])
            self.assertNotIn("--plaintext", result[2])
            counts = c.counters(self)
        self.assertGreaterEqual(counts["connections"], 1)
        self.assertEqual(counts["faults"][0]["injected"], counts["connections"])
        self.assertEqual(counts["bytes"], {"up": 0, "down": 0})

    def test_reset_after_bytes_cuts_a_stream(self):
        # 10 responses of 20 kB, 50 ms apart: the reset after 50 kB down comes mid-stream.
        data = json.dumps({"responseParameters": [{"size": 20000, "intervalUs": 50000}] * 10})
        with self.tcp(self.server, "reset,after=50KB,dir=down") as c:
            rc, out, err = call(c.address, "StreamingOutputCall", "-d", data, "-o", "json")
            counts = c.counters(self)
        self.assertEqual(rc, 78, err)
        self.assertIn("lost during the call", err)
        self.assertNotIn("--plaintext", err)
        messages = [e for e in t.json_lines(out) if e["event"] == "message"]
        self.assertGreaterEqual(len(messages), 1)
        self.assertLess(len(messages), 3)
        self.assertEqual(counts["bytes"]["down"], 50000)

    def test_latency_adds_the_delay_to_every_round_trip(self):
        with self.tcp(self.server, "latency=100ms,dir=down") as down, self.tcp(self.server, "latency=60ms,dir=both") as both:
            for proxy, per_trip in ((down, 0.1), (both, 0.12)):
                with grpc.insecure_channel(proxy.address) as ch:
                    method = ch.unary_unary(EMPTY_CALL)
                    method(b"", timeout=10)  # connect first
                    for _ in range(3):
                        start = time.monotonic()
                        method(b"", timeout=10)
                        self.assertGreaterEqual(time.monotonic() - start, per_trip)
        with grpc.insecure_channel(self.server) as ch:  # and it is the proxy that is slow
            method = ch.unary_unary(EMPTY_CALL)
            method(b"", timeout=10)
            # The fastest of five direct calls: one slow call on a loaded machine is not the
            # server being slow; all five taking 100 ms would be.
            fastest = 10.0
            for _ in range(5):
                start = time.monotonic()
                method(b"", timeout=10)
                fastest = min(fastest, time.monotonic() - start)
            self.assertLess(fastest, 0.1)

    def test_bandwidth_never_exceeds_the_rate(self):
        rate = 1000000
        request = stream_request([100000] * 25)  # 2.5 MB down
        with self.tcp(self.server, "bandwidth=1MB/s,dir=down") as c:
            with grpc.insecure_channel(c.address) as ch:
                method = ch.unary_stream(STREAMING_OUTPUT)
                method(b"", timeout=10)  # connect and warm up (an empty stream)
                sizes = []
                # From before the request: none of the 2.5 MB can have left the proxy earlier,
                # so a slow client (a loaded machine) only lowers the figure. Measured from the
                # first answer instead, a client that reads late sees a burst of buffered bytes.
                start = time.monotonic()
                for answer in method(request, timeout=30):
                    sizes.append(len(answer))
                elapsed = time.monotonic() - start
        self.assertEqual(len(sizes), 25)
        measured = sum(sizes) / elapsed
        # The one-sided guarantee: never above the rate. The proxy's bucket holds rate/50 (20 kB),
        # so 2.5 MB takes at least 2.48 s: at most 1.008 x the rate, whatever the load. No floor:
        # a busy machine legitimately delivers less. Without the fault 2.5 MB on loopback takes a
        # few tens of milliseconds, far above the rate, so this still fails if nothing throttles.
        self.assertLessEqual(measured, rate * 1.05, "%.0f B/s" % measured)

    def test_blackhole_is_a_deadline(self):
        with self.tcp(self.server, "blackhole") as c:
            with grpc.insecure_channel(c.address) as ch:
                start = time.monotonic()
                with self.assertRaises(grpc.RpcError) as e:
                    ch.unary_unary(EMPTY_CALL)(b"", timeout=1)
                self.assertEqual(e.exception.code(), grpc.StatusCode.DEADLINE_EXCEEDED)
                self.assertGreaterEqual(time.monotonic() - start, 0.9)
            counts = c.counters(self)
        self.assertEqual(counts["bytes"], {"up": 0, "down": 0})
        self.assertGreaterEqual(counts["connections"], 1)

    def test_close_after_ends_a_long_stream_with_unavailable(self):
        # 20 messages 100 ms apart: the stream takes at least 2 s, whatever the load.
        data = json.dumps({"responseParameters": [{"size": 10, "intervalUs": 100000}] * 20})
        with self.tcp(self.server, "close,after=700ms") as c:
            start = time.monotonic()
            rc, out, err = call(c.address, "StreamingOutputCall", "-d", data, "-o", "json")
            elapsed = time.monotonic() - start
            counts = c.counters(self)
        # Cut mid-stream: UNAVAILABLE with some messages but not all (without the fault the call
        # ends OK with 20). That, not a ceiling on the wall time, shows the close ended the call.
        self.assertEqual(rc, 78, err)
        messages = [e for e in t.json_lines(out) if e["event"] == "message"]
        self.assertGreaterEqual(len(messages), 1)
        self.assertLess(len(messages), 20)
        # A close never comes early: the process started before its connection was accepted.
        self.assertGreaterEqual(elapsed, 0.7)
        self.assertGreaterEqual(counts["faults"][0]["injected"], 1)

    def test_slice_keeps_calls_intact(self):
        with self.tcp(self.server, "slice=7,delay=0s") as c:
            rc, out, err = call(c.address, "UnaryCall", "-d", '{"responseSize": 5000}', "-o", "json")
            self.assertEqual(rc, 0, err)
            message = [e for e in t.json_lines(out) if e["event"] == "message"][0]["message"]
            self.assertEqual(len(message["payload"]["body"]), 6668)  # base64 of 5000 bytes
            counts = c.counters(self)
        self.assertEqual(counts["faults"][0]["injected"], 1)

    def test_slice_with_delay_spreads_the_bytes(self):
        with self.tcp(self.echo.address, "slice=100,delay=10ms,dir=down") as c:
            start = time.monotonic()
            self.assertEqual(exchange(c.address, b"x" * 1000), b"x" * 1000)
            self.assertGreaterEqual(time.monotonic() - start, 0.09)  # 10 slices, 10 ms apart


class ConnectionTest(TcpTestCase):
    """Decisions, counters and the proxy itself, with raw TCP clients."""

    @staticmethod
    def send_recv(s, data):
        """Sends `data` on `s` and reads until as many bytes came back or the connection ended;
        returns (bytes, True when it ended with a reset)."""
        got = b""
        try:
            s.sendall(data)
            while len(got) < len(data):
                chunk = s.recv(4096)
                if not chunk:
                    return got, False
                got += chunk
        except (ConnectionResetError, BrokenPipeError):
            return got, True
        return got, False

    def test_dir_picks_the_direction_a_reset_counts(self):
        with self.tcp(self.echo.address, "reset,after=1000,dir=up") as up, \
                self.tcp(self.echo.address, "reset,after=1000") as both:
            # dir=up: the echoed bytes do not count; 900 bytes up pass, the 1000th resets.
            with connect(up.address) as s:
                self.assertEqual(self.send_recv(s, b"x" * 600), (b"x" * 600, False))
                self.assertEqual(self.send_recv(s, b"y" * 300), (b"y" * 300, False))
                self.assertEqual(self.send_recv(s, b"z" * 200), (b"", True))
            # dir=both (the default): 600 bytes up and 400 of their echo make 1000.
            with connect(both.address) as s:
                got, reset = self.send_recv(s, b"x" * 600)
                self.assertTrue(reset)
                self.assertLessEqual(len(got), 400)
            counts = both.counters(self)
        self.assertEqual(counts["bytes"], {"up": 600, "down": 400})

    def test_latency_dir_up_only_delays_requests(self):
        with self.tcp(self.echo.address, "latency=150ms,dir=up") as c:
            start = time.monotonic()
            self.assertEqual(exchange(c.address), b"ping")
            self.assertGreaterEqual(time.monotonic() - start, 0.15)

    def outcomes(self, seed, n=30):
        with t.chaos(self.echo.address, "--tcp", "--fault", "reset,pct=50", "--seed", seed) as c:
            got = ["reset" if exchange(c.address) == "reset" else "ok" for _ in range(n)]
            counts = c.counters(self)
        self.assertEqual(counts["connections"], n)
        self.assertEqual(counts["faults"][0]["injected"], got.count("reset"))
        return got

    def test_pct_with_seed_repeats(self):
        first, second, other = self.outcomes(3), self.outcomes(3), self.outcomes(4)
        self.assertEqual(first, second)
        self.assertNotEqual(first, other)
        self.assertGreater(first.count("reset"), 5)
        self.assertGreater(first.count("ok"), 5)

    def test_limit(self):
        with self.tcp(self.echo.address, "reset,limit=2") as c:
            got = [exchange(c.address) for _ in range(3)]
            counts = c.counters(self)
        self.assertEqual(got, ["reset", "reset", b"ping"])
        self.assertEqual(counts["faults"][0], {"spec": "reset,limit=2", "matched": 3, "injected": 2})

    def test_max_active(self):
        with t.chaos(self.echo.address, "--tcp", "--fault", "close,after=1s", "--max-active", "1") as c:
            held = connect(c.address)
            try:
                held.sendall(b"a")
                self.assertEqual(held.recv(10), b"a")
                free = connect(c.address)  # no slot left: no fault
                free.sendall(b"b")
                self.assertEqual(free.recv(10), b"b")  # the proxy has accepted it by now
                accepted_by = time.monotonic()
                self.assertEqual(held.recv(10), b"")  # closed by its fault (waits for it)
                # Past the second at which the fault would have closed `free` too (it was
                # accepted before its echo came back), it still works.
                time.sleep(max(0.0, accepted_by + 1.2 - time.monotonic()))
                free.sendall(b"c")
                self.assertEqual(free.recv(10), b"c")
                free.close()
            finally:
                held.close()
            counts = c.counters(self)
        self.assertEqual(counts["faults"][0]["injected"], 1)

    def test_counters_add_up(self):
        with self.tcp(self.echo.address, "latency=1ms") as c:
            for size in (1, 1000, 100000):
                self.assertEqual(exchange(c.address, b"z" * size), b"z" * size)
            counts = c.counters(self)
        self.assertEqual(counts, {"connections": 3,
                                  "faults": [{"spec": "latency=1ms", "matched": 3, "injected": 3}],
                                  "bytes": {"up": 101001, "down": 101001}, "upstream_failed": 0})

    def test_many_connections_at_once(self):
        with self.tcp(self.echo.address) as c:
            socks = [connect(c.address) for _ in range(200)]
            try:
                for i, s in enumerate(socks):
                    s.sendall(b"%05d" % i)
                for i, s in enumerate(socks):
                    got = b""
                    while len(got) < 5:
                        got += s.recv(5)
                    self.assertEqual(got, b"%05d" % i)
            finally:
                for s in socks:
                    s.close()
            counts = c.counters(self)
        self.assertEqual(counts["connections"], 200)
        self.assertEqual(counts["bytes"], {"up": 1000, "down": 1000})

    def test_backpressure_holds_a_reader_that_does_not_read(self):
        """A sink that never reads: the proxy holds at most its queue, the sender blocks."""
        sink = socket.socket()
        sink.bind(("127.0.0.1", 0))
        sink.listen(1)
        accepted = []
        threading.Thread(target=lambda: accepted.append(sink.accept()[0]), daemon=True).start()
        try:
            with t.chaos("127.0.0.1:%d" % sink.getsockname()[1], "--tcp") as c:
                before = t.rss_kib(c.proc.pid)
                s = connect(c.address)
                s.setblocking(False)
                sent, chunk, end = 0, b"x" * 65536, time.monotonic() + 1.5
                while time.monotonic() < end:
                    try:
                        sent += s.send(chunk)
                    except BlockingIOError:
                        time.sleep(0.01)
                grown = t.rss_kib(c.proc.pid) - before
                s.close()
                counts = c.counters(self)
        finally:
            sink.close()
            for a in accepted:
                a.close()
        self.assertLess(sent, 64 * 1024 * 1024, "nothing held the sender back")
        self.assertLess(grown, 8 * 1024, "the proxy grew by %d KiB" % grown)
        self.assertLessEqual(counts["bytes"]["up"], sent)

    def test_unreachable_upstream_closes_the_client(self):
        with t.chaos("127.0.0.1:%d" % t.free_port(), "--tcp") as c:
            s = connect(c.address)
            try:
                self.assertEqual(s.recv(10), b"")
            finally:
                s.close()
            self.assert_fails(call(c.address, "EmptyCall", "--timeout", "5s"), 78, "UNAVAILABLE")
            counts = c.counters(self)
        self.assertGreaterEqual(counts["connections"], 2)
        self.assertEqual(counts["upstream_failed"], counts["connections"])

    def test_stop_closes_open_connections_and_prints_counters(self):
        c = t.Chaos(self.echo.address, "--tcp")
        try:
            s = connect(c.address)
            self.assertEqual(exchange(c.address), b"ping")
            rc, out, err = c.stop(signal.SIGINT)
            self.assertEqual(s.recv(10), b"")
            s.close()
        finally:
            c.stop()
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["connections"], 2)

    def test_duration_and_text_counters(self):
        rc, out, err = t.run(["chaos", "--tcp", "--listen", "127.0.0.1:0", "--target", self.echo.address,
                              "--duration", "300ms", "--fault", "bandwidth=1MB/s,pct=50"], timeout=20)
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertRegex(lines[0], r"^127\.0\.0\.1:\d+$")
        self.assertEqual(lines[1], "connections      0")
        self.assertIn("bandwidth=1MB/s,pct=50", out)
        self.assertIn("bytes up         0", out)
        self.assertIn("TCP proxy listening on", err)

    def test_unix_socket_listen_and_target(self):
        path = os.path.join(t.tmpdir(), "tcp-proxy.sock")
        with t.serve_at("unix:" + os.path.join(t.tmpdir(), "upstream.sock")) as server:
            p = subprocess.Popen([t.binary(), "chaos", "--tcp", "--listen", "unix:" + path, "--target", server, "-o",
                                  "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                self.assertEqual(t._read_first_line(p, 20), "unix:" + path)
                self.assert_ok(call("unix:" + path, "EmptyCall"))
            finally:
                p.send_signal(signal.SIGTERM)
                out, err = p.communicate(timeout=15)
        self.assertEqual(p.returncode, 0, err)
        self.assertEqual(json.loads(out.decode().splitlines()[-1])["connections"], 1)
        self.assertFalse(os.path.exists(path))


class BadInputTest(t.TestCase):
    def chaos(self, *args):
        return t.run(["chaos", "--tcp", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:1"] + list(args))

    def test_faults_of_the_other_mode(self):
        self.assert_fails(self.chaos("--fault", "abort=UNAVAILABLE"), 2,
                          "error: invalid --fault 'abort=UNAVAILABLE': 'abort' is a gRPC fault and does not apply to "
                          "--tcp (use latency, bandwidth, reset, blackhole, slice, close, slow_close or loss)")
        self.assert_fails(t.run(["chaos", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:1", "--fault",
                                 "latency=10ms"]), 2, "'latency' is a --tcp fault")
        rules = t.write_file("tcp-rules-l7.json", json.dumps({"faults": [{"kind": "drop"}]}))
        self.assert_fails(self.chaos("--rules", rules), 1, "faults[0].kind: 'drop' is a gRPC fault")

    def test_bad_specs(self):
        self.assert_fails(self.chaos("--fault", "bandwidth=fast"), 2, "invalid bandwidth 'fast'")
        self.assert_fails(self.chaos("--fault", "latency=1s,dir=left"), 2, "invalid dir 'left' (use up, down or both)")
        self.assert_fails(self.chaos("--fault", "slice=0"), 2, "slice 0 would forward nothing")
        self.assert_fails(self.chaos("--fault", "reset,method=a/b"), 2, "key 'method' does not apply to --tcp")
        # loss=P is checked by the parser before any nftables rule is made (tests/e2e/test_chaos_loss.py
        # runs the real thing in a network namespace of its own).
        hint = "(use the percentage of packets to drop, above 0 and at most 100, e.g. 10 or 0.5)"
        self.assert_fails(self.chaos("--fault", "loss=150"), 2,
                          "error: invalid --fault 'loss=150': invalid loss '150' " + hint)
        self.assert_fails(self.chaos("--fault", "loss=abc"), 2,
                          "error: invalid --fault 'loss=abc': invalid loss 'abc' " + hint)
        self.assert_fails(self.chaos("--fault", "loss=5,pct=50"), 2, "key 'pct' does not apply to 'loss'")
        rules = t.write_file("tcp-rules-loss.json", json.dumps({"faults": [{"kind": "loss", "loss": 101}]}))
        self.assert_fails(self.chaos("--rules", rules), 1, "faults[0].loss: invalid loss '101' " + hint)

    def test_loss_needs_a_tcp_port(self):
        # Refused before nftables is touched, so this runs anywhere (also as root on the host).
        path = os.path.join(t.tmpdir(), "loss.sock")
        self.assert_fails(t.run(["chaos", "--tcp", "--listen", "unix:" + path, "--target", "127.0.0.1:1",
                                 "--fault", "loss=10"]), 1,
                          "error: loss=10 needs a TCP port: the kernel drops the packets of the proxy's port, and a "
                          "unix socket has none")
        self.assertFalse(os.path.exists(path))

    def test_flags_that_do_not_apply(self):
        self.assert_fails(self.chaos("--cacert", "ca.pem"), 2,
                          "error: --cacert does not apply to --tcp: the TCP proxy forwards bytes without looking at "
                          "them (TLS passes through it end to end)")
        self.assert_fails(self.chaos("--header-faults"), 2, "--header-faults does not apply to --tcp")
        self.assert_fails(self.chaos("-H", "a: b"), 2, "--header does not apply to --tcp")
        self.assert_fails(self.chaos("--emit", "istio"), 2, "--emit does not apply to --tcp")
        self.assert_fails(self.chaos("--connect-timeout", "soon"), 2, "invalid --connect-timeout")

    def test_bad_addresses(self):
        self.assert_fails(t.run(["chaos", "--tcp", "--listen", "127.0.0.1:0", "--target", "dns:///x:1"]), 2,
                          "--tcp needs --target as host:port, [v6addr]:port or unix:/path, not 'dns:///x:1'")
        self.assert_fails(t.run(["chaos", "--tcp", "--listen", "127.0.0.1:0", "--target", "nowhere.invalid:1"]), 1,
                          "cannot resolve --target 'nowhere.invalid:1'")
        self.assert_fails(t.run(["chaos", "--tcp", "--listen", "127.0.0.1:0"]), 2, "--target is required")
        self.assert_fails(t.run(["chaos", "--tcp", "--target", "127.0.0.1:1"]), 2, "--listen is required")
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            self.assert_fails(t.run(["chaos", "--tcp", "--listen", "127.0.0.1:%d" % port, "--target",
                                     "127.0.0.1:1"]), 1, "cannot listen on 127.0.0.1:%d: Address already in use" % port)


if __name__ == "__main__":
    t.main()
