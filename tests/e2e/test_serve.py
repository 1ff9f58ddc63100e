#!/usr/bin/python3
# End-to-end tests of `grpcdx serve`, checked with python3-grpcio as an independent client.
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import queue
import time
import unittest

import grpc

GRPCDX = os.environ.get("GRPCDX", os.path.join(os.path.dirname(__file__), "../../build/grpcdx"))
PROTO_DIR = os.environ.get("GRPC_PROTO_DIR", "/usr/share/grpc-proto")
RPC_TIMEOUT = 10  # seconds, for every RPC
START_TIMEOUT = 10  # seconds to wait for the address line


def _load_messages():
    """Message classes for the protos used here, built from a descriptor set that protoc writes.
    (Generated _pb2 modules would live in a `grpc` package that clashes with grpcio's.)"""
    from google.protobuf import descriptor_pb2, message_factory
    with tempfile.TemporaryDirectory(prefix="grpcdx-serve-test-") as tmp:
        out = os.path.join(tmp, "set.pb")
        subprocess.run(
            ["protoc", "-I" + PROTO_DIR, "--include_imports", "--descriptor_set_out=" + out,
             "grpc/testing/test.proto", "grpc/health/v1/health.proto", "grpc/reflection/v1/reflection.proto",
             "grpc/reflection/v1alpha/reflection.proto"],
            check=True, timeout=60)
        with open(out, "rb") as f:
            fds = descriptor_pb2.FileDescriptorSet.FromString(f.read())
    classes = message_factory.GetMessages(list(fds.file))
    return descriptor_pb2, classes


def _namespace(classes, package):
    return type(package, (), {name[len(package) + 1:]: cls for name, cls in classes.items()
                              if name.startswith(package + ".") and "." not in name[len(package) + 1:]})


descriptor_pb2, _classes = _load_messages()
empty_pb2 = _namespace(_classes, "grpc.testing")
messages_pb2 = empty_pb2
health_pb2 = _namespace(_classes, "grpc.health.v1")
refl_v1 = _namespace(_classes, "grpc.reflection.v1")
refl_v1alpha = _namespace(_classes, "grpc.reflection.v1alpha")

ALL_SERVICES = [
    "grpc.channelz.v1.Channelz",
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
    "grpc.testing.TestService",
]


def method(channel, kind, name, req_cls, resp_cls):
    """A generic client stub for /<name> of the given streaming kind."""
    return getattr(channel, kind)("/" + name, request_serializer=req_cls.SerializeToString,
                                  response_deserializer=resp_cls.FromString)


def test_method(channel, kind, name, req_cls, resp_cls):
    return method(channel, kind, "grpc.testing.TestService/" + name, req_cls, resp_cls)


def read_line(proc, timeout):
    """The first stdout line of proc, or None after timeout seconds."""
    deadline = time.monotonic() + timeout
    buf = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(proc.stdout.fileno(), 1)
        if not chunk:
            break
        if chunk == b"\n":
            return buf.decode()
        buf += chunk
    return None


