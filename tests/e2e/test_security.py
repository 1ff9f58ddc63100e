# Security defaults (docs/reliability.md): the warning for --plaintext / --insecure toward a
# target that is not loopback, and secrets redacted in -v output, in --record files (unless
# --show-secrets) and in error messages.
import json
import os
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpcdx_test as t  # noqa: E402

UNARY = "grpc.testing.TestService/UnaryCall"
SECRET = "Bearer s3cret-value"


class WarningTest(t.TestCase):
    # `-d @FILE` is read before any channel exists: a missing file ends the command before a
    # single packet is sent, so these tests never touch the network. 192.0.2.1 is TEST-NET-1.
    def run_offline(self, target, *flags):
        return t.run(["call", target, UNARY, "-d", "@/nonexistent/request.json"] + list(flags))

    def test_plaintext_to_a_remote_target_warns(self):
        rc, out, err = self.run_offline("192.0.2.1:443", "--plaintext")
        self.assertEqual(rc, 1, err)
        lines = err.strip().split("\n")
        self.assertEqual(lines[0], "warning: --plaintext sends everything unencrypted to 192.0.2.1:443 "
                                   "(not a loopback address)")
        self.assertEqual(len(lines), 2, err)
        self.assertTrue(lines[1].startswith("error: cannot read request file"))

    def test_insecure_to_a_remote_name_warns(self):
        rc, out, err = self.run_offline("api.example.invalid:443", "--insecure")
        self.assertEqual(rc, 1, err)
        self.assertEqual(err.split("\n")[0],
                         "warning: --insecure does not verify the certificate of api.example.invalid:443 (not a "
                         "loopback address): anyone on the path can impersonate the server")

    def test_loopback_targets_do_not_warn(self):
        for target in ("127.0.0.1:50051", "localhost:50051", "[::1]:50051", "unix:/tmp/grpcdx-none.sock",
                       "dns:///localhost:50051"):
            for flag in ("--plaintext", "--insecure"):
                with self.subTest(target=target, flag=flag):
                    rc, out, err = self.run_offline(target, flag)
                    self.assertEqual(rc, 1)
                    self.assert_error_line(err, "cannot read request file")

    def test_tls_with_verification_does_not_warn(self):
        rc, out, err = self.run_offline("192.0.2.1:443")
        self.assertEqual(rc, 1)
        self.assert_error_line(err, "cannot read request file")


class RedactionTest(t.ServedTestCase):
    def record(self, name, *extra):
        path = os.path.join(t.tmpdir(), name)
        self.assert_ok(t.run(["call", self.address, UNARY, "--plaintext", "-d", '{"responseSize": 1}',
                              "-H", "authorization: " + SECRET, "-H", "x-trace-id: trace-1",
                              "-H", "x-grpc-test-echo-initial: shown", "--record", path] + list(extra)))
        with open(path) as f:
            text = f.read()
        return path, text

    def test_record_redacts_secrets(self):
        path, text = self.record("redacted.jsonl")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertNotIn("s3cret", text)
        lines = [json.loads(line) for line in text.splitlines()]
        self.assertEqual(lines[0]["dir"], "metadata")
        self.assertEqual(lines[0]["metadata"]["authorization"], ["<redacted>"])
        self.assertEqual(lines[0]["metadata"]["x-trace-id"], ["trace-1"])
        headers = [line for line in lines if line["dir"] == "headers"]
        self.assertEqual(headers[0]["metadata"]["x-grpc-test-echo-initial"], ["shown"])
        self.assertEqual(lines[-1]["dir"], "status")
        # The redacted recording replays like any other.
        out = self.assert_ok(t.run(["replay", self.address, UNARY, "--plaintext", "--in", path, "--pace", "asap",
                                    "--compare", "-o", "json"]))
        self.assertEqual(t.events(out, "compare")[0]["differences"], 0)

    def test_record_with_show_secrets_keeps_them(self):
        _, text = self.record("shown.jsonl", "--show-secrets")
        self.assertIn(SECRET, text)

    def test_verbose_output_redacts(self):
        rc, out, err = t.run(["call", self.address, UNARY, "--plaintext", "-v", "-H", "authorization: " + SECRET,
                              "-H", "x-api-key: k-123456"])
        self.assertEqual(rc, 0, err)
        self.assertIn("authorization: <redacted>", err)
        self.assertIn("x-api-key: <redacted>", err)
        self.assertNotIn("s3cret", err + out)
        self.assertNotIn("k-123456", err + out)
        rc, out, err = t.run(["call", self.address, UNARY, "--plaintext", "-v", "--show-secrets",
                              "-H", "authorization: " + SECRET])
        self.assertEqual(rc, 0, err)
        self.assertIn("authorization: " + SECRET, err)

    def test_errors_do_not_echo_a_malformed_secret_header(self):
        for header in ("authorization " + SECRET, ": " + SECRET):
            with self.subTest(header=header):
                line = self.assert_fails(t.run(["call", self.address, UNARY, "--plaintext", "-H", header]), 2,
                                         "invalid header")
                self.assertNotIn("s3cret", line)


if __name__ == "__main__":
    t.main()
