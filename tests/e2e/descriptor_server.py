#!/usr/bin/python3
"""A python3-grpcio server whose only service is a hand-written grpc.reflection.v1 that describes
the files of a FileDescriptorSet (protoc --include_imports --descriptor_set_out): the server side
of `grpcdx compat` tests, with a schema no grpcdx code produced. Given several sets, serves each on
a port of its own from one process (one Python start-up for all of a test's schemas). Prints the
addresses, in the order of the sets, one a line, and serves until SIGTERM.

Usage: descriptor_server.py PROTOSET [PROTOSET ...]"""

import importlib.util
import os
import signal
import subprocess
import sys
import tempfile
import threading
from concurrent import futures

import grpc
from google.protobuf import descriptor_pb2

GRPC_PROTO_DIR = os.environ.get("GRPC_PROTO_DIR", "/usr/share/grpc-proto")


def reflection_module(tmp):
    subprocess.run(["protoc", "-I", GRPC_PROTO_DIR, "--python_out=" + tmp,
                    "grpc/reflection/v1/reflection.proto"], check=True, timeout=60)
    path = os.path.join(tmp, "grpc", "reflection", "v1", "reflection_pb2.py")
    spec = importlib.util.spec_from_file_location("descriptor_server_reflection_pb2", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Reflection:
    def __init__(self, pb, fds):
        self.pb = pb
        self.files = {f.name: f for f in fds.file}
        self.symbols = {}
        for f in fds.file:
            prefix = f.package + "." if f.package else ""
            for s in f.service:
                self.symbols[prefix + s.name] = f.name
                for m in s.method:
                    self.symbols[prefix + s.name + "." + m.name] = f.name
            def add_messages(messages, scope):
                for m in messages:
                    self.symbols[scope + m.name] = f.name
                    add_messages(m.nested_type, scope + m.name + ".")
                    for e in m.enum_type:
                        self.symbols[scope + m.name + "." + e.name] = f.name
            add_messages(f.message_type, prefix)
            for e in f.enum_type:
                self.symbols[prefix + e.name] = f.name
        self.services = sorted(prefix_s for f in fds.file for prefix_s in
                               ((f.package + "." if f.package else "") + s.name for s in f.service))

    def closure(self, name):
        order, seen = [], set()

        def visit(n):
            if n in seen or n not in self.files:
                return
            seen.add(n)
            order.append(n)
            for d in self.files[n].dependency:
                visit(d)
        visit(name)
        return order

    def answer(self, req):
        resp = self.pb.ServerReflectionResponse()
        resp.original_request.CopyFrom(req)
        kind = req.WhichOneof("message_request")
        if kind == "list_services":
            for s in self.services:
                resp.list_services_response.service.add(name=s)
            return resp
        names = []
        if kind == "file_by_filename":
            names = self.closure(req.file_by_filename)
        elif kind == "file_containing_symbol" and req.file_containing_symbol in self.symbols:
            names = self.closure(self.symbols[req.file_containing_symbol])
        if not names:
            resp.error_response.error_code = grpc.StatusCode.NOT_FOUND.value[0]
            resp.error_response.error_message = "not found"
            return resp
        for n in names:
            resp.file_descriptor_response.file_descriptor_proto.append(self.files[n].SerializeToString())
        return resp

    def handler(self):
        def info(request_iterator, context):
            for req in request_iterator:
                yield self.answer(req)
        return grpc.method_handlers_generic_handler(
            "grpc.reflection.v1.ServerReflection",
            {"ServerReflectionInfo": grpc.stream_stream_rpc_method_handler(
                info, request_deserializer=self.pb.ServerReflectionRequest.FromString,
                response_serializer=self.pb.ServerReflectionResponse.SerializeToString)})


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        pb = reflection_module(tmp)
    executor = futures.ThreadPoolExecutor(max_workers=4)
    servers = []
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            fds = descriptor_pb2.FileDescriptorSet.FromString(f.read())
        server = grpc.server(executor)
        server.add_generic_rpc_handlers((Reflection(pb, fds).handler(),))
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append((server, port))
    print("\n".join("127.0.0.1:%d" % port for _, port in servers), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    for server, _ in servers:
        server.stop(0)


if __name__ == "__main__":
    main()
