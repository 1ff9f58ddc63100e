# End-to-end tests of `grpcdx list` and `grpcdx describe`: the same table of cases run over every
# schema source (reflection v1, v1alpha only, --proto, --protoset, and a python3-grpcio server);
# --protoset-out (also of `call`).
import json
import os

import grpcdx_test as t

SOURCES = t.SchemaSources()
SERVICE = "grpc.testing.TestService"
TEST_SERVICE_METHODS = ["EmptyCall", "UnaryCall", "CacheableUnaryCall", "StreamingOutputCall",
                        "StreamingInputCall", "FullDuplexCall", "HalfDuplexCall",
                        "UnimplementedCall"]


def tearDownModule():
    SOURCES.close()


def grpcdx(source, command, *args):
    """Runs `grpcdx COMMAND TARGET [SYMBOL] [flags]`; a first arg not starting with '-' is the
    positional SERVICE/SYMBOL."""
    positionals = [a for a in args[:1] if not a.startswith("-")]
    return t.run(SOURCES.command(source, command, positionals, args[len(positionals):]))


def case_list_services_text(self, source):
    out = self.assert_ok(grpcdx(source, "list"))
    services = out.splitlines()
    self.assertIn(SERVICE, services)
    self.assertEqual(services, sorted(set(services)), "services must be sorted and unique")
    for name in services:
        self.assertRegex(name, r"^[A-Za-z_][\w.]*\.[A-Za-z_]\w*$")
    if source in ("reflection_v1", "reflection_v1alpha"):
        self.assertIn("grpc.health.v1.Health", services)
    if source in ("proto", "protoset"):
        self.assertIn("grpc.testing.UnimplementedService", services)


def case_list_services_json(self, source):
    text = self.assert_ok(grpcdx(source, "list")).splitlines()
    out = self.assert_ok(grpcdx(source, "list", "-o", "json"))
    doc = json.loads(out)
    self.assertEqual(list(doc.keys()), ["services"])
    self.assertEqual(doc["services"], text)


def case_list_methods_text(self, source):
    out = self.assert_ok(grpcdx(source, "list", SERVICE))
    methods = out.splitlines()
    self.assertEqual(sorted(methods), sorted(SERVICE + "." + m for m in TEST_SERVICE_METHODS))


def case_list_methods_json(self, source):
    doc = json.loads(self.assert_ok(grpcdx(source, "list", SERVICE, "-o", "json")))
    self.assertEqual(set(doc.keys()), {"service", "methods"})
    self.assertEqual(doc["service"], SERVICE)
    by_name = {m["name"]: m for m in doc["methods"]}
    self.assertEqual(sorted(by_name), sorted(TEST_SERVICE_METHODS))
    for m in doc["methods"]:
        self.assertEqual(set(m.keys()), {"name", "full_name", "input_type", "output_type",
                                         "client_streaming", "server_streaming"})
        self.assertEqual(m["full_name"], SERVICE + "." + m["name"])
    self.assertEqual(by_name["UnaryCall"], {
        "name": "UnaryCall", "full_name": SERVICE + ".UnaryCall",
        "input_type": "grpc.testing.SimpleRequest", "output_type": "grpc.testing.SimpleResponse",
        "client_streaming": False, "server_streaming": False})
    kinds = {name: (m["client_streaming"], m["server_streaming"]) for name, m in by_name.items()}
    self.assertEqual(kinds["StreamingOutputCall"], (False, True))
    self.assertEqual(kinds["StreamingInputCall"], (True, False))
    self.assertEqual(kinds["FullDuplexCall"], (True, True))
    self.assertEqual(by_name["EmptyCall"]["input_type"], "grpc.testing.Empty")


def case_list_unknown_service(self, source):
    self.assert_fails(grpcdx(source, "list", "grpc.testing.NoSuchService"), 1,
                      "grpc.testing.NoSuchService")


def case_describe_service(self, source):
    out = self.assert_ok(grpcdx(source, "describe", SERVICE))
    self.assertRegex(out, r"service\s+TestService\s*\{")
    for m in TEST_SERVICE_METHODS:
        self.assertRegex(out, r"rpc\s+%s\s*\(" % m)
    self.assertRegex(out, r"rpc\s+StreamingInputCall\s*\(\s*stream\s")


