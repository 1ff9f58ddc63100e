# A grpc.testing.TestService written with python3-grpcio (a gRPC implementation that is not
# grpcdx's), with hand-written server reflection v1 and v1alpha. Prints its address as the first
# line of stdout. Message classes are generated at start-up with `protoc --python_out` from
# the grpc-proto files.
#
#   /usr/bin/python3 python_server.py [--listen 127.0.0.1:0] [--reflection v1,v1alpha|none]
#                                     [--misbehave bad-bytes|missing-dependency|wrong-file]
#                                     [--option NAME=INT]... [--health]
#
# --option passes a channel argument to grpc.server (grpc.max_connection_idle_ms=1000, ...);
# --health adds grpc.health.v1.Health (Check answers SERVING; Watch sends SERVING and stays open
# until the client goes), spoken in raw bytes since python3-grpcio has no grpc_health module.
#
# --misbehave makes it a hostile peer for test_hostile.py: bad-bytes answers UnaryCall (and the
# second message of StreamingOutputCall) with bytes that are not a valid message of the response
# type; missing-dependency makes reflection withhold grpc/testing/messages.proto (NOT_FOUND, and
# left out of the files that import it); wrong-file makes reflection answer every symbol with
# grpc/testing/empty.proto, a file that does not define it.
#
# A call that asks for a non-OK status (response_status) with the request metadata
# `x-rich-details` also gets a google.rpc.Status with details in grpc-status-details-bin (with
# `x-rich-details: malformed`, bytes that are not a google.rpc.Status; with `bad-utf8`, an
# ErrorInfo whose string field is not UTF-8).
import argparse
import importlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent import futures

import grpc
from google.protobuf import descriptor_pool

GRPC_PROTO_DIR = os.environ.get("GRPC_PROTO_DIR", "/usr/share/grpc-proto")
PROTOS = ["grpc/testing/empty.proto", "grpc/testing/messages.proto", "grpc/testing/test.proto",
          "grpc/reflection/v1/reflection.proto", "grpc/reflection/v1alpha/reflection.proto"]
# Generated modules live under "grpcgen" instead of "grpc" so they do not shadow grpcio.
GEN_PACKAGE = "grpcgen"


def generate(out_dir):
    """Generates the *_pb2 modules into out_dir/grpcgen/... and makes them importable."""
    raw = os.path.join(out_dir, "raw")
    os.makedirs(raw)
    subprocess.run(["protoc", "-I", GRPC_PROTO_DIR, "--python_out=" + raw] + PROTOS,
                   check=True, timeout=60)
    for dirpath, _, files in os.walk(os.path.join(raw, "grpc")):
        rel = os.path.relpath(dirpath, os.path.join(raw, "grpc"))
        target = os.path.normpath(os.path.join(out_dir, GEN_PACKAGE, rel))
        os.makedirs(target, exist_ok=True)
        for name in files:
            with open(os.path.join(dirpath, name)) as f:
                text = f.read()
            text = re.sub(r"^from grpc\.", "from %s." % GEN_PACKAGE, text, flags=re.M)
            with open(os.path.join(target, name), "w") as f:
                f.write(text)
    sys.path.insert(0, out_dir)


def status_code(number):
    for code in grpc.StatusCode:
        if code.value[0] == number:
            return code
    return grpc.StatusCode.UNKNOWN


# Not a valid message of any grpc.testing type: field 1 (a message) with a length running
# far past the end.
BAD_BYTES = b"\x0a\xff\xff\xff\xff\x0f\x00"


def _varint(n):
    out = b""
    while True:
        byte, n = n & 0x7F, n >> 7
        out += bytes([byte | (0x80 if n else 0)])
        if not n:
            return out


def _field(number, value):
    """One protobuf field on the wire: a varint for an int, length-delimited for bytes/str."""
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    data = value.encode() if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _any(type_name, value):
    return _field(1, "type.googleapis.com/" + type_name) + _field(2, value)


def rich_status(code, message, known_request):
    """A google.rpc.Status with details, encoded by hand from the public field numbers (not from
    grpcdx's own .proto): an ErrorInfo, a BadRequest, a RetryInfo of 1.5s, a grpc.testing.SimpleRequest
    (a type only this server's reflection describes) and a type nobody describes."""
    error_info = (_field(1, "STOCK_EMPTY") + _field(2, "shop.example")
                  + _field(3, _field(1, "sku") + _field(2, "A-1")))
    bad_request = _field(1, _field(1, "quantity") + _field(2, "must be positive"))
    retry_info = _field(1, _field(1, 1) + _field(2, 500000000))
    return (_field(1, code) + _field(2, message)
            + _field(3, _any("google.rpc.ErrorInfo", error_info))
            + _field(3, _any("google.rpc.BadRequest", bad_request))
            + _field(3, _any("google.rpc.RetryInfo", retry_info))
            + _field(3, _any("grpc.testing.SimpleRequest", known_request))
            + _field(3, _any("example.v1.Unknown", b"\x08\x01")))


