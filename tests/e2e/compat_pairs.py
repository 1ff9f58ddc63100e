# The schema pairs of `grpcdx compat`'s end-to-end tests (testdata/compat/PAIR/{v1,v2}, one change
# each) and what they share: protoc's descriptor sets of each side, the client's --proto arguments,
# the exit code and findings expected of client v1 against server v2, and a `compat -o json` runner
# that checks SPEC's shape. test_compat.py checks grpcdx against the expectations; test_compat_buf.py
# cross-checks every pair against `buf breaking`.
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpcdx_test as t  # noqa: E402

PAIRS_DIR = os.path.join(t.REPO, "testdata", "compat")
PAIRS = sorted(d for d in os.listdir(PAIRS_DIR) if os.path.isdir(os.path.join(PAIRS_DIR, d)))

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