def case_describe_service_json(self, source):
    doc = json.loads(self.assert_ok(grpcdx(source, "describe", SERVICE, "-o", "json")))
    self.assertEqual(set(doc.keys()), {"symbol", "kind", "proto"})
    self.assertEqual(doc["symbol"], SERVICE)
    self.assertEqual(doc["kind"], "service")
    self.assertRegex(doc["proto"], r"service\s+TestService\s*\{")


def case_describe_method(self, source):
    for symbol in (SERVICE + ".UnaryCall", SERVICE + "/UnaryCall"):
        out = self.assert_ok(grpcdx(source, "describe", symbol))
        self.assertRegex(out, r"rpc\s+UnaryCall\s*\(\s*(\.?grpc\.testing\.)?SimpleRequest\s*\)\s*"
                              r"returns\s*\(\s*(\.?grpc\.testing\.)?SimpleResponse\s*\)")
    doc = json.loads(self.assert_ok(grpcdx(source, "describe", SERVICE + ".FullDuplexCall",
                                           "-o", "json")))
    self.assertEqual(doc["symbol"], SERVICE + ".FullDuplexCall")
    self.assertEqual(doc["kind"], "method")
    self.assertRegex(doc["proto"], r"rpc\s+FullDuplexCall\s*\(\s*stream\s")


def case_describe_message(self, source):
    out = self.assert_ok(grpcdx(source, "describe", "grpc.testing.SimpleRequest"))
    self.assertRegex(out, r"message\s+SimpleRequest\s*\{")
    self.assertRegex(out, r"int32\s+response_size\s*=\s*2\b")
    self.assertRegex(out, r"(\.?grpc\.testing\.)?EchoStatus\s+response_status\s*=\s*7\b")
    doc = json.loads(self.assert_ok(grpcdx(source, "describe", "grpc.testing.SimpleRequest",
                                           "-o", "json")))
    self.assertEqual(doc["symbol"], "grpc.testing.SimpleRequest")
    self.assertEqual(doc["kind"], "message")
    self.assertRegex(doc["proto"], r"message\s+SimpleRequest\s*\{")


def case_describe_enum(self, source):
    out = self.assert_ok(grpcdx(source, "describe", "grpc.testing.PayloadType"))
    self.assertRegex(out, r"enum\s+PayloadType\s*\{")
    self.assertRegex(out, r"COMPRESSABLE\s*=\s*0\s*;")
    doc = json.loads(self.assert_ok(grpcdx(source, "describe", "grpc.testing.PayloadType",
                                           "-o", "json")))
    self.assertEqual(doc, {"symbol": "grpc.testing.PayloadType", "kind": "enum",
                           "proto": doc["proto"]})
    self.assertRegex(doc["proto"], r"enum\s+PayloadType\s*\{")


def case_describe_unknown_symbol(self, source):
    self.assert_fails(grpcdx(source, "describe", "grpc.testing.NoSuchThing"), 1,
                      "grpc.testing.NoSuchThing")


class ListDescribe(t.TestCase):
    pass


t.add_matrix(ListDescribe, {
    "list_services_text": case_list_services_text,
    "list_services_json": case_list_services_json,
    "list_methods_text": case_list_methods_text,
    "list_methods_json": case_list_methods_json,
    "list_unknown_service": case_list_unknown_service,
    "describe_service": case_describe_service,
    "describe_service_json": case_describe_service_json,
    "describe_method": case_describe_method,
    "describe_message": case_describe_message,
    "describe_enum": case_describe_enum,
    "describe_unknown_symbol": case_describe_unknown_symbol,
})


def files_in(path):
    """The file names of a FileDescriptorSet, in order, and the set itself."""
    from google.protobuf import descriptor_pb2
    with open(path, "rb") as f:
        fds = descriptor_pb2.FileDescriptorSet.FromString(f.read())
    return [f.name for f in fds.file], fds


TEST_PROTO_FILES = ["grpc/testing/empty.proto", "grpc/testing/messages.proto", "grpc/testing/test.proto"]