class TestService:
    def __init__(self, messages, empty, bad_bytes=False):
        self.m = messages
        self.empty = empty
        self.bad_bytes = bad_bytes

    def _echo_metadata(self, context):
        initial, trailing = [], []
        for key, value in context.invocation_metadata():
            if key == "x-grpc-test-echo-initial":
                initial.append((key, value))
            elif key == "x-grpc-test-echo-trailing-bin":
                trailing.append((key, value))
        if initial:
            context.send_initial_metadata(initial)
        if trailing:
            context.set_trailing_metadata(trailing)

    def _payload(self, size):
        return self.m.Payload(type=self.m.COMPRESSABLE, body=b"\0" * size)

    def _maybe_abort(self, request, context):
        if request.HasField("response_status") and request.response_status.code != 0:
            code, message = request.response_status.code, request.response_status.message
            rich = [value for key, value in context.invocation_metadata() if key == "x-rich-details"]
            if rich:
                known = self.m.SimpleRequest(response_size=7).SerializeToString()
                if rich[0] == "malformed":
                    details = BAD_BYTES
                elif rich[0] == "bad-utf8":  # an ErrorInfo whose reason is not UTF-8
                    details = _field(1, code) + _field(3, _any("google.rpc.ErrorInfo", _field(1, b"\xff\xfe")))
                else:
                    details = rich_status(code, message, known)
                context.set_trailing_metadata([("grpc-status-details-bin", details)])
            context.abort(status_code(code), message)

    def empty_call(self, request, context):
        self._echo_metadata(context)
        return self.empty.Empty()

    def unary_call(self, request, context):
        self._echo_metadata(context)
        self._maybe_abort(request, context)
        return self.m.SimpleResponse(payload=self._payload(request.response_size))

    def streaming_output_call(self, request, context):
        self._echo_metadata(context)
        for i, param in enumerate(request.response_parameters):
            if param.interval_us:
                time.sleep(param.interval_us / 1e6)
            if self.bad_bytes and i == 1:
                yield BAD_BYTES
                continue
            yield self.m.StreamingOutputCallResponse(payload=self._payload(param.size))
        self._maybe_abort(request, context)

    def streaming_input_call(self, request_iterator, context):
        self._echo_metadata(context)
        total = sum(len(r.payload.body) for r in request_iterator)
        return self.m.StreamingInputCallResponse(aggregated_payload_size=total)

    def full_duplex_call(self, request_iterator, context):
        self._echo_metadata(context)
        for request in request_iterator:
            for param in request.response_parameters:
                if param.interval_us:
                    time.sleep(param.interval_us / 1e6)
                yield self.m.StreamingOutputCallResponse(payload=self._payload(param.size))
            self._maybe_abort(request, context)

    def _serializer(self, message_class):
        """SerializeToString, except that bytes pass through as they are (for bad-bytes)."""
        return lambda r: r if isinstance(r, bytes) else message_class.SerializeToString(r)

    def handler(self):
        m, e = self.m, self.empty
        unary = self.unary_call
        if self.bad_bytes:
            def unary(request, context):
                self.unary_call(request, context)
                return BAD_BYTES
        methods = {
            "EmptyCall": grpc.unary_unary_rpc_method_handler(
                self.empty_call, e.Empty.FromString, e.Empty.SerializeToString),
            "UnaryCall": grpc.unary_unary_rpc_method_handler(
                unary, m.SimpleRequest.FromString, self._serializer(m.SimpleResponse)),
            "StreamingOutputCall": grpc.unary_stream_rpc_method_handler(
                self.streaming_output_call, m.StreamingOutputCallRequest.FromString,
                self._serializer(m.StreamingOutputCallResponse)),
            "StreamingInputCall": grpc.stream_unary_rpc_method_handler(
                self.streaming_input_call, m.StreamingInputCallRequest.FromString,
                m.StreamingInputCallResponse.SerializeToString),
            "FullDuplexCall": grpc.stream_stream_rpc_method_handler(
                self.full_duplex_call, m.StreamingOutputCallRequest.FromString,
                m.StreamingOutputCallResponse.SerializeToString),
        }
        return grpc.method_handlers_generic_handler("grpc.testing.TestService", methods)


