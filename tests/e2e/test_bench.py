# `grpcdx bench`: exact counts, status tables, JSON fields, --rps pacing, templates, streams,
# thresholds (exit 7), bad flags (exit 2), --emit k6. Bounded: -n a few thousand, -z at most 2s.
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpcdx_test as t  # noqa: E402

UNARY = "grpc.testing.TestService/UnaryCall"
LATENCY_KEYS = ["min", "mean", "p50", "p90", "p99", "p999", "max"]


def bench_json(test, args, code=0, timeout=60):
    rc, out, err = t.run(["bench"] + args + ["-o", "json"], timeout=timeout)
    test.assertEqual(rc, code, "exit %d\nstdout: %s\nstderr: %s" % (rc, out, err))
    test.assert_clean_stderr(err)
    lines = t.json_lines(out)
    test.assertEqual(len(lines), 1, out)
    return lines[0], err


class BenchTest(t.ServedTestCase):
    def check_figures(self, r):
        self.assertEqual(list(r.keys())[:6], ["count", "ok", "duration_ms", "rps", "latency_ms", "status"])
        self.assertEqual(list(r["latency_ms"].keys()), LATENCY_KEYS)
        lat = r["latency_ms"]
        self.assertTrue(0 < lat["min"] <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p999"] <= lat["max"], lat)
        self.assertTrue(lat["min"] <= lat["mean"] <= lat["max"], lat)
        self.assertEqual(sum(r["status"].values()), r["count"])
        self.assertEqual(r["status"].get("OK", 0), r["ok"])
        self.assertGreater(r["duration_ms"], 0)
        self.assertAlmostEqual(r["rps"], r["count"] / (r["duration_ms"] / 1000), delta=r["rps"] * 0.01 + 1)

    def test_exact_count_unary(self):
        r, _ = bench_json(self, [self.address, UNARY, "--plaintext", "-n", "5000", "-c", "50", "-d",
                                 '{"responseSize": 10}'])
        self.assertEqual(r["count"], 5000)
        self.assertEqual(r["ok"], 5000)
        self.assertEqual(r["status"], {"OK": 5000})
        self.check_figures(r)
        self.assertGreater(r["cpu_ms"], 0)

    def test_connections_and_concurrency_above_n(self):
        r, _ = bench_json(self, [self.address, UNARY, "--plaintext", "-n", "37", "-c", "100", "--connections", "4"])
        self.assertEqual(r["count"], 37)
        self.assertEqual(r["status"], {"OK": 37})

    def test_all_failing_counts_status(self):
        r, _ = bench_json(self, [self.address, UNARY, "--plaintext", "-n", "1000", "-c", "20", "-d",
                                 '{"responseStatus": {"code": 14, "message": "down"}}'])
        self.assertEqual(r["count"], 1000)
        self.assertEqual(r["ok"], 0)
        self.assertEqual(r["status"], {"UNAVAILABLE": 1000})
        self.check_figures(r)
        self.assertEqual(r["latency_failed_ms"]["max"], r["latency_ms"]["max"])

    def test_round_robin_mixed_statuses(self):
        # Three messages sent round-robin: exactly a third of the calls get each status.
        path = t.write_file("mixed.json", '{"responseStatus": {"code": 0}}\n{"responseStatus": {"code": 14}}\n'
                                          '{"responseStatus": {"code": 8}}\n')
        r, _ = bench_json(self, [self.address, UNARY, "--plaintext", "-n", "3000", "-c", "30", "-d", "@" + path])
        self.assertEqual(r["status"], {"OK": 1000, "UNAVAILABLE": 1000, "RESOURCE_EXHAUSTED": 1000})
        self.assertEqual(r["ok"], 1000)

    def test_template_request_number(self):
        # responseSize {{.RequestNumber}} asks for payloads of every size 0..n-1 (re-encoded per
        # call); a UUID in a bytes field must be valid base64 text, which a UUID's hex is not.
        r, _ = bench_json(self, [self.address, UNARY, "--plaintext", "-n", "500", "-c", "10", "-d",
                                 '{"responseSize": {{.RequestNumber}}, "fillUsername": true}'])
        self.assertEqual(r["count"], 500)
        self.assertEqual(r["status"], {"OK": 500})

    def test_template_code_changes_per_call(self):
        # responseStatus.code = WorkerID: with -c 2, worker 0 gets OK and worker 1 CANCELLED (1).
        r, _ = bench_json(self, [self.address, UNARY, "--plaintext", "-n", "400", "-c", "2", "-d",
                                 '{"responseStatus": {"code": {{.WorkerID}}}}'])
        self.assertEqual(r["count"], 400)
        self.assertEqual(set(r["status"].keys()), {"OK", "CANCELLED"})
        self.assertEqual(r["status"]["OK"] + r["status"]["CANCELLED"], 400)
        self.assertGreater(r["status"]["CANCELLED"], 0)

    def test_unknown_template_is_local_error(self):
        self.assert_fails(t.run(["bench", self.address, UNARY, "--plaintext", "-n", "10", "-d",
                                 '{"payload": {"body": "{{.Nope}}"}}']), 1, "unknown template '{{.Nope}}'")

    def test_duration_mode(self):
        r, _ = bench_json(self, [self.address, UNARY, "--plaintext", "-z", "1s", "-c", "10"])
        self.assertGreater(r["count"], 10)
        # No call starts after the 1 s: the run ends at most one call's latency after it. That
        # holds however slow the machine is (a fixed ceiling did not), and still fails if -z
        # does not stop the run (bench_json's timeout, or calls started after the 1 s).
        self.assertGreaterEqual(r["duration_ms"], 1000)
        self.assertLessEqual(r["duration_ms"], 1000 + r["latency_ms"]["max"] + 1, r)
        self.check_figures(r)

    def test_rps_holds_the_rate(self):
        # --rps is open-loop: call k is due at k/rate and is made even when it is late, so the
        # count is the schedule's (400 calls due in 2 s at 200/s), on any machine; a loaded one
        # only makes the calls late. The rate's guarantee is one-sided: never above it (the
        # last call is due at 1.995 s, so at most ~200.5/s). No floor: a busy machine
        # legitimately finishes late. Without pacing, -c 10 makes thousands of calls in 2 s.
        r, _ = bench_json(self, [self.address, UNARY, "--plaintext", "--rps", "200", "-z", "2s", "-c", "10"])
        self.assertTrue(399 <= r["count"] <= 401, r["count"])
        self.assertLessEqual(r["rps"], 210, r["rps"])
        self.assertGreaterEqual(r["duration_ms"], 1990, r)
        r, _ = bench_json(self, [self.address, UNARY, "--plaintext", "--rps", "500", "-n", "250", "-c", "5"])
        self.assertEqual(r["count"], 250)
        # The 250th call is due at 498 ms.
        self.assertGreaterEqual(r["duration_ms"], 495, r)
        self.assertLessEqual(r["rps"], 505, r["rps"])

    def test_warmup_excluded(self):
        r, _ = bench_json(self, [self.address, UNARY, "--plaintext", "-n", "300", "-c", "5", "--warmup", "300ms"])
        self.assertEqual(r["count"], 300)
        self.assertGreater(r["warmup_calls"], 0)

    def test_server_streaming_messages(self):
        r, _ = bench_json(self, [self.address, "grpc.testing.TestService/StreamingOutputCall", "--plaintext",
                                 "-n", "200", "-c", "10", "-d",
                                 '{"responseParameters": [{"size": 1}, {"size": 2}, {"size": 3}]}'])
        self.assertEqual(r["count"], 200)
        self.assertEqual(r["messages"]["received"], 600)
        self.assertEqual(r["messages"]["per_call"], 3)
        self.assertGreater(r["messages"]["per_second"], 0)
        self.assertEqual(list(r["messages"]["latency_ms"].keys()), LATENCY_KEYS)

    def test_client_streaming_messages(self):
        r, _ = bench_json(self, [self.address, "grpc.testing.TestService/StreamingInputCall", "--plaintext",
                                 "-n", "100", "-c", "10", "-d",
                                 '{"payload": {"body": "AAAA"}} {"payload": {"body": "AAAAAAAA"}}'])
        self.assertEqual(r["count"], 100)
        self.assertEqual(r["ok"], 100)
        self.assertEqual(r["messages"]["sent"], 200)
        self.assertEqual(r["messages"]["received"], 100)

    def test_bidi_messages(self):
        r, _ = bench_json(self, [self.address, "grpc.testing.TestService/FullDuplexCall", "--plaintext",
                                 "-n", "100", "-c", "10", "-d",
                                 '{"responseParameters": [{"size": 1}]} {"responseParameters": [{"size": 2}]}'])
        self.assertEqual(r["count"], 100)
        self.assertEqual(r["ok"], 100)
        self.assertEqual(r["messages"]["sent"], 200)
        self.assertEqual(r["messages"]["received"], 200)

    def test_text_report(self):
        out = self.assert_ok(t.run(["bench", self.address, UNARY, "--plaintext", "-n", "1000", "-c", "10", "-d",
                                    '{"responseStatus": {"code": {{.WorkerID}}}}']))
        for piece in ("Summary", "Latency", "p99.9", "Latency histogram", "Status", "OK", "CANCELLED", "calls/s"):
            self.assertIn(piece, out)
        self.assertIn("Calls:       1000 (", out)

    def test_thresholds_exit_7(self):
        rc, out, err = t.run(["bench", self.address, UNARY, "--plaintext", "-n", "200", "-c", "10", "-d",
                              '{"responseStatus": {"code": 14}}', "--max-error-rate", "5", "-o", "json"])
        self.assertEqual(rc, 7, err)
        self.assertEqual(t.json_lines(out)[0]["count"], 200)
        self.assert_error_line(err, ["error rate 100.00%", "--max-error-rate 5%"])
        rc, out, err = t.run(["bench", self.address, UNARY, "--plaintext", "-n", "100", "-c", "5",
                              "--max-p99", "1ns", "-o", "json"])
        self.assertEqual(rc, 7, err)
        self.assert_error_line(err, ["p99 latency", "--max-p99 1ns"])
        # Not crossed: exit 0.
        bench_json(self, [self.address, UNARY, "--plaintext", "-n", "100", "--max-error-rate", "0",
                          "--max-p99", "10s"])

    def test_bad_flags_exit_2(self):
        base = ["bench", self.address, UNARY, "--plaintext"]
        self.assert_fails(t.run(base + ["-c", "0"]), 2, "-c")
        self.assert_fails(t.run(base + ["-z", "abc"]), 2, "-z")
        self.assert_fails(t.run(base + ["-z", "0s"]), 2, "-z")
        self.assert_fails(t.run(base + ["--warmup", "x"]), 2, "--warmup")
        self.assert_fails(t.run(base + ["--max-p99", "fast"]), 2, "--max-p99")
        self.assert_fails(t.run(base + ["--connections", "0"]), 2, "--connections")
        self.assert_fails(t.run(base + ["--emit", "jmeter"]), 2, "--emit")
        # CLI11 names an option by its long name: -n is --total.
        self.assert_fails(t.run(base + ["-n", "0"]), 2, "--total: expected a whole number from 1")

    def test_unknown_method_and_unreachable(self):
        self.assert_fails(t.run(["bench", self.address, "grpc.testing.TestService/Nope", "--plaintext", "-n", "1"]), 1)
        rc, _, err = t.run(["bench", "127.0.0.1:%d" % t.free_port(), UNARY, "--plaintext", "-n", "5",
                            "--connect-timeout", "2s"])
        self.assertEqual(rc, 78, err)
        self.assert_error_line(err)

    def test_emit_k6(self):
        rc, out, err = t.run(["bench", self.address, UNARY, "--plaintext", "-n", "1000", "-c", "20",
                              "--warmup", "1s", "--connections", "2", "--max-p99", "50ms", "-d",
                              '{"responseSize": {{.RequestNumber}}}', "--emit", "k6"])
        self.assertEqual(rc, 0, err)
        self.assertIn("import grpc from 'k6/net/grpc';", out)
        self.assertIn("executor: 'shared-iterations'", out)
        self.assertIn("iterations: 1000", out)
        self.assertIn("client.invoke(\"grpc.testing.TestService/UnaryCall\"", out)
        self.assertIn("reflect: true", out)
        self.assertIn("p(99)<=50", out)
        self.assertIn("//   --warmup 1s", out)
        self.assertIn("//   --connections 2", out)
        self.assertIn("--warmup", err)
        self.assertIn("--connections", err)
        self.assert_clean_stderr(err)

    def test_emit_k6_with_proto_needs_no_server(self):
        proto_dir = t.GRPC_PROTO_DIR
        rc, out, err = t.run(["bench", "127.0.0.1:%d" % t.free_port(), UNARY, "--plaintext", "-z", "5s",
                              "--rps", "50", "--proto", "grpc/testing/test.proto", "-I", proto_dir, "--emit", "k6"])
        self.assertEqual(rc, 0, err)
        self.assertIn("client.load([%s], \"grpc/testing/test.proto\")" % json.dumps(proto_dir), out)
        self.assertIn("executor: 'constant-arrival-rate'", out)
        self.assertIn("reflect: false", out)


if __name__ == "__main__":
    t.main()