class ProtosetOut(t.ServedTestCase):
    """--protoset-out: the schema a command used, saved from reflection, serving later as --protoset."""

    def out_path(self, name):
        return os.path.join(t.tmpdir(), name)

    def test_describe_saves_the_symbols_file_with_its_imports_for_later(self):
        path = self.out_path("describe.protoset")
        self.assert_ok(t.run(["describe", self.address, SERVICE, "--plaintext", "--protoset-out", path]))
        names, _ = files_in(path)
        self.assertEqual(names, TEST_PROTO_FILES)  # each file after its imports
        # Later, where reflection is off (a python3-grpcio server without it): the saved schema.
        with t.python_server("--reflection", "none") as bare:
            self.assert_fails(t.run(["call", bare, SERVICE + "/UnaryCall", "--plaintext", "-d", "{}"]), 1)
            out = self.assert_ok(t.run(["call", bare, SERVICE + "/UnaryCall", "--plaintext", "--protoset", path,
                                        "-d", '{"responseSize": 2}']))
            self.assertEqual(json.loads(out), {"payload": {"body": "AAA="}})
        # And without any server at all.
        out = self.assert_ok(t.run(["describe", "127.0.0.1:1", "grpc.testing.SimpleRequest", "--protoset", path]))
        self.assertIn("message SimpleRequest", out)

    def test_list_saves_every_listed_service_or_the_one_asked_for(self):
        path = self.out_path("list.protoset")
        out = self.assert_ok(t.run(["list", self.address, "--plaintext", "--protoset-out", path]))
        names, _ = files_in(path)
        self.assertEqual(sorted(names), sorted(TEST_PROTO_FILES + [
            "grpc/health/v1/health.proto", "grpc/reflection/v1/reflection.proto",
            "grpc/reflection/v1alpha/reflection.proto", "grpc/channelz/v1/channelz.proto",
            "google/protobuf/any.proto", "google/protobuf/duration.proto",
            "google/protobuf/timestamp.proto", "google/protobuf/wrappers.proto"]))
        self.assertIn(SERVICE, out)  # the listing is printed as usual
        self.assert_ok(t.run(["list", self.address, "grpc.health.v1.Health", "--plaintext", "--protoset-out", path]))
        self.assertEqual(files_in(path)[0], ["grpc/health/v1/health.proto"])
        self.assert_fails(t.run(["list", self.address, "no.Such", "--plaintext", "--protoset-out", path]), 1, "no.Such")

    def test_call_saves_the_schema_before_calling_even_when_the_call_fails(self):
        path = self.out_path("call.protoset")
        rc, _, err = t.run(["call", self.address, SERVICE + "/UnaryCall", "--plaintext", "--protoset-out", path,
                            "-d", '{"responseStatus": {"code": 5, "message": "gone"}}'])
        self.assertEqual(rc, 64 + 5, err)
        self.assertEqual(files_in(path)[0], TEST_PROTO_FILES)

    def test_proto_files_keep_their_comments(self):
        path = self.out_path("shop.protoset")
        self.assert_ok(t.run(["describe", "127.0.0.1:1", "shop.v1.ShopService", "-I",
                              os.path.join(t.REPO, "testdata", "protos"), "--proto", "shop/v1/shop.proto",
                              "--protoset-out", path]))
        names, fds = files_in(path)
        self.assertEqual(names[-1], "shop/v1/shop.proto")
        self.assertIn("google/protobuf/timestamp.proto", names)
        shop = fds.file[-1]
        comments = [loc.leading_comments for loc in shop.source_code_info.location if loc.leading_comments]
        self.assertIn(" Sells items.\n", comments)

    def test_an_unwritable_path_is_one_error_line(self):
        self.assert_fails(t.run(["describe", self.address, SERVICE, "--plaintext", "--protoset-out",
                                 "/nonexistent-dir/x.protoset"]), 1, "/nonexistent-dir/x.protoset")


class ListOverTls(t.TestCase):
    def test_list_with_cacert(self):
        c = t.certs()
        with t.serve("--tls-cert", c.server_cert, "--tls-key", c.server_key) as addr:
            out = self.assert_ok(t.run(["list", addr, "--cacert", c.ca_cert]))
            self.assertIn(SERVICE, out.splitlines())


if __name__ == "__main__":
    t.main()
