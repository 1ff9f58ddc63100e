#!/usr/bin/python3
"""End-to-end: `grpcdx list` / `describe` against small hand-written reflection servers (Python
grpcio, generic handlers) that answer the way odd real servers do: a dependency they cannot
send, files sent twice, v1alpha only, proto3 optional fields without their synthetic oneof, a
file protobuf rejects, no reflection at all. Each must still work or fail with a clear error."""

import os
import subprocess
import sys
import tempfile
import time
from concurrent import futures

import grpc

GRPCDX = os.environ.get("GRPCDX", "build/grpcdx")
TESTDATA = os.environ.get("GRPCDX_TESTDATA", os.path.join(os.path.dirname(__file__), "..", "..", "testdata"))
GRPC_PROTO_DIR = os.environ.get("GRPC_PROTO_DIR", "/usr/share/grpc-proto")
PROTOS = os.path.join(TESTDATA, "protos")

failures = []


def check(cond, what, detail=""):
    if cond:
        print(f"ok   {what}")
    else:
        print(f"FAIL {what}\n{detail}")
        failures.append(what)


def generate(tmp):
    """Python modules for both reflection versions and a protoset of the shop protos."""
    subprocess.run(["protoc", f"-I{GRPC_PROTO_DIR}", f"--python_out={tmp}",
                    "grpc/reflection/v1/reflection.proto", "grpc/reflection/v1alpha/reflection.proto"],
                   check=True, timeout=60)
    protoset = os.path.join(tmp, "shop.protoset")
    subprocess.run(["protoc", f"-I{PROTOS}", f"--descriptor_set_out={protoset}", "--include_imports",
                    "shop/v1/shop.proto"], check=True, timeout=60)
    return protoset


def load_modules(tmp):
    import importlib.util

    def load(name, path):
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    v1 = load("refl_v1_pb2", os.path.join(tmp, "grpc/reflection/v1/reflection_pb2.py"))
    v1alpha = load("refl_v1alpha_pb2", os.path.join(tmp, "grpc/reflection/v1alpha/reflection_pb2.py"))
    return {"v1": v1, "v1alpha": v1alpha}


class OddReflection:
    """A reflection service over a dict of FileDescriptorProtos, with configurable oddities."""

    def __init__(self, files, services, withheld=(), duplicate=False, with_deps=True, top_level_only=False,
                 wrong_file=None):
        self.files = files            # name -> FileDescriptorProto
        self.services = services
        self.withheld = set(withheld)  # files answered NOT_FOUND, also for their symbols
        self.duplicate = duplicate    # send every file twice
        self.with_deps = with_deps    # send a file's dependencies with it
        self.top_level_only = top_level_only  # know only top-level symbols (no methods, nested types)
        self.wrong_file = wrong_file or {}  # symbol -> a file to answer with that does not define it
        self.requests = 0

    def symbols(self, fd):
        pkg = fd.package + "." if fd.package else ""
        out = set()

        def msg(m, scope):
            name = scope + m.name
            out.add(name)
            if self.top_level_only:
                return
            for n in m.nested_type:
                msg(n, name + ".")
            for e in m.enum_type:
                out.add(name + "." + e.name)
        for m in fd.message_type:
            msg(m, pkg)
        for e in fd.enum_type:
            out.add(pkg + e.name)
        for s in fd.service:
            out.add(pkg + s.name)
            for m in ([] if self.top_level_only else s.method):
                out.add(pkg + s.name + "." + m.name)
        return out

    def closure(self, name):
        order, seen = [], set()

        def visit(n):
            if n in seen or n in self.withheld or n not in self.files:
                return
            seen.add(n)
            order.append(n)
            if self.with_deps:
                for d in self.files[n].dependency:
                    visit(d)
        visit(name)
        return order

    def answer(self, pb, req):
        self.requests += 1
        resp = pb.ServerReflectionResponse()
        resp.original_request.CopyFrom(req)
        kind = req.WhichOneof("message_request")
        names = []
        if kind == "list_services":
            for s in self.services:
                resp.list_services_response.service.add(name=s)
            return resp
        if kind == "file_by_filename":
            names = self.closure(req.file_by_filename)
        elif kind == "file_containing_symbol" and req.file_containing_symbol in self.wrong_file:
            names = self.closure(self.wrong_file[req.file_containing_symbol])
        elif kind == "file_containing_symbol":
            for n, fd in self.files.items():
                if n not in self.withheld and req.file_containing_symbol in self.symbols(fd):
                    names = self.closure(n)
        if not names:
            resp.error_response.error_code = grpc.StatusCode.NOT_FOUND.value[0]
            resp.error_response.error_message = f"not found: {req}"
            return resp
        for n in names:
            blob = self.files[n].SerializeToString()
            resp.file_descriptor_response.file_descriptor_proto.append(blob)
            if self.duplicate:
                resp.file_descriptor_response.file_descriptor_proto.append(blob)
        return resp

    def handler(self, pb, version):
        def info(request_iterator, context):
            for req in request_iterator:
                yield self.answer(pb, req)
        return grpc.method_handlers_generic_handler(
            f"grpc.reflection.{version}.ServerReflection",
            {"ServerReflectionInfo": grpc.stream_stream_rpc_method_handler(
                info, request_deserializer=pb.ServerReflectionRequest.FromString,
                response_serializer=pb.ServerReflectionResponse.SerializeToString)})


