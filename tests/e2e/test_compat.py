# End-to-end tests of `grpcdx compat`: the pairs of schemas under testdata/compat/ (compat_pairs.py)
# with v1 as the client's .proto files and v2 as the server's, served through reflection by a
# python3-grpcio server that describes protoc's descriptor sets (descriptor_server.py), the text and
# JSON outputs, and bad input. test_compat_buf.py cross-checks the same pairs against `buf breaking`.
import contextlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpcdx_test as t  # noqa: E402
from compat_pairs import EXPECTED, PAIRS, CompatCase, client_args, protoset  # noqa: E402


class Compat(CompatCase):
    """The pairs: test_PAIR__reflection, added below, each against its v2 served by one
    descriptor_server.py process for all pairs."""

    @classmethod
    def setUpClass(cls):
        cls.servers = contextlib.ExitStack()
        addresses = cls.servers.enter_context(t.descriptor_servers([protoset(p, "v2") for p in PAIRS]))
        cls.address = dict(zip(PAIRS, addresses))

    @classmethod
    def tearDownClass(cls):
        cls.servers.close()


def add_pair_tests():
    for pair in PAIRS:
        def by_reflection(self, pair=pair):
            rc, report = self.compat_json([self.address[pair], "--plaintext"] + client_args(pair, "v1"))
            code, expected = EXPECTED[pair]
            self.assertEqual(rc, code, report)
            self.assertEqual({(f["severity"], f["rule"]) for f in report["findings"]}, expected, report)

        by_reflection.__name__ = "test_%s__reflection" % pair
        setattr(Compat, by_reflection.__name__, by_reflection)


add_pair_tests()


class CompatOutput(CompatCase):
    def test_every_pair_has_an_expectation(self):
        self.assertEqual(sorted(EXPECTED), PAIRS)

    def test_text_groups_by_method_with_one_verdict(self):
        rc, out, err = t.run(["compat", "--server-protoset", protoset("field_type", "v2")]
                             + client_args("field_type", "v1"))
        self.assertEqual(rc, 8, err)
        self.assertEqual(err, "")
        self.assertEqual(out.splitlines(), [
            "compat.test.Orders/Get",
            "  error   FIELD_WIRE_COMPATIBLE_TYPE compat.test.GetRequest.count",
            "          the server reads field 3 (count) of compat.test.GetRequest as string; this client sends int32: "
            "the server drops the value (it arrives with a wire type the field does not take) and sees the field "
            "unset",
            "          (also through compat.test.Orders/Watch)",
            "compat.test.Orders/Watch  1 error and 0 warnings above",
            "NOT compatible: 1 error, 0 warnings (1 service, 2 methods, 3 messages, 1 enum checked)",
        ])

    def test_fail_on_warning(self):
        args = ["compat", "--server-protoset", protoset("field_delete", "v2")] + client_args("field_delete", "v1")
        rc, out, _ = t.run(args)
        self.assertEqual(rc, 0, out)
        self.assertTrue(out.endswith("compatible: 0 errors, 1 warning (1 service, 2 methods, 3 messages, 1 enum "
                                     "checked)\n"), out)
        rc, out, _ = t.run(args + ["--fail-on", "warning"])
        self.assertEqual(rc, 8, out)
        self.assertIn("NOT compatible (--fail-on warning): 0 errors, 1 warning", out)

    def test_json_rules_only_with_json(self):
        args = ["--server-protoset", protoset("field_rename", "v2"), "--protoset", protoset("field_rename", "v1")]
        rc, out, _ = t.run(["compat"] + args)
        self.assertEqual(rc, 0, out)
        rc, report = self.compat_json(args + ["--json"])
        self.assertEqual(rc, 8)
        self.assertEqual([(f["rule"], f["symbol"], f["client"], f["server"]) for f in report["findings"]],
                         [("FIELD_SAME_NAME", "compat.test.Order.id", "id", "order_id"),
                          ("FIELD_SAME_JSON_NAME", "compat.test.Order.id", "id", "orderId")])

    def test_service_filter(self):
        rc, report = self.compat_json(["--server-protoset", protoset("rpc_delete", "v2"),
                                               "--service", "compat.test.Orders"] + client_args("rpc_delete", "v1"))
        self.assertEqual(report["checked"], {"services": 1, "methods": 2, "messages": 3, "enums": 1})
        self.assert_fails(t.run(["compat", "--server-protoset", protoset("same", "v2"), "--service", "nope.Svc"]
                                + client_args("same", "v1")), 1, "service 'nope.Svc' is not in the client's schema")

    def test_verbose_prints_the_comparison_time(self):
        rc, out, err = t.run(["compat", "--server-protoset", protoset("same", "v2"), "-v"] + client_args("same", "v1"))
        self.assertEqual(rc, 0, err)
        self.assertRegex(err, r"^compare: \d+\.\d\dms \(1 services, 2 methods, 3 messages, 1 enums checked\)\n$")

    def test_against_the_built_in_server(self):
        with t.serve() as address:
            rc, report = self.compat_json([address, "--plaintext", "--proto", "grpc/testing/test.proto",
                                                   "-I", t.GRPC_PROTO_DIR, "--service", "grpc.testing.TestService"])
        self.assertEqual(rc, 0, report)
        self.assertEqual(report["findings"], [])
        self.assertEqual(report["checked"]["methods"], 8)


