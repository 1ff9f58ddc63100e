# End-to-end tests of `grpcdx compat`: the pairs of schemas under testdata/compat/ (v1 and v2, one
# change each) with v1 as the client's .proto files and v2 as the server's, served through reflection
# by a python3-grpcio server that describes protoc's descriptor sets (descriptor_server.py) or given
# as --server-protoset; each pair is cross-checked against `buf breaking` (WIRE, and WIRE_JSON with
# --json), both ways round: every rule buf reports must be reported by grpcdx too.
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpcdx_test as t  # noqa: E402

PAIRS_DIR = os.path.join(t.REPO, "testdata", "compat")
PAIRS = sorted(d for d in os.listdir(PAIRS_DIR) if os.path.isdir(os.path.join(PAIRS_DIR, d)))
BUF = os.path.join(t.REPO, "tests", "peers", "node", "node_modules", ".bin", "buf")

# buf's rules whose finding grpcdx reports under another of buf's names (docs/compat.md): deletions
# are reported whether or not the number or name is reserved (the data is dropped either way), and a
# change between optional and required is a change of the required fields.
BUF_TO_GRPCDX = {
    "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED": {"FIELD_NO_DELETE"},
    "FIELD_NO_DELETE_UNLESS_NAME_RESERVED": {"FIELD_NO_DELETE"},
    "ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED": {"ENUM_VALUE_NO_DELETE"},
    "ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED": {"ENUM_VALUE_NO_DELETE"},
    "FIELD_WIRE_COMPATIBLE_CARDINALITY": {"FIELD_SAME_CARDINALITY", "MESSAGE_SAME_REQUIRED_FIELDS"},
    "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY": {"FIELD_SAME_CARDINALITY", "MESSAGE_SAME_REQUIRED_FIELDS"},
}

# Client v1 against server v2: the exit code and the (severity, rule) pairs reported without --json.
EXPECTED = {
    "same": (0, set()),
    "field_type": (8, {("error", "FIELD_WIRE_COMPATIBLE_TYPE")}),
    "field_widen": (0, set()),
    "bytes_string": (0, {("warning", "FIELD_WIRE_COMPATIBLE_TYPE")}),
    "field_delete": (0, {("warning", "FIELD_NO_DELETE")}),
    "field_add": (0, {("warning", "FIELD_NO_DELETE")}),
    "cardinality": (8, {("error", "FIELD_SAME_CARDINALITY")}),
    "oneof": (0, {("warning", "FIELD_SAME_ONEOF")}),
    "enum_value_delete": (0, {("warning", "ENUM_VALUE_NO_DELETE")}),
    "rpc_delete": (8, {("error", "RPC_NO_DELETE")}),
    "service_rename": (8, {("error", "SERVICE_NO_DELETE")}),
    "server_streaming": (8, {("error", "RPC_SAME_SERVER_STREAMING")}),
    "client_streaming": (0, {("warning", "RPC_SAME_CLIENT_STREAMING")}),
    "request_renamed": (0, {("warning", "RPC_SAME_REQUEST_TYPE")}),
    "response_changed": (8, {("warning", "RPC_SAME_RESPONSE_TYPE"), ("error", "FIELD_WIRE_COMPATIBLE_TYPE"),
                             ("warning", "FIELD_NO_DELETE")}),
    "field_message_renamed": (0, {("warning", "FIELD_WIRE_COMPATIBLE_TYPE")}),
    "field_message_changed": (8, {("error", "FIELD_WIRE_COMPATIBLE_TYPE")}),
    "enum_to_int": (0, {("warning", "FIELD_WIRE_COMPATIBLE_TYPE")}),
    "field_rename": (0, set()),
    "enum_value_rename": (0, set()),
    "json_name": (0, set()),
    "required_added": (8, {("warning", "FIELD_NO_DELETE"), ("error", "MESSAGE_SAME_REQUIRED_FIELDS")}),
    "default_changed": (8, {("error", "FIELD_SAME_DEFAULT")}),
    "label_required": (8, {("error", "MESSAGE_SAME_REQUIRED_FIELDS")}),
}


def version_dir(pair, version):
    return os.path.join(PAIRS_DIR, pair, version)


def proto_files(pair, version):
    d = version_dir(pair, version)
    return sorted(f for f in os.listdir(d) if f.endswith(".proto"))


_protosets = {}


def protoset(pair, version):
    """protoc's descriptor set of one side of a pair (with imports and source info, as buf reads it)."""
    key = (pair, version)
    if key not in _protosets:
        out = os.path.join(t.tmpdir(), "%s-%s.binpb" % key)
        proc = subprocess.run(["protoc", "-I", version_dir(pair, version), "--include_imports",
                               "--include_source_info", "--descriptor_set_out=" + out] + proto_files(pair, version),
                              capture_output=True, timeout=60)
        if proc.returncode != 0:
            raise AssertionError("protoc failed for %s/%s: %s" % (pair, version, proc.stderr.decode()))
        _protosets[key] = out
    return _protosets[key]