def start(handlers):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    for h in handlers:
        server.add_generic_rpc_handlers((h,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, f"127.0.0.1:{port}"


def grpcdx(*args):
    r = subprocess.run([GRPCDX, *args], capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def main():
    from google.protobuf import descriptor_pb2

    with tempfile.TemporaryDirectory() as tmp:
        protoset = generate(tmp)
        pbs = load_modules(tmp)
        fds = descriptor_pb2.FileDescriptorSet.FromString(open(protoset, "rb").read())
        files = {f.name: f for f in fds.file}
        services = ["shop.v1.ShopService"]

        # 1. The server cannot send a dependency (NOT_FOUND) and sends no deps with a file.
        odd = OddReflection(files, services, withheld={"shop/v1/common.proto", "google/protobuf/empty.proto",
                                                       "google/protobuf/timestamp.proto"}, with_deps=False)
        server, addr = start([odd.handler(pbs["v1"], "v1")])
        code, out, err = grpcdx("describe", "--plaintext", addr, "shop.v1.ShopService", "-v")
        check(code == 0 and "rpc UploadItems(stream shop.v1.Item) returns (google.protobuf.Empty);" in out,
              "missing dependency: describe service works", out + err)
        check("google/protobuf/empty.proto: not sent by the server; used the built-in copy" in err,
              "missing dependency: well-known type from the built-in copy", err)
        check("shop/v1/common.proto: not sent by the server; its types are unknown placeholders" in err,
              "missing dependency: placeholder noted with -v", err)
        code, out, err = grpcdx("describe", "--plaintext", addr, "shop.v1.Item")
        check(code == 0 and "shop.v1.Money price = 2;" in out and "google.protobuf.Timestamp created = 6;" in out,
              "missing dependency: describe message with placeholder types", out + err)
        code, out, err = grpcdx("list", "--plaintext", addr, "shop.v1.ShopService", "-o", "json")
        check(code == 0 and '"input_type":"shop.v1.GetItemRequest"' in out, "missing dependency: list methods", out + err)
        code, out, err = grpcdx("describe", "--plaintext", addr, "shop.v1.Money")
        check(code == 1 and err.startswith("error: symbol 'shop.v1.Money' not found"),
              "missing dependency: its own symbols are not found", err)
        # A call whose messages need the missing file fails before the call, naming file and field.
        for method in ("shop.v1.ShopService/GetItem", "shop.v1.ShopService/UploadItems"):
            code, out, err = grpcdx("call", "--plaintext", addr, method)
            check(code == 1 and err.strip() == "error: the server's reflection did not send shop/v1/common.proto, "
                  f"which {method} needs (shop.v1.Item.amount_off has type shop.v1.Money) "
                  "(pass the schema with --proto or --protoset)",
                  f"missing dependency: call {method} fails before the call with a hint", f"{code} {err}")
        code, out, err = grpcdx("bench", "--plaintext", addr, "shop.v1.ShopService/GetItem", "-n", "1")
        check(code == 1 and "did not send shop/v1/common.proto" in err, "missing dependency: bench fails too",
              f"{code} {err}")
        server.stop(0)

        # 1b. Reflection answers the request for a service with a file that does not define it.
        odd = OddReflection(files, services, wrong_file={"shop.v1.ShopService": "shop/v1/common.proto"})
        server, addr = start([odd.handler(pbs["v1"], "v1")])
        for args in (["describe", "shop.v1.ShopService"], ["call", "shop.v1.ShopService/GetItem"],
                     ["list", "shop.v1.ShopService"]):
            code, out, err = grpcdx(args[0], "--plaintext", addr, *args[1:])
            check(code == 1 and err.strip() == "error: the server's reflection answered with shop/v1/common.proto, "
                  "which does not define shop.v1.ShopService (the server's reflection is inconsistent: pass the "
                  "schema with --proto or --protoset)", f"wrong file: {args[0]} says which file came", f"{code} {err}")
        server.stop(0)

        # 2. v1alpha only, every file sent twice, dependencies sent along: one request after the fallback.
        odd = OddReflection(files, services, duplicate=True)
        server, addr = start([odd.handler(pbs["v1alpha"], "v1alpha")])
        code, out, err = grpcdx("list", "--plaintext", addr, "-v")
        check(code == 0 and out == "shop.v1.ShopService\n" and "reflection: 2 requests (v1alpha)" in err,
              "v1alpha fallback: list", out + err)
        code, out, err = grpcdx("describe", "--plaintext", addr, "shop.v1.ShopService/Chat", "-v")
        check(code == 0 and "rpc Chat(stream shop.v1.ChatMessage) returns (stream shop.v1.ChatMessage);" in out,
              "duplicated files: describe method", out + err)
        check("reflection: 2 requests (v1alpha)" in err, "duplicated files: dependencies never asked for again", err)
        server.stop(0)

        # 2b. A server that knows only top-level symbols: methods and nested types via their parent.
        odd = OddReflection(files, services, top_level_only=True)
        server, addr = start([odd.handler(pbs["v1"], "v1")])
        code, out, err = grpcdx("describe", "--plaintext", addr, "shop.v1.ShopService.GetItem")
        check(code == 0 and "rpc GetItem(shop.v1.GetItemRequest) returns (shop.v1.Item);" in out,
              "top-level-only server: describe method", out + err)
        code, out, err = grpcdx("describe", "--plaintext", addr, "shop.v1.Item.Variant", "-o", "json")
        check(code == 0 and '"kind":"message"' in out and "shop.v1.Money price = 2;" in out,
              "top-level-only server: describe nested message", out + err)
        server.stop(0)

        # 3. proto3 optional without its synthetic oneof (as some implementations send it).
        odd_files = {n: descriptor_pb2.FileDescriptorProto.FromString(f.SerializeToString()) for n, f in files.items()}
        for m in odd_files["shop/v1/shop.proto"].message_type:
            if m.name == "ListItemsRequest":
                del m.oneof_decl[:]
                for f in m.field:
                    f.ClearField("oneof_index")
        odd = OddReflection(odd_files, services)
        server, addr = start([odd.handler(pbs["v1"], "v1")])
        code, out, err = grpcdx("describe", "--plaintext", addr, "shop.v1.ListItemsRequest", "-v")
        check(code == 0 and "optional string page_token = 2;" in out, "proto3 optional repaired", out + err)
        check("added the missing synthetic oneof of optional field shop.v1.ListItemsRequest.page_token" in err,
              "proto3 optional repair noted with -v", err)
        server.stop(0)

        # 4. A file protobuf rejects and nothing can repair: the error names the file and problem.
        bad_files = {n: descriptor_pb2.FileDescriptorProto.FromString(f.SerializeToString()) for n, f in files.items()}
        for m in bad_files["shop/v1/shop.proto"].message_type:
            if m.name == "GetItemRequest":
                m.field.add(name="again", number=1, type=9, label=1)
        odd = OddReflection(bad_files, services)
        server, addr = start([odd.handler(pbs["v1"], "v1")])
        code, out, err = grpcdx("describe", "--plaintext", addr, "shop.v1.ShopService")
        check(code == 1 and "error: cannot use 'shop/v1/shop.proto' from the server's reflection: "
              "shop.v1.GetItemRequest.again: Field number 1 has already been used" in err,
              "rejected file: error names file and problem", err)
        server.stop(0)

        # 5. No reflection service at all.
        other = grpc.method_handlers_generic_handler("other.Service", {})
        server, addr = start([other])
        code, out, err = grpcdx("list", "--plaintext", addr)
        check(code == 1 and err.strip() == "error: server does not support the reflection API "
              "(pass the schema with --proto or --protoset)", "no reflection: exit 1 with a hint", err)
        code, out, err = grpcdx("list", "--plaintext", addr, "--protoset", protoset)
        check(code == 0 and out == "shop.v1.ShopService\n", "no reflection: --protoset works", out + err)
        server.stop(0)

        # 6. Nothing listens: UNAVAILABLE, exit 78.
        code, out, err = grpcdx("list", "--plaintext", addr, "--connect-timeout", "2s")
        check(code == 78 and ("UNAVAILABLE" in err or "failed to connect" in err), "unreachable: exit 78", f"{code} {err}")

    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