class CompatErrors(t.TestCase):
    def test_unreadable_client_proto(self):
        self.assert_fails(t.run(["compat", "--server-protoset", protoset("same", "v2"), "--proto", "nope.proto"]),
                          1, "cannot find proto file 'nope.proto'")
        bad = t.write_file("bad.proto", 'syntax = "proto3";\nmessage M { int32 = 1; }\n')
        self.assert_fails(t.run(["compat", "--server-protoset", protoset("same", "v2"), "--proto", bad]), 1,
                          "bad.proto:2")

    def test_unreadable_server_protoset(self):
        junk = t.write_file("junk.protoset", b"\xff\xfe not a descriptor set")
        self.assert_fails(t.run(["compat", "--server-protoset", junk] + client_args("same", "v1")), 1, "junk.protoset")

    def test_server_without_reflection(self):
        with t.serve("--reflection", "none") as address:
            self.assert_fails(t.run(["compat", address, "--plaintext"] + client_args("same", "v1")), 1,
                              ["server does not support the reflection API", "--server-protoset"])

    def test_unreachable_server(self):
        self.assert_fails(t.run(["compat", "127.0.0.1:%d" % t.free_port(), "--plaintext"]
                                + client_args("same", "v1")), 78, "UNAVAILABLE")

    def test_max_time_bounds_the_whole_check(self):
        import socket
        import time
        with socket.socket() as silent:  # accepts TCP connections and never answers
            silent.bind(("127.0.0.1", 0))
            silent.listen(5)
            start = time.monotonic()
            line = self.assert_fails(t.run(["compat", "127.0.0.1:%d" % silent.getsockname()[1], "--plaintext",
                                            "--max-time", "1s", "--connect-timeout", "30s", "--timeout", "30s"]
                                           + client_args("same", "v1")), 68, "--max-time 1s reached while")
            self.assertLess(time.monotonic() - start, 10, line)

    def test_usage(self):
        self.assert_fails(t.run(["compat"] + client_args("same", "v1")), 2, "TARGET or --server-protoset")
        self.assert_fails(t.run(["compat", "--server-protoset", protoset("same", "v2")]), 2, "--proto")
        self.assert_fails(t.run(["compat", "127.0.0.1:1", "--server-protoset", protoset("same", "v2")]
                                + client_args("same", "v1")), 2, "not both")
        self.assert_fails(t.run(["compat", "--server-protoset", protoset("same", "v2"), "--fail-on", "never"]
                                + client_args("same", "v1")), 2)


if __name__ == "__main__":
    t.main()
