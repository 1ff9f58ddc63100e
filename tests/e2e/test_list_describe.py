# End-to-end tests of `grpcdx list` and `grpcdx describe`: the same table of cases run over every
# schema source (reflection v1, v1alpha only, --proto, --protoset, and a python3-grpcio server).
import json

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


class ListOverTls(t.TestCase):
    def test_list_with_cacert(self):
        c = t.certs()
        with t.serve("--tls-cert", c.server_cert, "--tls-key", c.server_key) as addr:
            out = self.assert_ok(t.run(["list", addr, "--cacert", c.ca_cert]))
            self.assertIn(SERVICE, out.splitlines())


if __name__ == "__main__":
    t.main()
