# `grpcdx demo` runs with nothing else running, shows each command line before its output, and
# exits 0 when every step behaved as expected.
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpcdx_test as t  # noqa: E402


class DemoTest(t.TestCase):
    def test_demo_walks_through_the_commands(self):
        result = t.run(["demo"], timeout=60)
        out = self.assert_ok(result)
        commands = re.findall(r"^\$ grpcdx (\w+) ", out, re.M)
        for command in ("list", "describe", "call", "channelz"):
            self.assertIn(command, commands)
        self.assertIn("grpc.testing.TestService", out)
        self.assertIn('"aggregatedPayloadSize": 9', out)
        self.assertIn("(exit 78)", out)
        self.assertIn("keepalive_rejected (exit 50)", out)
        self.assertIn("idle_closed (exit 51)", out)
        self.assertIn("every step behaved as expected", out)
        # The stall step's report carries the server's view of the stalled connection.
        self.assertIn("server's view (channelz): the server received your messages and sent nothing",
                      out + result[2])
        self.assertNotIn("\x1b[", out, "no colour when stdout is not a terminal")

    def test_demo_command_lines_work_on_their_own(self):
        # The printed command lines are real: run the first list line against a server of our own.
        out = self.assert_ok(t.run(["demo"], timeout=60))
        line = re.search(r"^\$ grpcdx (list \S+ --plaintext)$", out, re.M)
        self.assertIsNotNone(line, out)
        with t.serve() as address:
            args = line.group(1).split()
            args[1] = address
            listed = self.assert_ok(t.run(args))
            self.assertIn("grpc.testing.TestService", listed)


if __name__ == "__main__":
    t.main()
