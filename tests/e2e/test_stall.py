# Stall detection on `call --stall-timeout`: a silent peer (recv_idle), a peer that stopped
# reading (send_blocked), --on-stall report, and a slow but steady stream that is not a stall.
import base64
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpcdx_test as t  # noqa: E402

OUTPUT = "grpc.testing.TestService/StreamingOutputCall"
INPUT = "grpc.testing.TestService/StreamingInputCall"
THREE = '{"responseParameters": [{"size": 1}, {"size": 2}, {"size": 3}]}'


events = t.events


class StallTest(t.ServedTestCase):
    def test_silent_peer_is_recv_idle_and_exits_5(self):
        start = time.monotonic()
        rc, out, err = t.run(["call", self.address, OUTPUT, "--plaintext", "-o", "json", "-d", THREE,
                              "-H", "x-grpcdx-stall-after: 2", "--stall-timeout", "1s"])
        wall = time.monotonic() - start
        self.assertEqual(rc, 5, out + err)
        self.assert_error_line(err, ["stream stalled", "recv_idle", "cancelled"])
        self.assertEqual(len(events(out, "message")), 2)
        stalls = events(out, "stall")
        self.assertEqual(len(stalls), 1, out)
        s = stalls[0]
        self.assertEqual(s["kind"], "recv_idle")
        self.assertEqual((s["sent"], s["received"]), (1, 2))
        self.assertEqual(s["channel_state"], "READY")
        self.assertEqual(s["transport"], "alive")
        # Never earlier than the timeout. Later only by the monitor's tick (50 ms) plus however
        # late a busy machine wakes its thread: the ceiling is twice the timeout (it was +20 %),
        # which a detector that waits for a second quiet spell still exceeds.
        self.assertGreaterEqual(s["idle_ms"], 1000)
        self.assertLess(s["idle_ms"], 2000)
        self.assertGreaterEqual(wall, 1.0)
        self.assertLess(wall, 15)
        self.assertEqual(events(out, "status"), [], "a stall that fails the call has no status event")

    def test_text_output_names_the_stall(self):
        rc, out, err = t.run(["call", self.address, OUTPUT, "--plaintext", "-d", THREE,
                              "-H", "x-grpcdx-stall-after: 0", "--stall-timeout", "300ms"])
        self.assertEqual(rc, 5, out + err)
        line = self.assert_error_line(err, ["recv_idle", "nothing received", "sent 1, received 0",
                                            "channel READY"])
        # The transport check behind it has 120 ms (2/5 of the 300 ms timeout) to hear back: on
        # a busy machine it may not, and "unresponsive" is then the truth. Which one is tested
        # with JSON output (test_silent_peer_is_recv_idle_and_exits_5, the frozen server); here
        # the line must name it.
        self.assertRegex(line, r"transport (alive|unresponsive)")
        self.assertEqual(out, "")
        self.assertIn("--on-stall report", line)

    def test_on_stall_report_keeps_waiting_until_the_deadline(self):
        start = time.monotonic()
        rc, out, err = t.run(["call", self.address, OUTPUT, "--plaintext", "-o", "json", "-d", THREE,
                              "-H", "x-grpcdx-stall-after: 1", "--stall-timeout", "500ms",
                              "--on-stall", "report", "--timeout", "2s"])
        wall = time.monotonic() - start
        self.assertEqual(rc, 64 + 4, out + err)  # DEADLINE_EXCEEDED: the call's own exit code
        self.assertEqual(len(events(out, "stall")), 1, out)
        status = events(out, "status")
        self.assertEqual(len(status), 1)
        self.assertEqual(status[0]["code_name"], "DEADLINE_EXCEEDED")
        self.assertGreaterEqual(wall, 2.0)

    def test_text_report_mode_warns_and_goes_on(self):
        rc, out, err = t.run(["call", self.address, OUTPUT, "--plaintext", "-d", THREE,
                              "-H", "x-grpcdx-stall-after: 1", "--stall-timeout", "300ms",
                              "--on-stall", "report", "--timeout", "1s"])
        self.assertEqual(rc, 64 + 4, out + err)
        self.assert_clean_stderr(err)
        lines = err.strip().split("\n")
        self.assertTrue(lines[0].startswith("warning: stream stalled: recv_idle"), err)
        self.assertTrue(lines[-1].startswith("error: DEADLINE_EXCEEDED"), err)

    def test_peer_that_stops_reading_is_send_blocked(self):
        # 48 messages of 256 KiB to a server that never reads: the HTTP/2 windows fill, a send
        # waits, and that send is the stall.
        body = base64.b64encode(b"\0" * (256 * 1024)).decode()
        path = t.write_file("big-stream.json", "\n".join(
            json.dumps({"payload": {"body": body}}) for _ in range(48)))
        start = time.monotonic()
        rc, out, err = t.run(["call", self.address, INPUT, "--plaintext", "-o", "json", "-d", "@" + path,
                              "-H", "x-grpcdx-stop-reading: 0", "--stall-timeout", "1s"], timeout=60)
        wall = time.monotonic() - start
        self.assertEqual(rc, 5, out + err)
        self.assert_error_line(err, ["send_blocked", "not reading"])
        stalls = events(out, "stall")
        self.assertEqual(len(stalls), 1, out)
        s = stalls[0]
        self.assertEqual(s["kind"], "send_blocked")
        self.assertLess(s["sent"], 48)
        self.assertEqual(s["received"], 0)
        self.assertGreaterEqual(s["idle_ms"], 1000)
        self.assertLess(s["idle_ms"], 2000)  # as above: twice the timeout, not +20 %
        self.assertLess(wall, 30)

    def test_bidi_peer_that_stops_reading_is_send_blocked(self):
        body = base64.b64encode(b"\0" * (256 * 1024)).decode()
        # 32 MiB: more than the stream's flow-control window and the sockets can take in while
        # the server does not read (with 12 MiB the transport sometimes took it all, the client
        # half-closed and the stall was, truthfully, recv_idle).
        path = t.write_file("big-bidi.json", "\n".join(
            json.dumps({"payload": {"body": body}}) for _ in range(128)))
        rc, out, err = t.run(["call", self.address, "grpc.testing.TestService/FullDuplexCall", "--plaintext",
                              "-o", "json", "-d", "@" + path, "-H", "x-grpcdx-stop-reading: 1",
                              "--stall-timeout", "500ms"], timeout=60)
        self.assertEqual(rc, 5, out + err)
        self.assertEqual(events(out, "stall")[0]["kind"], "send_blocked")

    def test_slow_but_steady_stream_is_not_a_stall(self):
        # Every gap (1.2 s) is under the stall timeout (2 s) but past half of it, so the transport
        # check runs too. The 800 ms between a gap and the timeout is what a busy machine may
        # add to a gap before it looks like a stall (it was 400 ms: 600 ms gaps under 1 s).
        params = [{"size": 4, "intervalUs": 1200000} for _ in range(2)]
        start = time.monotonic()
        rc, out, err = t.run(["call", self.address, OUTPUT, "--plaintext", "-o", "json",
                              "-d", json.dumps({"responseParameters": params}), "--stall-timeout", "2s"])
        wall = time.monotonic() - start
        self.assertEqual(rc, 0, out + err)
        self.assert_clean_stderr(err)
        self.assertEqual(err, "")
        self.assertEqual(events(out, "stall"), [])
        self.assertEqual(len(events(out, "message")), 2)
        self.assertGreaterEqual(wall, 2.4)

    def test_frozen_server_is_an_unresponsive_transport(self):
        # A stopped (SIGSTOP) server keeps its TCP connection open but answers nothing: the stall
        # is recv_idle like a silent handler, but the transport check gets no answer either.
        server = subprocess.Popen([t.binary(), "serve", "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)
        try:
            address = t._read_first_line(server, 20)
            self.assertIsNotNone(address)
            params = [{"size": 1, "intervalUs": 100000} for _ in range(100)]
            call = subprocess.Popen([t.binary(), "call", address, OUTPUT, "--plaintext", "-o", "json",
                                     "-d", json.dumps({"responseParameters": params}), "--stall-timeout", "1s"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                first = call.stdout.readline()  # the headers: the stream is flowing
                self.assertIn(b'"headers"', first)
                server.send_signal(signal.SIGSTOP)
                out, err = call.communicate(timeout=20)
            finally:
                if call.poll() is None:
                    call.kill()
                    call.wait()
            self.assertEqual(call.returncode, 5, err)
            stall = events(out.decode(), "stall")[0]
            self.assertEqual(stall["kind"], "recv_idle")
            self.assertEqual(stall["transport"], "unresponsive")
            self.assertIn("transport unresponsive", err.decode())
        finally:
            server.send_signal(signal.SIGCONT)
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            server.stdout.close()

    def test_bad_stall_timeout_is_a_usage_error(self):
        for bad in ("soon", "0s"):
            self.assert_fails(t.run(["call", self.address, OUTPUT, "--plaintext", "--stall-timeout", bad]), 2,
                              "--stall-timeout")

    def test_bad_misbehaviour_header_is_invalid_argument(self):
        self.assert_fails(t.run(["call", self.address, OUTPUT, "--plaintext", "-d", THREE,
                                 "-H", "x-grpcdx-stall-after: many"]), 64 + 3, "x-grpcdx-stall-after")


if __name__ == "__main__":
    t.main()
