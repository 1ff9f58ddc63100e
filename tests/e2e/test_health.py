# `grpcdx health`: Check and Watch against the built-in server, exit codes 0 / 4 / 64+N.
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpcdx_test as t  # noqa: E402


class HealthTest(t.TestCase):
    def test_serving_server(self):
        with t.serve() as address:
            out = self.assert_ok(t.run(["health", address, "--plaintext"]))
            self.assertEqual(out, "SERVING\n")
            out = self.assert_ok(t.run(["health", address, "--plaintext", "-o", "json"]))
            self.assertEqual(t.json_lines(out), [{"service": "", "status": "SERVING"}])
            out = self.assert_ok(t.run(["health", address, "--plaintext", "--service", "grpc.testing.TestService",
                                        "-o", "json"]))
            self.assertEqual(t.json_lines(out), [{"service": "grpc.testing.TestService", "status": "SERVING"}])

    def test_not_serving_exits_4(self):
        with t.serve("--health-status", "grpc.testing.TestService=NOT_SERVING") as address:
            rc, out, err = t.run(["health", address, "--plaintext", "--service", "grpc.testing.TestService"])
            self.assertEqual(rc, 4, err)
            self.assertEqual(out, "grpc.testing.TestService: NOT_SERVING\n")
            self.assert_ok(t.run(["health", address, "--plaintext"]))

    def test_unknown_service_is_not_found(self):
        with t.serve() as address:
            self.assert_fails(t.run(["health", address, "--plaintext", "--service", "nope"]), 64 + 5,
                              ["NOT_FOUND (5)", "'nope'"])

    def test_no_health_service_is_unimplemented(self):
        with t.serve("--no-health") as address:
            self.assert_fails(t.run(["health", address, "--plaintext"]), 64 + 12, "UNIMPLEMENTED (12)")

    def test_unreachable_is_unavailable(self):
        self.assert_fails(t.run(["health", "127.0.0.1:%d" % t.free_port(), "--plaintext"]), 78,
                          "UNAVAILABLE (14)")

    def test_watch_with_count(self):
        with t.serve() as address:
            out = self.assert_ok(t.run(["health", address, "--plaintext", "--watch", "--count", "1", "-o", "json"]))
            self.assertEqual(t.json_lines(out), [{"service": "", "status": "SERVING"}])

    def test_watch_stops_cleanly_on_sigint(self):
        with t.serve("--health-status", "=NOT_SERVING") as address:
            proc = subprocess.Popen([t.binary(), "health", address, "--plaintext", "--watch"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                # The signal goes once the first status is out (an event, not a fixed wait: on a
                # loaded machine the watch may not have printed anything after half a second).
                first = t.read_line(proc, 20)
                self.assertEqual(first, "NOT_SERVING\n")
                proc.send_signal(signal.SIGINT)
                out, err = proc.communicate(timeout=10)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            self.assertEqual(first + out.decode(), "NOT_SERVING\n")
            self.assertEqual(proc.returncode, 4, err)
            self.assert_clean_stderr(err.decode())


if __name__ == "__main__":
    t.main()
