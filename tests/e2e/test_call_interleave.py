# A bidi call fed from standard input sends each message as soon as it is complete and prints
# each response as it arrives: it never waits for the whole input.
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpcdx_test as t  # noqa: E402


class InterleaveTest(t.TestCase):
    def test_bidi_answers_each_message_before_the_next_is_written(self):
        with t.serve() as address:
            proc = subprocess.Popen(
                [t.binary(), "call", address, "grpc.testing.TestService/FullDuplexCall", "--plaintext",
                 "-o", "json", "-d", "@-"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                headers = None
                for size in (3, 5, 7):
                    proc.stdin.write(b'{"responseParameters": [{"size": %d}]}\n' % size)
                    proc.stdin.flush()
                    line = t.read_line(proc, 10)
                    if headers is None:
                        headers = line
                        self.assertIn('"event":"headers"', headers or "")
                        line = t.read_line(proc, 10)
                    self.assertIsNotNone(line, "no response to message of size %d before the next" % size)
                    body = t.json_lines(line)[0]["message"]["payload"]["body"]
                    self.assertEqual(len(__import__("base64").b64decode(body)), size)
                proc.stdin.close()
                rest = t.read_line(proc, 10)
                self.assertIn('"event":"status"', rest or "")
                self.assertEqual(proc.wait(10), 0)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()

    def test_server_ending_the_call_stops_a_waiting_stdin(self):
        # The server ends the stream with an error while grpcdx still waits for more input: the
        # call must end at once, not hang on standard input.
        with t.serve() as address:
            proc = subprocess.Popen(
                [t.binary(), "call", address, "grpc.testing.TestService/FullDuplexCall", "--plaintext",
                 "-d", "@-"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                proc.stdin.write(b'{"responseStatus": {"code": 9, "message": "stop here"}}\n')
                proc.stdin.flush()
                rc = proc.wait(10)
                err = proc.stderr.read().decode()
                self.assertEqual(rc, 64 + 9, err)
                self.assert_error_line(err, ["FAILED_PRECONDITION (9)", "stop here"])
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()


if __name__ == "__main__":
    t.main()
