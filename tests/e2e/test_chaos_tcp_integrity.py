# End-to-end integrity tests of `grpcdx chaos --tcp`: 50 MB each way through the proxy arrives
# byte-identical, over raw TCP (an echo server written here, with half-close) and over a gRPC
# bidi stream (a grpcio echo server written here, and grpcdx serve), with no faults and with
# latency, slice and bandwidth faults; the counters add up to what was sent.
import contextlib
import hashlib
import os
import random
import socket
import sys
import threading
import time
from concurrent import futures

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpcdx_test as t  # noqa: E402

MB = 1000 * 1000
SIZE = 50 * MB
ECHO_METHOD = "/grpcdx.test.Echo/Stream"
FULL_DUPLEX = "/grpc.testing.TestService/FullDuplexCall"

# The fault sets every transfer is checked under. Bandwidth is high enough for 50 MB to pass in
# a second or so; test_chaos_tcp.py checks that the rate really is bounded.
FAULTS = {
    "none": [],
    "latency": ["--fault", "latency=20ms,jitter=5ms"],
    "slice": ["--fault", "slice=1400,dir=both"],
    "bandwidth": ["--fault", "bandwidth=100MB/s"],
}


def pattern(size, seed):
    return random.Random(seed).randbytes(size)


class EchoServer:
    """A raw TCP echo server on 127.0.0.1:0: echoes every byte, passes the client's end of
    stream on with shutdown(SHUT_WR) once all is echoed, and counts connections."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn):
        with conn:
            try:
                while True:
                    data = conn.recv(1 << 20)
                    if not data:
                        conn.shutdown(socket.SHUT_WR)
                        return
                    conn.sendall(data)
            except OSError:
                return

    def close(self):
        self.sock.close()


def echo_through(address, payload, timeout=60):
    """Sends `payload` to the echo server at `address` (sending and receiving at once), ends the
    sending direction with shutdown(SHUT_WR), reads to the end; returns what came back."""
    host, port = address.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=timeout)
    received = []
    errors = []

    def reader():
        try:
            while True:
                chunk = s.recv(1 << 20)
                if not chunk:
                    return
                received.append(chunk)
        except OSError as e:
            errors.append(e)

    r = threading.Thread(target=reader)
    r.start()
    view = memoryview(payload)
    for i in range(0, len(view), 1 << 20):
        s.sendall(view[i:i + (1 << 20)])
    s.shutdown(socket.SHUT_WR)
    r.join(timeout)
    s.close()
    if r.is_alive():
        raise AssertionError("the echo did not end within %ss" % timeout)
    if errors:
        raise errors[0]
    return b"".join(received)


@contextlib.contextmanager
def grpc_echo_server():
    """A grpcio server with one bidi method that returns every message as it came (raw bytes,
    no serialization), so the bytes can be compared both ways."""
    def stream(request_iterator, context):
        for message in request_iterator:
            yield message

    handler = grpc.method_handlers_generic_handler(
        "grpcdx.test.Echo", {"Stream": grpc.stream_stream_rpc_method_handler(stream)})
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4),
                         options=[("grpc.max_receive_message_length", 8 * MB),
                                  ("grpc.max_send_message_length", 8 * MB)])
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield "127.0.0.1:%d" % port
    finally:
        server.stop(0)


def grpc_echo(address, payload, message_size=1 << 20):
    """Streams `payload` in messages of `message_size` through the echo method; returns the
    concatenated answers."""
    with grpc.insecure_channel(address, options=[("grpc.max_receive_message_length", 8 * MB)]) as ch:
        call = ch.stream_stream(ECHO_METHOD)
        chunks = (bytes(payload[i:i + message_size]) for i in range(0, len(payload), message_size))
        return b"".join(call(chunks, timeout=90))


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(number, data):
    return varint(number << 3 | 2) + varint(len(data)) + data


class IntegrityTest(t.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = contextlib.ExitStack()
        cls.echo = EchoServer()
        cls.stack.callback(cls.echo.close)
        cls.grpc_echo = cls.stack.enter_context(grpc_echo_server())
        cls.payload = pattern(SIZE, 1)
        cls.digest = hashlib.sha256(cls.payload).hexdigest()

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def check_raw(self, name):
        with t.chaos(self.echo.address, "--tcp", *FAULTS[name]) as c:
            got = echo_through(c.address, self.payload)
            self.assertEqual(len(got), SIZE, name)
            self.assertEqual(hashlib.sha256(got).hexdigest(), self.digest, name)
            counts = c.counters(self)
        self.assertEqual(counts["connections"], 1)
        self.assertEqual(counts["bytes"], {"up": SIZE, "down": SIZE})
        self.assertEqual(counts["upstream_failed"], 0)
        self.assertEqual([f["injected"] for f in counts["faults"]], [1] * len(counts["faults"]))

    def check_grpc(self, name):
        with t.chaos(self.grpc_echo, "--tcp", *FAULTS[name]) as c:
            got = grpc_echo(c.address, self.payload)
            self.assertEqual(len(got), SIZE, name)
            self.assertEqual(hashlib.sha256(got).hexdigest(), self.digest, name)
            counts = c.counters(self)
        self.assertEqual(counts["connections"], 1)
        # HTTP/2 framing comes on top of the 50 MB each way.
        self.assertGreater(counts["bytes"]["up"], SIZE)
        self.assertGreater(counts["bytes"]["down"], SIZE)
        self.assertLess(counts["bytes"]["up"], SIZE * 1.01)

    def test_raw_no_faults(self):
        self.check_raw("none")

    def test_raw_latency(self):
        self.check_raw("latency")

    def test_raw_slice(self):
        self.check_raw("slice")

    def test_raw_bandwidth(self):
        self.check_raw("bandwidth")

    def test_grpc_no_faults(self):
        self.check_grpc("none")

    def test_grpc_latency(self):
        self.check_grpc("latency")

    def test_grpc_slice(self):
        self.check_grpc("slice")

    def test_grpc_bandwidth(self):
        self.check_grpc("bandwidth")

    def test_grpcdx_serve_full_duplex_50mb(self):
        """50 requests of 1 MB up (random bodies the server parses) and 50 answers of 1 MB down
        from grpcdx serve, through the proxy with latency and slicing."""
        n, size = 50, 1 * MB
        bodies = [self.payload[i * size:(i + 1) * size] for i in range(n)]
        expected = field(1, field(2, bytes(size)))  # Payload{body: size zero bytes}
        with t.serve() as server, t.chaos(server, "--tcp", "--fault", "latency=5ms",
                                          "--fault", "slice=16KB") as c:
            with grpc.insecure_channel(c.address, options=[("grpc.max_receive_message_length", 8 * MB)]) as ch:
                call = ch.stream_stream(FULL_DUPLEX)
                requests = (field(2, varint(1 << 3) + varint(size)) + field(3, field(2, b)) for b in bodies)
                answers = list(call(requests, timeout=90))
            counts = c.counters(self)
        self.assertEqual(len(answers), n)
        for a in answers:
            self.assertEqual(a, expected)
        self.assertGreater(counts["bytes"]["up"], n * size)
        self.assertGreater(counts["bytes"]["down"], n * size)


class HalfCloseTest(t.TestCase):
    def test_each_direction_ends_on_its_own(self):
        """The client ends its direction first; the server keeps answering on the other one,
        which stays open until the server ends it too."""
        echo = EchoServer()
        try:
            with t.chaos(echo.address, "--tcp") as c:
                host, port = c.address.rsplit(":", 1)
                s = socket.create_connection((host, int(port)), timeout=10)
                s.sendall(b"hello")
                s.shutdown(socket.SHUT_WR)
                data = b""
                while True:
                    chunk = s.recv(100)
                    if not chunk:
                        break
                    data += chunk
                s.close()
                self.assertEqual(data, b"hello")
                counts = c.counters(self)
            self.assertEqual(counts["bytes"], {"up": 5, "down": 5})
        finally:
            echo.close()


if __name__ == "__main__":
    t.main()
