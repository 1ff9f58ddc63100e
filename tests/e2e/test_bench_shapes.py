# `grpcdx bench` load shapes and the per-second series: a step or line rate really changes the
# calls made each second, a concurrency schedule starts and parks workers, -n stays exact under a
# schedule, the series in JSON adds up to the run, and bad combinations are usage errors (exit 2,
# one error line). Checks on rates are one-sided and far from the expected values, so a busy
# machine cannot fail them; every run is at most 3 s.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpcdx_test as t  # noqa: E402

UNARY = "grpc.testing.TestService/UnaryCall"
EMPTY = "grpc.testing.TestService/EmptyCall"
# A server-streaming call that takes at least 20 ms: one response after a 20 ms interval. In a
# closed loop, N calls in flight make at most N * 50 calls a second.
SLOW = "grpc.testing.TestService/StreamingOutputCall"
SLOW_DATA = '{"responseParameters": [{"size": 1, "intervalUs": 20000}]}'
SERIES_KEYS = ["t_s", "calls", "rps", "errors", "p50", "p99"]


class BenchShapes(t.ServedTestCase):
    def bench(self, *args, timeout=60):
        rc, out, err = t.run(["bench", self.address, "--plaintext"] + list(args) + ["-o", "json"], timeout=timeout)
        self.assertEqual(rc, 0, "exit %d\nstdout: %s\nstderr: %s" % (rc, out, err))
        self.assert_clean_stderr(err)
        lines = t.json_lines(out)
        self.assertEqual(len(lines), 1, out)
        return lines[0]

    def check_series(self, report):
        series = report["series"]
        self.assertTrue(series, report)
        for i, point in enumerate(series):
            self.assertEqual(list(point.keys()), SERIES_KEYS)
            self.assertEqual(point["t_s"], i + 1)
            self.assertLessEqual(point["errors"], point["calls"])
            if point["calls"]:
                self.assertLessEqual(point["p50"], point["p99"])
                self.assertLessEqual(point["p99"], report["latency_ms"]["max"])
        self.assertEqual(sum(p["calls"] for p in series), report["count"])
        self.assertEqual(sum(p["errors"] for p in series), report["count"] - report["ok"])
        # One point a second, up to the end of the last call; a last sliver of under 250 ms is
        # folded into the second before.
        seconds, rest = divmod(report["duration_ms"], 1000)
        self.assertEqual(len(series), int(seconds) + (0 if seconds >= 1 and rest < 250 else 1))
        return series

    def test_step_rate_changes_the_calls_each_second(self):
        # 40 calls/s in the first second, then 240 (the end) from 1 s on.
        r = self.bench(UNARY, "-z", "3s", "-c", "20", "--load-schedule", "step", "--load-start", "40",
                       "--load-step", "200", "--load-step-duration", "1s", "--load-end", "240")
        series = self.check_series(r)
        self.assertGreaterEqual(len(series), 3)
        self.assertLessEqual(series[0]["calls"], 45)
        # Without the step, 40 a second; the floors leave room for a busy machine's late calls.
        self.assertGreaterEqual(series[1]["calls"], 100)
        self.assertGreaterEqual(series[2]["calls"], 100)
        # Open loop: no more calls than the schedule made due (40 + 240 + 240).
        self.assertLessEqual(r["count"], 520)
        self.assertGreater(r["count"], 200)

    def test_line_rate_rises_every_second(self):
        r = self.bench(EMPTY, "-z", "3s", "--load-schedule", "line", "--load-start", "20", "--load-step", "80")
        series = self.check_series(r)
        self.assertLessEqual(series[0]["calls"], 25)       # 20 due
        # 100 and 180 due; a flat rate would make 20 (floors far from it, for a busy machine).
        self.assertGreaterEqual(series[1]["calls"], 40)
        self.assertGreaterEqual(series[2]["calls"], 60)
        self.assertLessEqual(r["count"], 20 + 100 + 180 + 5)

    def test_concurrency_steps_start_and_park_workers(self):
        up = self.bench(SLOW, "-d", SLOW_DATA, "-z", "2s", "--concurrency-schedule", "step",
                        "--concurrency-start", "1", "--concurrency-step", "5", "--concurrency-step-duration", "1s",
                        "--concurrency-end", "6")
        series = self.check_series(up)
        self.assertLessEqual(series[0]["calls"], 52)      # one call in flight: at most 50 a second
        self.assertGreaterEqual(series[1]["calls"], 100)  # six: up to 300
        down = self.bench(SLOW, "-d", SLOW_DATA, "-z", "2s", "--concurrency-schedule", "step",
                          "--concurrency-start", "6", "--concurrency-step", "-5", "--concurrency-step-duration", "1s",
                          "--concurrency-end", "1")
        series = self.check_series(down)
        self.assertGreaterEqual(series[0]["calls"], 100)
        self.assertLessEqual(series[1]["calls"], 58)      # parked down to one (and the 5 calls in flight at 1 s)

    def test_n_is_exact_under_schedules(self):
        r = self.bench(EMPTY, "-n", "300", "--concurrency-schedule", "line", "--concurrency-start", "1",
                       "--concurrency-step", "3")
        self.assertEqual(r["count"], 300)
        self.assertEqual(r["status"], {"OK": 300})
        self.check_series(r)
        r = self.bench(EMPTY, "-n", "150", "--load-schedule", "step", "--load-start", "100", "--load-step", "100",
                       "--load-step-duration", "500ms", "--concurrency-schedule", "step", "--concurrency-start", "8",
                       "--concurrency-step", "-2", "--concurrency-step-duration", "300ms", "--concurrency-end", "2")
        self.assertEqual(r["count"], 150)
        self.check_series(r)

    def test_series_counts_errors(self):
        r = self.bench(UNARY, "-z", "1500ms", "--rps", "100", "-d", '{"responseStatus": {"code": 14}}')
        series = self.check_series(r)
        self.assertEqual(r["ok"], 0)
        self.assertEqual(len(series), 2)
        for point in series:
            self.assertEqual(point["errors"], point["calls"])
        # The last point covers half a second: its rate is its calls over that half.
        self.assertGreater(series[1]["rps"], series[1]["calls"] * 1.5)

    def test_bad_combinations_are_usage_errors(self):
        base = ["bench", self.address, "--plaintext", EMPTY, "-n", "10"]
        cases = [
            (["--load-schedule", "step", "--load-start", "50", "--load-step", "10"],
             "--load-schedule step needs --load-step-duration"),
            (["--load-schedule", "step", "--load-start", "50", "--load-step", "10", "--load-step-duration", "1s",
              "--rps", "100"], "--rps sets a constant rate: it does not go with --load-schedule step"),
            (["--concurrency-schedule", "line", "--concurrency-start", "5", "--concurrency-step", "1", "-c", "10"],
             "-c sets a constant concurrency"),
            (["--load-start", "50"], "--load-start applies to --load-schedule step or line"),
            (["--load-schedule", "ramp"], "--load-schedule"),
            (["--load-schedule", "line", "--load-start", "10", "--load-step", "-1"],
             "a decreasing --load-schedule needs --load-end or --load-max-duration"),
            (["--load-schedule", "step", "--load-start", "50", "--load-end", "50", "--load-step", "10",
              "--load-step-duration", "1s"], "--load-end equals --load-start"),
            (["--load-schedule", "step", "--load-start", "50", "--load-end", "100", "--load-step", "-10",
              "--load-step-duration", "1s"], "moves away from --load-end"),
            (["--concurrency-schedule", "step", "--concurrency-start", "2", "--concurrency-step", "0.5",
              "--concurrency-step-duration", "1s"], "expected a whole number"),
            (["--concurrency-schedule", "line", "--concurrency-start", "4", "--concurrency-step", "-1",
              "--concurrency-max-duration", "10s"], "the concurrency must stay at 1 or more"),
            (["--load-schedule", "step", "--load-start", "50", "--load-step", "10", "--load-step-duration", "5"],
             "--load-step-duration"),
            (["--load-schedule", "line", "--load-start", "50", "--load-step", "10", "--load-step-duration", "2s"],
             "--load-step-duration applies to --load-schedule step"),
        ]
        for extra, message in cases:
            with self.subTest(extra=extra):
                self.assert_fails(t.run(base + extra), 2, message)


if __name__ == "__main__":
    t.main()
