# `call --record` then `replay`: the round trip, --compare, each pacing mode, stalls, and bad
# replay files named by line.
import json
import os
import stat
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpcdx_test as t  # noqa: E402

BIDI = "grpc.testing.TestService/FullDuplexCall"
INPUT = "grpc.testing.TestService/StreamingInputCall"
OUTPUT = "grpc.testing.TestService/StreamingOutputCall"


events = t.events


def replay_lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def client_stream_file(name, times):
    """A replay file for StreamingInputCall with one send at each of `times` (ms)."""
    lines = [json.dumps({"t_ms": ms, "dir": "send", "message": {"payload": {"body": "AAAA"}}}) for ms in times]
    lines.append(json.dumps({"t_ms": times[-1] + 1, "dir": "recv",
                             "message": {"aggregatedPayloadSize": 3 * len(times)}}))
    lines.append(json.dumps({"t_ms": times[-1] + 2, "dir": "status", "code": 0}))
    return t.write_file(name, "\n".join(lines) + "\n")


class ReplayTest(t.ServedTestCase):
    def record_bidi(self, name):
        path = os.path.join(t.tmpdir(), name)
        data = "\n".join(json.dumps({"responseParameters": [{"size": n}, {"size": n + 1}]}) for n in (1, 3, 5))
        out = self.assert_ok(t.run(["call", self.address, BIDI, "--plaintext", "-o", "json", "-d", data,
                                    "--record", path]))
        self.assertEqual(len(events(out, "message")), 6)
        return path

    def test_record_writes_a_replay_file_with_mode_0600(self):
        path = self.record_bidi("bidi.jsonl")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        lines = replay_lines(path)
        self.assertEqual([l["dir"] for l in lines].count("send"), 3)
        self.assertEqual([l["dir"] for l in lines].count("recv"), 6)
        self.assertEqual(lines[-1]["dir"], "status")
        self.assertEqual(lines[-1]["code"], 0)
        self.assertEqual(lines[0]["message"], {"responseParameters": [{"size": 1}, {"size": 2}]})
        times = [l["t_ms"] for l in lines]
        self.assertEqual(times, sorted(times))

    def test_replay_of_a_recording_reproduces_it(self):
        path = self.record_bidi("roundtrip.jsonl")
        out = self.assert_ok(t.run(["replay", self.address, BIDI, "--plaintext", "--in", path, "--compare",
                                    "-o", "json"]))
        self.assertEqual(len(events(out, "message")), 6)
        self.assertEqual(events(out, "compare"), [{"event": "compare", "recorded": 6, "received": 6,
                                                   "differences": 0}])
        self.assertEqual(events(out, "status")[0]["code"], 0)
        # Text mode too: the messages, and nothing on stderr.
        rc, out, err = t.run(["replay", self.address, BIDI, "--plaintext", "--in", path, "--compare"])
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(len(t.parse_json_stream(out)), 6)

    def test_compare_reports_differences_field_by_field(self):
        path = self.record_bidi("changed.jsonl")
        lines = replay_lines(path)
        recv = [i for i, l in enumerate(lines) if l["dir"] == "recv"]
        lines[recv[1]]["message"] = {"payload": {"body": "AAAA"}}  # recorded 3 bytes, server sends 2
        with open(path, "w") as f:
            f.write("\n".join(json.dumps(l) for l in lines) + "\n")
        rc, out, err = t.run(["replay", self.address, BIDI, "--plaintext", "--in", path, "--compare", "-o", "json"])
        self.assertEqual(rc, 1, out + err)
        self.assert_error_line(err, ["differs from", "1 place"])
        diffs = events(out, "difference")
        self.assertEqual(len(diffs), 1)
        self.assertEqual(diffs[0]["index"], 1)
        self.assertEqual(diffs[0]["line"], recv[1] + 1)
        self.assertIn("payload.body", diffs[0]["detail"])
        # Text: one "difference:" line naming the response and the file line, then the error.
        rc, out, err = t.run(["replay", self.address, BIDI, "--plaintext", "--in", path, "--compare"])
        self.assertEqual(rc, 1)
        first, last = err.strip().split("\n")
        self.assertTrue(first.startswith("difference: response 2 (%s:%d): " % (path, recv[1] + 1)), first)
        self.assertTrue(last.startswith("error: the replay differs"), last)

    def test_compare_notices_missing_messages(self):
        path = self.record_bidi("fewer.jsonl")
        lines = [l for l in replay_lines(path) if not (l["dir"] == "send" and l["message"]["responseParameters"][0]["size"] == 5)]
        with open(path, "w") as f:
            f.write("\n".join(json.dumps(l) for l in lines) + "\n")
        rc, out, err = t.run(["replay", self.address, BIDI, "--plaintext", "--in", path, "--compare", "-o", "json"])
        self.assertEqual(rc, 1, out + err)
        details = [d["detail"] for d in events(out, "difference")]
        self.assertIn("recorded 6 response messages, received 4", details)

    def elapsed_ms(self, pace, path):
        out = self.assert_ok(t.run(["replay", self.address, INPUT, "--plaintext", "--in", path, "--compare",
                                    "--pace", pace, "-o", "json"]))
        return events(out, "status")[0]["elapsed_ms"]

    def test_pace_recorded_honours_the_gaps(self):
        path = client_stream_file("paced.jsonl", [0, 400, 800])
        self.assertGreaterEqual(self.elapsed_ms("recorded", path), 800)

    def test_pace_asap_does_not_wait(self):
        # Recorded 4 s apart: a replay that honoured the gaps would take at least 8 s (within the
        # default 10 s deadline), so the 4 s ceiling tells waiting from not waiting with room for
        # a busy machine (it was 1.5 s for gaps of 1.5 s: the same margin as the figure).
        path = client_stream_file("asap.jsonl", [0, 4000, 8000])
        self.assertLess(self.elapsed_ms("asap", path), 4000)

    def test_pace_rate_spaces_sends(self):
        path = client_stream_file("rate.jsonl", [0, 0, 0, 0])
        # 5/s: sends at 0, 200, 400 and 600ms.
        self.assertGreaterEqual(self.elapsed_ms("5/s", path), 600)

    def test_replay_catches_a_stall(self):
        path = t.write_file("stall.jsonl", json.dumps(
            {"t_ms": 0, "dir": "send", "message": {"responseParameters": [{"size": 1}, {"size": 2}]}}) + "\n")
        rc, out, err = t.run(["replay", self.address, OUTPUT, "--plaintext", "--in", path, "-o", "json",
                              "-H", "x-grpcdx-stall-after: 1", "--stall-timeout", "500ms"])
        self.assertEqual(rc, 5, out + err)
        self.assert_error_line(err, "recv_idle")
        stall = events(out, "stall")[0]
        self.assertEqual((stall["kind"], stall["sent"], stall["received"]), ("recv_idle", 1, 1))
        self.assertGreaterEqual(stall["idle_ms"], 500)
        self.assertLessEqual(stall["idle_ms"], 600)
        # grpcdx serve offers channelz: the report has its view of this connection.
        self.assertIn("the handler is stuck", stall["server_view"]["which_side"])

    def test_replay_on_stall_report_ends_with_the_calls_exit_code(self):
        path = t.write_file("stall-report.jsonl", json.dumps(
            {"t_ms": 0, "dir": "send", "message": {"responseParameters": [{"size": 1}]}}) + "\n")
        rc, out, err = t.run(["replay", self.address, OUTPUT, "--plaintext", "--in", path, "-o", "json",
                              "-H", "x-grpcdx-stall-after: 0", "--stall-timeout", "300ms", "--on-stall", "report",
                              "--timeout", "1s"])
        self.assertEqual(rc, 64 + 4, out + err)
        self.assertEqual(len(events(out, "stall")), 1)
        self.assertEqual(events(out, "status")[0]["code_name"], "DEADLINE_EXCEEDED")

    def test_bad_replay_files_name_the_line(self):
        ok_send = json.dumps({"t_ms": 0, "dir": "send", "message": {}})
        cases = {
            "notjson.jsonl": (ok_send + "\n{oops\n", ":2: not JSON"),
            "sideways.jsonl": (ok_send + "\n" + ok_send + "\n" + json.dumps(
                {"t_ms": 1, "dir": "sideways", "message": {}}) + "\n",
                ":3: unknown dir 'sideways' (use send, recv or status)"),
            "misfit.jsonl": (json.dumps({"t_ms": 0, "dir": "send", "message": {"bogus": 1}}) + "\n",
                             ":1: message does not fit grpc.testing.StreamingOutputCallRequest"),
            "empty.jsonl": ("", ": empty replay file"),
        }
        for name, (content, expected) in cases.items():
            path = t.write_file(name, content)
            self.assert_fails(t.run(["replay", self.address, BIDI, "--plaintext", "--in", path]), 1,
                              path + expected)

    def test_missing_file_and_bad_flags(self):
        self.assert_fails(t.run(["replay", self.address, BIDI, "--plaintext", "--in", "/nonexistent/x.jsonl"]), 1,
                          "cannot read replay file '/nonexistent/x.jsonl'")
        path = client_stream_file("flags.jsonl", [0])
        self.assert_fails(t.run(["replay", self.address, INPUT, "--plaintext", "--in", path, "--pace", "fast"]), 2,
                          "invalid --pace 'fast'")
        rc, _, err = t.run(["replay", self.address, INPUT, "--plaintext", "--in", path, "--on-stall", "maybe"])
        self.assertEqual(rc, 2, err)

    def test_unary_method_takes_one_send(self):
        path = t.write_file("two-unary.jsonl", "\n".join(
            json.dumps({"t_ms": 0, "dir": "send", "message": {}}) for _ in range(2)) + "\n")
        self.assert_fails(t.run(["replay", self.address, "grpc.testing.TestService/UnaryCall", "--plaintext",
                                 "--in", path]), 1, "takes one request message")


if __name__ == "__main__":
    t.main()