class Reflection:
    """grpc.reflection.{v1,v1alpha}.ServerReflection over the default descriptor pool."""

    def __init__(self, pb2, service_names, misbehave=None):
        self.pb2 = pb2
        self.services = sorted(service_names)
        self.pool = descriptor_pool.Default()
        self.misbehave = misbehave
        self.withheld = "grpc/testing/messages.proto" if misbehave == "missing-dependency" else None

    def _files_with_deps(self, fd):
        seen, order = set(), []

        def visit(f):
            if f.name in seen or f.name == self.withheld:
                return
            seen.add(f.name)
            order.append(f)
            for dep in f.dependencies:
                visit(dep)

        visit(fd)
        return [f.serialized_pb for f in order]

    def _answer(self, req):
        pb2 = self.pb2
        resp = pb2.ServerReflectionResponse(valid_host=req.host, original_request=req)
        kind = req.WhichOneof("message_request")
        try:
            if kind == "list_services":
                resp.list_services_response.service.extend(
                    pb2.ServiceResponse(name=name) for name in self.services)
            elif kind == "file_by_filename":
                if req.file_by_filename == self.withheld:
                    raise KeyError(req.file_by_filename)
                fd = self.pool.FindFileByName(req.file_by_filename)
                resp.file_descriptor_response.file_descriptor_proto.extend(self._files_with_deps(fd))
            elif kind == "file_containing_symbol":
                fd = self.pool.FindFileContainingSymbol(req.file_containing_symbol)
                if self.misbehave == "wrong-file" and not fd.name.startswith("grpc/reflection/"):
                    fd = self.pool.FindFileByName("grpc/testing/empty.proto")
                if fd.name == self.withheld:
                    raise KeyError(req.file_containing_symbol)
                resp.file_descriptor_response.file_descriptor_proto.extend(self._files_with_deps(fd))
            elif kind in ("file_containing_extension", "all_extension_numbers_of_type"):
                resp.error_response.error_code = grpc.StatusCode.NOT_FOUND.value[0]
                resp.error_response.error_message = "no extensions"
            else:
                resp.error_response.error_code = grpc.StatusCode.UNIMPLEMENTED.value[0]
                resp.error_response.error_message = "unknown request"
        except KeyError as e:
            resp.ClearField("file_descriptor_response")
            resp.error_response.error_code = grpc.StatusCode.NOT_FOUND.value[0]
            resp.error_response.error_message = "not found: %s" % e
        return resp

    def info(self, request_iterator, context):
        for req in request_iterator:
            yield self._answer(req)

    def handler(self, service_name):
        pb2 = self.pb2
        return grpc.method_handlers_generic_handler(service_name, {
            "ServerReflectionInfo": grpc.stream_stream_rpc_method_handler(
                self.info, pb2.ServerReflectionRequest.FromString,
                pb2.ServerReflectionResponse.SerializeToString)})


SERVING = b"\x08\x01"  # grpc.health.v1.HealthCheckResponse{status: SERVING}


def health_handler():
    """grpc.health.v1.Health with raw-bytes messages: every service is SERVING."""
    def check(request, context):
        return SERVING

    def watch(request, context):
        yield SERVING
        # Bounded: the stream stays open while the client holds it, at most 10 minutes.
        deadline = time.monotonic() + 600
        while context.is_active() and time.monotonic() < deadline:
            time.sleep(0.05)

    return grpc.method_handlers_generic_handler("grpc.health.v1.Health", {
        "Check": grpc.unary_unary_rpc_method_handler(check),
        "Watch": grpc.unary_stream_rpc_method_handler(watch)})


def channel_option(text):
    """NAME=INT as a (name, value) pair for grpc.server's options."""
    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError("expected NAME=INT, got %r" % text)
    return (name, int(value))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listen", default="127.0.0.1:0")
    parser.add_argument("--reflection", default="v1,v1alpha",
                        help="comma-separated versions to serve, or 'none'")
    parser.add_argument("--misbehave", choices=["bad-bytes", "missing-dependency", "wrong-file"],
                        help="be a hostile peer (see the top of this file)")
    parser.add_argument("--option", type=channel_option, action="append", default=[],
                        help="a channel argument NAME=INT for grpc.server (repeatable)")
    parser.add_argument("--health", action="store_true", help="serve grpc.health.v1.Health")
    args = parser.parse_args()

    gen_dir = tempfile.mkdtemp(prefix="grpcdx-pyserver-")
    try:
        generate(gen_dir)
        messages = importlib.import_module(GEN_PACKAGE + ".testing.messages_pb2")
        empty = importlib.import_module(GEN_PACKAGE + ".testing.empty_pb2")
        importlib.import_module(GEN_PACKAGE + ".testing.test_pb2")
        versions = [] if args.reflection == "none" else args.reflection.split(",")
        reflection_names = {v: "grpc.reflection.%s.ServerReflection" % v for v in versions}
        for v in versions:
            if v not in ("v1", "v1alpha"):
                parser.error("unknown reflection version %r" % v)

        server = grpc.server(futures.ThreadPoolExecutor(max_workers=16), options=args.option)
        handlers = [TestService(messages, empty, args.misbehave == "bad-bytes").handler()]
        services = ["grpc.testing.TestService"] + list(reflection_names.values())
        if args.health:
            handlers.append(health_handler())  # not listed by reflection: it has no descriptors
        for v, name in reflection_names.items():
            pb2 = importlib.import_module(GEN_PACKAGE + ".reflection.%s.reflection_pb2" % v)
            handlers.append(Reflection(pb2, services, args.misbehave).handler(name))
        server.add_generic_rpc_handlers(handlers)
        host, _, port = args.listen.rpartition(":")
        bound = server.add_insecure_port(args.listen)
        if bound == 0:
            print("cannot listen on %s" % args.listen, file=sys.stderr)
            return 1
        server.start()
        print("%s:%d" % (host, bound), flush=True)

        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        # Bounded: a test server never needs to outlive its test by much.
        stop.wait(timeout=600)
        server.stop(grace=1).wait(timeout=5)
        return 0
    finally:
        shutil.rmtree(gen_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