class ServeTest(unittest.TestCase):
    def setUp(self):
        self.procs = []
        self.channels = []
        self.tmp = tempfile.mkdtemp(prefix="grpcdx-serve-")

    def tearDown(self):
        for ch in self.channels:
            ch.close()
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait(timeout=10)
            p.stdout.close()
            p.stderr.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def serve(self, *args):
        """Starts `grpcdx serve ARGS` and returns (process, first stdout line)."""
        proc = subprocess.Popen([GRPCDX, "serve", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.procs.append(proc)
        line = read_line(proc, START_TIMEOUT)
        self.assertIsNotNone(line, "no address line from grpcdx serve: " + repr(args))
        return proc, line

    def channel(self, target, credentials=None, options=None):
        if credentials is None:
            ch = grpc.insecure_channel(target, options=options or [])
        else:
            ch = grpc.secure_channel(target, credentials, options=options or [])
        self.channels.append(ch)
        return ch

    def started(self, *args):
        """Starts a plaintext server on a free loopback port and returns a channel to it."""
        _, address = self.serve("--listen", "127.0.0.1:0", *args)
        self.assertRegex(address, r"^127\.0\.0\.1:[1-9][0-9]*$")
        return self.channel(address)

    def reflect(self, ch, module, request):
        svc = "grpc.reflection.v1.ServerReflection" if module is refl_v1 else \
            "grpc.reflection.v1alpha.ServerReflection"
        call = method(ch, "stream_stream", svc + "/ServerReflectionInfo",
                      module.ServerReflectionRequest, module.ServerReflectionResponse)
        return list(call(iter([request]), timeout=RPC_TIMEOUT))

    # --- TestService ---------------------------------------------------------------------

    def test_empty_call(self):
        ch = self.started()
        resp = test_method(ch, "unary_unary", "EmptyCall", empty_pb2.Empty, empty_pb2.Empty)(
            empty_pb2.Empty(), timeout=RPC_TIMEOUT)
        self.assertEqual(resp, empty_pb2.Empty())

    def test_unary_call_response_size(self):
        ch = self.started()
        call = test_method(ch, "unary_unary", "UnaryCall", messages_pb2.SimpleRequest, messages_pb2.SimpleResponse)
        resp = call(messages_pb2.SimpleRequest(response_size=314159,
                                               payload=messages_pb2.Payload(body=b"\0" * 271828)),
                    timeout=RPC_TIMEOUT)
        self.assertEqual(resp.payload.body, b"\0" * 314159)
        cacheable = test_method(ch, "unary_unary", "CacheableUnaryCall", messages_pb2.SimpleRequest,
                                messages_pb2.SimpleResponse)
        self.assertEqual(len(cacheable(messages_pb2.SimpleRequest(response_size=7), timeout=RPC_TIMEOUT)
                             .payload.body), 7)

    def test_unary_call_large_request(self):
        ch = self.started()
        call = test_method(ch, "unary_unary", "UnaryCall", messages_pb2.SimpleRequest, messages_pb2.SimpleResponse)
        big = messages_pb2.SimpleRequest(response_size=1, payload=messages_pb2.Payload(body=b"x" * (8 << 20)))
        self.assertEqual(len(call(big, timeout=RPC_TIMEOUT).payload.body), 1)

    def test_unary_call_response_status(self):
        ch = self.started()
        call = test_method(ch, "unary_unary", "UnaryCall", messages_pb2.SimpleRequest, messages_pb2.SimpleResponse)
        for code, message in [(grpc.StatusCode.UNKNOWN, "test status message"),
                              (grpc.StatusCode.UNAVAILABLE, "\t\ntest with whitespace\r\nand Unicode BMP \u263a "
                                                            "and non-BMP \U0001f608\t\n")]:
            with self.assertRaises(grpc.RpcError) as ctx:
                call(messages_pb2.SimpleRequest(response_status=messages_pb2.EchoStatus(
                    code=code.value[0], message=message)), timeout=RPC_TIMEOUT)
            self.assertEqual(ctx.exception.code(), code)
            self.assertEqual(ctx.exception.details(), message)

    def test_negative_response_size_is_invalid_argument(self):
        ch = self.started()
        call = test_method(ch, "unary_unary", "UnaryCall", messages_pb2.SimpleRequest, messages_pb2.SimpleResponse)
        with self.assertRaises(grpc.RpcError) as ctx:
            call(messages_pb2.SimpleRequest(response_size=-1), timeout=RPC_TIMEOUT)
        self.assertEqual(ctx.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)

    def test_streaming_output_call(self):
        ch = self.started()
        call = test_method(ch, "unary_stream", "StreamingOutputCall", messages_pb2.StreamingOutputCallRequest,
                           messages_pb2.StreamingOutputCallResponse)
        sizes = [31415, 9, 2653, 58979]
        req = messages_pb2.StreamingOutputCallRequest(
            response_parameters=[messages_pb2.ResponseParameters(size=s, interval_us=20000) for s in sizes])
        start = time.monotonic()
        got = [len(r.payload.body) for r in call(req, timeout=RPC_TIMEOUT)]
        self.assertEqual(got, sizes)
        self.assertGreaterEqual(time.monotonic() - start, 0.08)  # 4 x 20ms intervals

    def test_streaming_output_call_status(self):
        ch = self.started()
        call = test_method(ch, "unary_stream", "StreamingOutputCall", messages_pb2.StreamingOutputCallRequest,
                           messages_pb2.StreamingOutputCallResponse)
        req = messages_pb2.StreamingOutputCallRequest(
            response_parameters=[messages_pb2.ResponseParameters(size=3)],
            response_status=messages_pb2.EchoStatus(code=9, message="after one"))
        stream = call(req, timeout=RPC_TIMEOUT)
        self.assertEqual(len(next(stream).payload.body), 3)
        with self.assertRaises(grpc.RpcError) as ctx:
            next(stream)
        self.assertEqual(ctx.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)
        self.assertEqual(ctx.exception.details(), "after one")

    def test_streaming_input_call(self):
        ch = self.started()
        call = test_method(ch, "stream_unary", "StreamingInputCall", messages_pb2.StreamingInputCallRequest,
                           messages_pb2.StreamingInputCallResponse)
        reqs = [messages_pb2.StreamingInputCallRequest(payload=messages_pb2.Payload(body=b"\0" * n))
                for n in (27182, 8, 1828, 45904)]
        self.assertEqual(call(iter(reqs), timeout=RPC_TIMEOUT).aggregated_payload_size, 74922)

    def test_full_duplex_ping_pong(self):
        ch = self.started()
        call = test_method(ch, "stream_stream", "FullDuplexCall", messages_pb2.StreamingOutputCallRequest,
                           messages_pb2.StreamingOutputCallResponse)
        outbox = queue.Queue()

        def requests():
            while True:
                item = outbox.get(timeout=RPC_TIMEOUT)
                if item is None:
                    return
                yield item

        stream = call(requests(), timeout=RPC_TIMEOUT)
        for req_size, resp_size in [(27182, 31415), (8, 9), (1828, 2653), (45904, 58979)]:
            # The next request is only sent after the previous answer came back: a true ping-pong.
            outbox.put(messages_pb2.StreamingOutputCallRequest(
                response_parameters=[messages_pb2.ResponseParameters(size=resp_size)],
                payload=messages_pb2.Payload(body=b"\0" * req_size)))
            self.assertEqual(len(next(stream).payload.body), resp_size)
        outbox.put(None)
        self.assertEqual(list(stream), [])
        self.assertEqual(stream.code(), grpc.StatusCode.OK)

    def test_full_duplex_status_ends_call(self):
        ch = self.started()
        call = test_method(ch, "stream_stream", "FullDuplexCall", messages_pb2.StreamingOutputCallRequest,
                           messages_pb2.StreamingOutputCallResponse)
        req = messages_pb2.StreamingOutputCallRequest(response_status=messages_pb2.EchoStatus(
            code=2, message="test status message"))
        with self.assertRaises(grpc.RpcError) as ctx:
            list(call(iter([req]), timeout=RPC_TIMEOUT))
        self.assertEqual(ctx.exception.code(), grpc.StatusCode.UNKNOWN)
        self.assertEqual(ctx.exception.details(), "test status message")

    def test_half_duplex_answers_after_half_close(self):
        ch = self.started()
        call = test_method(ch, "stream_stream", "HalfDuplexCall", messages_pb2.StreamingOutputCallRequest,
                           messages_pb2.StreamingOutputCallResponse)
        outbox = queue.Queue()
        received = []

        def requests():
            while True:
                item = outbox.get(timeout=RPC_TIMEOUT)
                if item is None:
                    return
                yield item

        stream = call(requests(), timeout=RPC_TIMEOUT)
        reader = threading.Thread(target=lambda: received.extend(len(r.payload.body) for r in stream))
        reader.start()
        for size in (5, 6, 7):
            outbox.put(messages_pb2.StreamingOutputCallRequest(
                response_parameters=[messages_pb2.ResponseParameters(size=size)]))
        time.sleep(0.3)
        self.assertEqual(received, [], "HalfDuplexCall answered before the client half-closed")
        outbox.put(None)
        reader.join(timeout=RPC_TIMEOUT)
        self.assertFalse(reader.is_alive())
        self.assertEqual(received, [5, 6, 7])

    def test_unimplemented_call(self):
        ch = self.started()
        call = test_method(ch, "unary_unary", "UnimplementedCall", empty_pb2.Empty, empty_pb2.Empty)
        with self.assertRaises(grpc.RpcError) as ctx:
            call(empty_pb2.Empty(), timeout=RPC_TIMEOUT)
        self.assertEqual(ctx.exception.code(), grpc.StatusCode.UNIMPLEMENTED)

    def test_metadata_echo(self):
        ch = self.started()
        md = (("x-grpc-test-echo-initial", "test_initial_metadata_value"),
              ("x-grpc-test-echo-trailing-bin", b"\x0a\x0b\x0a\x0b\x0a\x0b"))
        unary = test_method(ch, "unary_unary", "UnaryCall", messages_pb2.SimpleRequest, messages_pb2.SimpleResponse)
        _, call = unary.with_call(messages_pb2.SimpleRequest(response_size=1), metadata=md, timeout=RPC_TIMEOUT)
        self.assertIn(md[0], tuple(call.initial_metadata()))
        self.assertIn(md[1], tuple(call.trailing_metadata()))
        duplex = test_method(ch, "stream_stream", "FullDuplexCall", messages_pb2.StreamingOutputCallRequest,
                             messages_pb2.StreamingOutputCallResponse)
        stream = duplex(iter([messages_pb2.StreamingOutputCallRequest(
            response_parameters=[messages_pb2.ResponseParameters(size=1)])]), metadata=md, timeout=RPC_TIMEOUT)
        self.assertEqual(len(list(stream)), 1)
        self.assertIn(md[0], tuple(stream.initial_metadata()))
        self.assertIn(md[1], tuple(stream.trailing_metadata()))

    # --- health --------------------------------------------------------------------------

    def test_health(self):
        ch = self.started()
        check = method(ch, "unary_unary", "grpc.health.v1.Health/Check", health_pb2.HealthCheckRequest,
                       health_pb2.HealthCheckResponse)
        for service in ["", "grpc.testing.TestService", "grpc.health.v1.Health"]:
            self.assertEqual(check(health_pb2.HealthCheckRequest(service=service), timeout=RPC_TIMEOUT).status,
                             health_pb2.HealthCheckResponse.SERVING)
        with self.assertRaises(grpc.RpcError) as ctx:
            check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=RPC_TIMEOUT)
        self.assertEqual(ctx.exception.code(), grpc.StatusCode.NOT_FOUND)

        watch = method(ch, "unary_stream", "grpc.health.v1.Health/Watch", health_pb2.HealthCheckRequest,
                       health_pb2.HealthCheckResponse)
        stream = watch(health_pb2.HealthCheckRequest(service=""), timeout=RPC_TIMEOUT)
        self.assertEqual(next(stream).status, health_pb2.HealthCheckResponse.SERVING)
        stream.cancel()
        unknown = watch(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=RPC_TIMEOUT)
        self.assertEqual(next(unknown).status, health_pb2.HealthCheckResponse.SERVICE_UNKNOWN)
        unknown.cancel()

    def test_no_health(self):
        ch = self.started("--no-health")
        check = method(ch, "unary_unary", "grpc.health.v1.Health/Check", health_pb2.HealthCheckRequest,
                       health_pb2.HealthCheckResponse)
        with self.assertRaises(grpc.RpcError) as ctx:
            check(health_pb2.HealthCheckRequest(), timeout=RPC_TIMEOUT)
        self.assertEqual(ctx.exception.code(), grpc.StatusCode.UNIMPLEMENTED)

    # --- reflection ----------------------------------------------------------------------

    def test_reflection_list_services_v1_and_v1alpha(self):
        ch = self.started()
        for module in (refl_v1, refl_v1alpha):
            [resp] = self.reflect(ch, module, module.ServerReflectionRequest(list_services="*"))
            self.assertEqual([s.name for s in resp.list_services_response.service], ALL_SERVICES)
            self.assertEqual(resp.original_request.list_services, "*")

    def test_reflection_file_containing_symbol(self):
        ch = self.started()
        for module in (refl_v1, refl_v1alpha):
            [resp] = self.reflect(ch, module, module.ServerReflectionRequest(
                file_containing_symbol="grpc.testing.TestService"))
            self.assertEqual(resp.WhichOneof("message_response"), "file_descriptor_response", str(resp))
            files = [descriptor_pb2.FileDescriptorProto.FromString(b)
                     for b in resp.file_descriptor_response.file_descriptor_proto]
            self.assertEqual(files[0].name, "grpc/testing/test.proto")
            self.assertEqual(sorted(f.name for f in files),
                             ["grpc/testing/empty.proto", "grpc/testing/messages.proto", "grpc/testing/test.proto"])
            self.assertIn("UnaryCall", [m.name for m in files[0].service[0].method])

            [resp] = self.reflect(ch, module, module.ServerReflectionRequest(
                file_containing_symbol="grpc.testing.TestService.UnaryCall"))
            self.assertEqual(len(resp.file_descriptor_response.file_descriptor_proto), 3)

            [resp] = self.reflect(ch, module, module.ServerReflectionRequest(file_containing_symbol="no.Such"))
            self.assertEqual(resp.error_response.error_code, grpc.StatusCode.NOT_FOUND.value[0])
            self.assertEqual(resp.error_response.error_message, "symbol not found: no.Such")

            [resp] = self.reflect(ch, module, module.ServerReflectionRequest(
                file_by_filename="grpc/health/v1/health.proto"))
            self.assertEqual(descriptor_pb2.FileDescriptorProto.FromString(
                resp.file_descriptor_response.file_descriptor_proto[0]).package, "grpc.health.v1")

    def test_reflection_none_and_one_version(self):
        ch = self.started("--reflection", "none")
        for module in (refl_v1, refl_v1alpha):
            with self.assertRaises(grpc.RpcError) as ctx:
                self.reflect(ch, module, module.ServerReflectionRequest(list_services="*"))
            self.assertEqual(ctx.exception.code(), grpc.StatusCode.UNIMPLEMENTED)
        ch = self.started("--reflection", "v1alpha")
        [resp] = self.reflect(ch, refl_v1alpha, refl_v1alpha.ServerReflectionRequest(list_services="*"))
        self.assertEqual([s.name for s in resp.list_services_response.service],
                         ["grpc.channelz.v1.Channelz", "grpc.health.v1.Health",
                          "grpc.reflection.v1alpha.ServerReflection", "grpc.testing.TestService"])
        with self.assertRaises(grpc.RpcError) as ctx:
            self.reflect(ch, refl_v1, refl_v1.ServerReflectionRequest(list_services="*"))
        self.assertEqual(ctx.exception.code(), grpc.StatusCode.UNIMPLEMENTED)

    # --- listening, TLS, lifecycle ---------------------------------------------------------

    def test_unix_socket(self):
        path = os.path.join(self.tmp, "serve.sock")
        _, address = self.serve("--listen", "unix:" + path)
        self.assertEqual(address, "unix:" + path)
        ch = self.channel(address)
        resp = test_method(ch, "unary_unary", "UnaryCall", messages_pb2.SimpleRequest, messages_pb2.SimpleResponse)(
            messages_pb2.SimpleRequest(response_size=10), timeout=RPC_TIMEOUT)
        self.assertEqual(len(resp.payload.body), 10)

    def test_ipv6_loopback(self):
        if not socket_has_ipv6_loopback():
            self.skipTest("no ::1 on this machine")
        _, address = self.serve("--listen", "[::1]:0")
        self.assertRegex(address, r"^\[::1\]:[1-9][0-9]*$")
        ch = self.channel(address)
        test_method(ch, "unary_unary", "EmptyCall", empty_pb2.Empty, empty_pb2.Empty)(
            empty_pb2.Empty(), timeout=RPC_TIMEOUT)

    def test_json_output(self):
        import json
        _, line = self.serve("--listen", "127.0.0.1:0", "-o", "json")
        doc = json.loads(line)
        self.assertRegex(doc["address"], r"^127\.0\.0\.1:[1-9][0-9]*$")
        self.assertEqual(doc["tls"], False)
        self.assertEqual(doc["services"], ALL_SERVICES)

    def test_sigterm_stops_promptly_with_open_streams(self):
        proc, address = self.serve("--listen", "127.0.0.1:0")
        ch = self.channel(address)
        watch = method(ch, "unary_stream", "grpc.health.v1.Health/Watch", health_pb2.HealthCheckRequest,
                       health_pb2.HealthCheckResponse)
        stream = watch(health_pb2.HealthCheckRequest(service=""), timeout=30)
        self.assertEqual(next(stream).status, health_pb2.HealthCheckResponse.SERVING)
        slow = test_method(ch, "unary_stream", "StreamingOutputCall", messages_pb2.StreamingOutputCallRequest,
                           messages_pb2.StreamingOutputCallResponse)(
            messages_pb2.StreamingOutputCallRequest(
                response_parameters=[messages_pb2.ResponseParameters(size=1),
                                     messages_pb2.ResponseParameters(size=1, interval_us=60_000_000)]),
            timeout=90)
        # Its first message says the stream is open in the server (a fixed wait could signal
        # before the call got there on a busy machine); its second is a minute away.
        self.assertEqual(len(next(slow).payload.body), 1)
        start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=30), 0)
        # The grace is 1 s; the margin is for a busy machine. Waiting for the open stream would
        # take a minute.
        self.assertLess(time.monotonic() - start, 10.0)
        # The watcher heard NOT_SERVING, then the stream ended.
        rest = []
        with self.assertRaises(grpc.RpcError):
            for r in stream:
                rest.append(r.status)
        self.assertEqual(rest, [health_pb2.HealthCheckResponse.NOT_SERVING])
        with self.assertRaises(grpc.RpcError):
            list(slow)

    def test_sigint_exits_zero(self):
        proc, _ = self.serve("--listen", "127.0.0.1:0")
        proc.send_signal(signal.SIGINT)
        self.assertEqual(proc.wait(timeout=10), 0)

    def test_bad_listen_addresses(self):
        _, busy = self.serve("--listen", "127.0.0.1:0")
        cases = [
            (["--listen", busy], 1, "error: cannot listen on %s: Address already in use" % busy),
            # A malformed address is a usage error (2); one that cannot be bound is a local failure (1).
            (["--listen", "127.0.0.1:99999"], 2, "error: cannot listen on 127.0.0.1:99999: invalid port '99999'"),
            (["--listen", "nonsense"], 2, "error: cannot listen on nonsense: missing ':PORT'"),
            (["--listen", "unix:" + os.path.join(self.tmp, "no/such/dir/s.sock")], 1,
             "error: cannot listen on unix:%s: No such file or directory" % os.path.join(self.tmp, "no/such/dir/s.sock")),
            (["--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key"], 1,
             "error: cannot read TLS certificate /nonexistent.pem: No such file or directory"),
            (["--tls-cert", "/nonexistent.pem"], 2, "error: --tls-cert and --tls-key go together"),
            (["--reflection", "v2"], 2, "error: invalid --reflection 'v2'"),
        ]
        for args, code, prefix in cases:
            with self.subTest(args=args):
                full = args if "--listen" in args else ["--listen", "127.0.0.1:0", *args]
                r = subprocess.run([GRPCDX, "serve", *full], capture_output=True,
                                   text=True, timeout=20)
                self.assertEqual(r.returncode, code, r.stderr)
                self.assertEqual(r.stdout, "")
                lines = r.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, r.stderr)
                self.assertTrue(lines[0].startswith(prefix), lines[0])

    def make_pki(self):
        """A CA, a server certificate for localhost/127.0.0.1 and a client certificate."""
        def run(*args):
            subprocess.run(["openssl", *args], cwd=self.tmp, check=True, capture_output=True, timeout=60)
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=grpcdx test CA")
        with open(os.path.join(self.tmp, "san.ext"), "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        for name in ("server", "client"):
            run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
                "-subj", "/CN=" + name)
            run("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", name + ".pem", "-days", "2", "-extfile", "san.ext")
        pki = {}
        for n in ("ca.pem", "server.pem", "server.key", "client.pem", "client.key"):
            with open(os.path.join(self.tmp, n), "rb") as f:
                pki[n] = f.read()
        return pki

    def test_tls_and_client_certificates(self):
        pki = self.make_pki()
        p = lambda n: os.path.join(self.tmp, n)  # noqa: E731
        _, address = self.serve("--listen", "127.0.0.1:0", "--tls-cert", p("server.pem"), "--tls-key",
                                p("server.key"))
        ch = self.channel(address, grpc.ssl_channel_credentials(root_certificates=pki["ca.pem"]),
                          options=[("grpc.ssl_target_name_override", "localhost")])
        test_method(ch, "unary_unary", "EmptyCall", empty_pb2.Empty, empty_pb2.Empty)(
            empty_pb2.Empty(), timeout=RPC_TIMEOUT)

        _, address = self.serve("--listen", "127.0.0.1:0", "--tls-cert", p("server.pem"), "--tls-key",
                                p("server.key"), "--client-ca", p("ca.pem"))
        without = self.channel(address, grpc.ssl_channel_credentials(root_certificates=pki["ca.pem"]),
                               options=[("grpc.ssl_target_name_override", "localhost")])
        with self.assertRaises(grpc.RpcError) as ctx:
            test_method(without, "unary_unary", "EmptyCall", empty_pb2.Empty, empty_pb2.Empty)(
                empty_pb2.Empty(), timeout=RPC_TIMEOUT)
        self.assertEqual(ctx.exception.code(), grpc.StatusCode.UNAVAILABLE)
        with_cert = self.channel(address, grpc.ssl_channel_credentials(
            root_certificates=pki["ca.pem"], private_key=pki["client.key"], certificate_chain=pki["client.pem"]),
            options=[("grpc.ssl_target_name_override", "localhost")])
        test_method(with_cert, "unary_unary", "EmptyCall", empty_pb2.Empty, empty_pb2.Empty)(
            empty_pb2.Empty(), timeout=RPC_TIMEOUT)


def socket_has_ipv6_loopback():
    import socket
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() else 1)