def client_args(pair, version):
    args = []
    for f in proto_files(pair, version):
        args += ["--proto", f]
    return args + ["-I", version_dir(pair, version)]


_buf_results = {}


def buf_rules(new, old, category):
    """The rule IDs `buf breaking NEW --against OLD` reports with the category's rules (memoized)."""
    key = (new, old, category)
    if key not in _buf_results:
        _buf_results[key] = _run_buf(new, old, category)
    return _buf_results[key]


def prefetch_buf():
    """Runs every buf comparison the pair tests need, four at a time (buf takes most of the time)."""
    from concurrent.futures import ThreadPoolExecutor
    keys = [(protoset(p, server), protoset(p, client), category) for p in PAIRS
            for client, server in (("v1", "v2"), ("v2", "v1")) for category in ("WIRE", "WIRE_JSON")]
    keys = [k for k in keys if k not in _buf_results]
    with ThreadPoolExecutor(4) as pool:
        for key, rules in zip(keys, pool.map(lambda k: _run_buf(*k), keys)):
            _buf_results[key] = rules


def _run_buf(new, old, category):
    if not os.path.exists(BUF):
        raise AssertionError("%s is missing: run scripts/install-deps (npm ci in tests/peers/node)" % BUF)
    config = "version: v2\nbreaking:\n  use:\n    - %s\n" % category
    proc = subprocess.run([BUF, "breaking", new, "--against", old, "--config", config, "--error-format", "json"],
                          capture_output=True, text=True, timeout=120, env=dict(os.environ, BUF_CACHE_DIR=os.path.join(t.tmpdir(), "buf-cache")))
    if proc.returncode not in (0, 100):
        raise AssertionError("buf breaking failed (%d): %s" % (proc.returncode, proc.stderr))
    return {json.loads(line)["type"] for line in proc.stdout.splitlines() if line.strip()}


class CompatCase(t.TestCase):
    """Runs `compat -o json` and checks the shape of SPEC's object."""

    def compat_json(self, args, code=None):
        rc, out, err = t.run(["compat"] + args + ["-o", "json"])
        self.assert_clean_stderr(err)
        self.assertIn(rc, (0, 8), "exit %d\nstdout: %s\nstderr: %s" % (rc, out, err))
        if code is not None:
            self.assertEqual(rc, code, out)
        lines = out.splitlines()
        self.assertEqual(len(lines), 1, out)
        report = json.loads(lines[0])
        self.assertEqual(list(report), ["compatible", "checked", "findings"])
        self.assertEqual(list(report["checked"]), ["services", "methods", "messages", "enums"])
        for f in report["findings"]:
            self.assertEqual(list(f), ["severity", "rule", "symbol", "client", "server", "message"])
        self.assertEqual(report["compatible"], rc == 0)
        return rc, report

    def assert_covers_buf(self, report, buf, what):
        ours = {f["rule"] for f in report["findings"]}
        for rule in buf:
            wanted = BUF_TO_GRPCDX.get(rule, {rule})
            self.assertTrue(wanted & ours, "%s: buf reports %s, grpcdx only %s" % (what, rule, sorted(ours)))


class Compat(CompatCase):
    """The pairs: test_PAIR__reflection and test_PAIR__buf_both_ways, added below."""

    @classmethod
    def setUpClass(cls):
        prefetch_buf()


def add_pair_tests():
    for pair in PAIRS:
        def by_reflection(self, pair=pair):
            with t.descriptor_server(protoset(pair, "v2")) as address:
                rc, report = self.compat_json([address, "--plaintext"] + client_args(pair, "v1"))
            code, expected = EXPECTED[pair]
            self.assertEqual(rc, code, report)
            self.assertEqual({(f["severity"], f["rule"]) for f in report["findings"]}, expected, report)
            self.assert_covers_buf(report, buf_rules(protoset(pair, "v2"), protoset(pair, "v1"), "WIRE"),
                                   pair + " (WIRE)")

        def both_ways_with_buf(self, pair=pair):
            for client, server in (("v1", "v2"), ("v2", "v1")):
                for category, extra in (("WIRE", []), ("WIRE_JSON", ["--json"])):
                    _, report = self.compat_json(["--server-protoset", protoset(pair, server),
                                                  "--protoset", protoset(pair, client)] + extra)
                    buf = buf_rules(protoset(pair, server), protoset(pair, client), category)
                    self.assert_covers_buf(report, buf, "%s, client %s, server %s (%s)" % (pair, client, server, category))

        by_reflection.__name__ = "test_%s__reflection" % pair
        both_ways_with_buf.__name__ = "test_%s__buf_both_ways" % pair
        setattr(Compat, by_reflection.__name__, by_reflection)
        setattr(Compat, both_ways_with_buf.__name__, both_ways_with_buf)


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
