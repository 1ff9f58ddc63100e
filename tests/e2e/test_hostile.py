# Hostile peers (docs/reliability.md): servers that send garbage after the preface, close in the
# middle of a message, claim a 100 MB message, never send SETTINGS, reset every stream, send
# bytes that are not the response type, answer reflection incompletely or inconsistently, or put
# terminal escapes in a status message.
# Each must end in exactly one clear error line, the documented exit code, within its deadline.
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpcdx_test as t  # noqa: E402
from hostile_peers import (CloseMidMessage, GarbageAfterPreface, HugeMessage, NoSettings,  # noqa: E402
                           ResetEveryStream)

PROTO = ["--proto", "grpc/testing/test.proto", "-I", t.GRPC_PROTO_DIR]
EMPTY = "grpc.testing.TestService/EmptyCall"
UNARY = "grpc.testing.TestService/UnaryCall"
SERVER_STREAM = "grpc.testing.TestService/StreamingOutputCall"
# Start-up, sanitizers and a loaded CI machine: what a command may take beyond its deadline.
# (A peer that makes a command hang keeps it past any margin: run() waits 30 s more.)
MARGIN = 10.0

UNAVAILABLE, INTERNAL, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED = 64 + 14, 64 + 13, 64 + 8, 64 + 4


class HostileTest(t.TestCase):
    def run_bounded(self, args, deadline):
        """Runs grpcdx and checks it ends within `deadline` seconds (+ margin)."""
        start = time.monotonic()
        result = t.run(args, timeout=deadline + MARGIN + 30)
        elapsed = time.monotonic() - start
        self.assertLessEqual(elapsed, deadline + MARGIN, "grpcdx %s took %.1fs" % (" ".join(args), elapsed))
        return result

    def call(self, address, method=EMPTY, *extra, deadline=3.0):
        return self.run_bounded(["call", address, method, "--plaintext", "--connect-timeout", "2s",
                                 "--timeout", "%gs" % deadline] + PROTO + list(extra), deadline)

    def test_garbage_after_preface(self):
        with GarbageAfterPreface() as peer:
            self.assert_fails(self.call(peer.address), UNAVAILABLE, "UNAVAILABLE")
            self.assert_fails(self.run_bounded(["list", peer.address, "--plaintext", "--connect-timeout", "2s",
                                                "--timeout", "3s"], 3), UNAVAILABLE, "UNAVAILABLE")
            self.assert_fails(self.run_bounded(["health", peer.address, "--plaintext", "--connect-timeout", "2s",
                                                "--timeout", "3s"], 3), UNAVAILABLE, "UNAVAILABLE")

    def test_garbage_after_preface_probe(self):
        with GarbageAfterPreface() as peer:
            rc, out, err = self.run_bounded(["probe", peer.address, "--plaintext", "--timeout", "2s"], 10)
            self.assertEqual(rc, 41, out + err)  # SETTINGS came: HTTP/2 passes, the gRPC call fails
            self.assert_clean_stderr(err)
            self.assertIn("grpc", out)

    def test_no_settings(self):
        with NoSettings() as peer:
            rc, out, err = self.call(peer.address, deadline=2.0)
            self.assertIn(rc, (UNAVAILABLE, DEADLINE_EXCEEDED), err)
            self.assert_error_line(err)

    def test_no_settings_probe(self):
        with NoSettings() as peer:
            rc, out, err = self.run_bounded(["probe", peer.address, "--plaintext", "--timeout", "1s",
                                             "-o", "json"], 2 * 1 + 1)
            self.assertEqual(rc, 30, out + err)
            verdict = t.json_lines(out)[0]["verdict"]
            self.assertEqual(verdict["class"], "not_http2")

    def test_reset_every_stream(self):
        with ResetEveryStream() as peer:
            self.assert_fails(self.call(peer.address), INTERNAL, "INTERNAL")
            self.assert_fails(self.run_bounded(["health", peer.address, "--plaintext", "--timeout", "3s"], 3),
                              INTERNAL, "INTERNAL")
            self.assertGreaterEqual(peer.resets, 2)

    def test_close_mid_message(self):
        with CloseMidMessage() as peer:
            rc, out, err = self.call(peer.address, UNARY)
            self.assertIn(rc, (UNAVAILABLE, INTERNAL), err)
            self.assert_error_line(err)
            self.assertEqual(out, "")

    def test_huge_message_past_max_msg_size(self):
        # The peer really sends the 100 MB (gRPC 1.51 reads a whole message before it checks
        # its size), as fast as flow control lets it.
        with HugeMessage() as peer:
            line = self.assert_fails(self.call(peer.address, UNARY, "--max-msg-size", "1MB", deadline=20.0),
                                     RESOURCE_EXHAUSTED, "RESOURCE_EXHAUSTED")
            self.assertIn("100000000 vs. 1000000", line)

    def test_invalid_protobuf_response(self):
        with t.python_server("--misbehave", "bad-bytes") as address:
            line = self.assert_fails(self.run_bounded(["call", address, UNARY, "--plaintext", "--timeout", "5s"], 5),
                                     1, "not a valid grpc.testing.SimpleResponse")
            self.assertIn("bytes", line)
            # A stream: the first (valid) message is printed, then the bad one ends the call.
            rc, out, err = self.run_bounded(["call", address, SERVER_STREAM, "--plaintext", "--timeout", "5s",
                                             "-o", "json", "-d",
                                             '{"responseParameters": [{"size": 1}, {"size": 2}, {"size": 3}]}'], 5)
            self.assertEqual(rc, 1, err)
            self.assert_error_line(err, "not a valid grpc.testing.StreamingOutputCallResponse")
            self.assertEqual(len(t.events(out, "message")), 1)

    def test_status_message_with_terminal_escapes(self):
        # grpcio sends the message percent-encoded, so any byte arrives: escapes, a bell, line breaks.
        hostile = "a\x1b]0;owned\x07b\x1b[2J\nc"
        data = '{"responseStatus": {"code": 2, "message": %s}}' % json.dumps(hostile)
        with t.python_server() as address:
            line = self.assert_fails(self.run_bounded(["call", address, UNARY, "--plaintext", "--timeout", "5s",
                                                       "-d", data], 5), 64 + 2)
            self.assertEqual(line, "error: UNKNOWN (2): a?]0;owned?b?[2J c")
            # -v's Status line too.
            rc, _, err = self.run_bounded(["call", address, UNARY, "--plaintext", "--timeout", "5s", "-d", data,
                                           "-v"], 5)
            self.assertEqual(rc, 64 + 2, err)
            self.assertIn("Status: UNKNOWN (2): a?]0;owned?b?[2J c\n", err)
            self.assertNotIn("\x1b", err)
            # JSON keeps the message exact, escaped as JSON strings are.
            rc, out, err = self.run_bounded(["call", address, UNARY, "--plaintext", "--timeout", "5s", "-d", data,
                                             "-o", "json"], 5)
            self.assertEqual(rc, 64 + 2, err)
            self.assertEqual(t.events(out, "status")[0]["message"], hostile)

    def test_reflection_missing_dependency(self):
        with t.python_server("--misbehave", "missing-dependency") as address:
            # Listing needs no file; describing a type in the missing file cannot work.
            out = self.assert_ok(self.run_bounded(["list", address, "--plaintext"], 10))
            self.assertIn("grpc.testing.TestService", out)
            self.assert_fails(self.run_bounded(["describe", address, "grpc.testing.SimpleRequest", "--plaintext"], 10),
                              1, "grpc.testing.SimpleRequest")
            rc, out, err = self.run_bounded(["call", address, UNARY, "--plaintext", "-d", '{"responseSize": 1}'], 10)
            self.assertEqual(rc, 1, err)
            self.assert_error_line(err)

    def test_reflection_wrong_file(self):
        with t.python_server("--misbehave", "wrong-file") as address:
            self.assert_fails(self.run_bounded(["describe", address, "grpc.testing.TestService", "--plaintext"], 10),
                              1, "grpc.testing.TestService")
            self.assert_fails(self.run_bounded(["call", address, UNARY, "--plaintext"], 10), 1)


if __name__ == "__main__":
    t.main()
