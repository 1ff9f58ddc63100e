#!/usr/bin/python3
"""End-to-end: bench's outputs for other tools and its CI gate: -o csv (a row a call),
-o prometheus (read back by python3-prometheus-client's parser), --out FILE, --compare against an
earlier report (exit 7 on regression), and --lb over gRPC's list of addresses with the calls
each backend answered."""
import contextlib
import json
import os

from prometheus_client.parser import text_string_to_metric_families

import grpcdx_test as t

METHOD = "grpc.testing.TestService/UnaryCall"
_stack = contextlib.ExitStack()
_a = _b = None


def setUpModule():
    global _a, _b
    _a = _stack.enter_context(t.serve())
    _b = _stack.enter_context(t.serve())


def tearDownModule():
    _stack.close()


def bench(*args, target=None, timeout=60):
    concurrency = [] if "-c" in args else ["-c", "2"]
    return t.run(["bench", target or _a, METHOD, "--plaintext"] + concurrency + list(args), timeout=timeout)


class Csv(t.TestCase):
    def test_a_row_a_call(self):
        rc, out, err = bench("-n", "40", "-o", "csv", "-d", '[{}, {"responseStatus": {"code": 5}}]')
        self.assertEqual(rc, 0, err)
        lines = out.strip().split("\n")
        self.assertEqual(lines[0], "start_ms,latency_ms,status,backend")
        rows = [line.split(",") for line in lines[1:]]
        self.assertEqual(len(rows), 40)
        self.assertEqual(sorted({r[2] for r in rows}), ["NOT_FOUND", "OK"])
        self.assertEqual(sum(r[2] == "OK" for r in rows), 20)
        for start, latency, _, backend in rows:
            self.assertGreaterEqual(float(start), 0)
            self.assertGreater(float(latency), 0)
            self.assertEqual(backend, _a)


class Prometheus(t.TestCase):
    def test_parsed_by_the_prometheus_client(self):
        rc, out, err = bench("-n", "30", "-o", "prometheus", "-d", '[{}, {}, {"responseStatus": {"code": 14}}]')
        self.assertEqual(rc, 0, err)
        families = {f.name: f for f in text_string_to_metric_families(out)}
        calls = {s.labels["status"]: s.value for s in families["grpcdx_bench_calls"].samples
                 if s.name == "grpcdx_bench_calls_total"}
        self.assertEqual(calls, {"OK": 20.0, "UNAVAILABLE": 10.0})
        latency = families["grpcdx_bench_latency_seconds"]
        self.assertEqual(latency.type, "histogram")
        buckets = [(s.labels["le"], s.value) for s in latency.samples if s.name.endswith("_bucket")]
        self.assertEqual(buckets[-1], ("+Inf", 30.0))
        counts = [v for _, v in buckets]
        self.assertEqual(counts, sorted(counts))  # cumulative
        count = [s.value for s in latency.samples if s.name.endswith("_count")][0]
        total = [s.value for s in latency.samples if s.name.endswith("_sum")][0]
        self.assertEqual(count, 30.0)
        self.assertGreater(total, 0)
        self.assertEqual(families["grpcdx_bench_rps"].type, "gauge")


class Out(t.TestCase):
    def test_out_takes_the_format_and_stdout_the_summary(self):
        path = os.path.join(t.tmpdir(), "report.json")
        rc, out, err = bench("-n", "20", "-o", "json", "--out", path)
        self.assertEqual(rc, 0, err)
        with open(path) as f:
            report = json.load(f)
        self.assertEqual(report["count"], 20)
        self.assertIn("Summary", out)
        self.assertIn("Latency", out)

    def test_unwritable_out_fails_before_the_run(self):
        self.assert_fails(bench("-n", "5", "-o", "csv", "--out", "/nonexistent-dir/x.csv"), 1, "--out")


class Compare(t.TestCase):
    def baseline(self, **changes):
        rc, out, err = bench("-n", "50", "-o", "json")
        self.assertEqual(rc, 0, err)
        report = json.loads(out)
        for key, value in changes.items():
            if key == "p99":
                report["latency_ms"]["p99"] = value
            else:
                report[key] = value
        path = os.path.join(t.tmpdir(), "baseline-%d.json" % len(os.listdir(t.tmpdir())))
        with open(path, "w") as f:
            json.dump(report, f)
        return path

    def test_no_regression_against_a_slow_baseline(self):
        path = self.baseline(rps=1.0, p99=100000.0)
        rc, out, err = bench("-n", "50", "--compare", path, "-o", "json")
        self.assertEqual(rc, 0, err)
        compare = json.loads(out)["compare"]
        self.assertFalse(compare["regressed"])
        self.assertGreater(compare["rps_change_pct"], 0)
        self.assertLess(compare["p99_change_pct"], 0)
        self.assertEqual(set(compare), {"rps_change_pct", "p50_change_pct", "p99_change_pct", "error_rate_change",
                                        "regressed"})

    def test_regression_exits_7(self):
        path = self.baseline(rps=1e9)
        rc, out, err = bench("-n", "50", "--compare", path)
        self.assertEqual(rc, 7, err)
        self.assert_error_line(err, "throughput fell")
        self.assertIn("regression:", out)
        # A generous limit lets the same run pass on p99 and fail only on what crossed it.
        rc, out, err = bench("-n", "50", "--compare", self.baseline(p99=0.000001), "--max-regression", "50")
        self.assertEqual(rc, 7, err)
        self.assert_error_line(err, "p99 latency rose")

    def test_bad_baselines(self):
        self.assert_fails(bench("-n", "5", "--compare", "/nonexistent.json"), 1, "--compare")
        path = os.path.join(t.tmpdir(), "not-a-report.json")
        with open(path, "w") as f:
            f.write('{"hello": 1}')
        self.assert_fails(bench("-n", "5", "--compare", path), 1, "is not a bench report")
        self.assert_fails(bench("-n", "5", "--compare", path, "--max-regression", "-3"), 2, "--max-regression")


class LoadBalancing(t.TestCase):
    def test_round_robin_spreads_and_pick_first_does_not(self):
        target = "ipv4:%s,%s" % (_a, _b)
        # round_robin picks among the backends that are connected: bench starts once the first
        # is, so the calls are paced over half a second to let the second connect too (on a
        # loaded machine that can take tens of milliseconds).
        rc, out, err = bench("-n", "100", "--rps", "200", "-c", "1", "--lb", "round_robin", "-o", "json",
                             target=target)
        self.assertEqual(rc, 0, err)
        backends = json.loads(out)["backends"]
        self.assertEqual(sorted(backends), sorted([_a, _b]))
        self.assertEqual(sum(backends.values()), 100)
        self.assertTrue(all(n >= 20 for n in backends.values()), backends)
        rc, out, err = bench("-n", "40", "--lb", "pick_first", "-o", "json", target=target)
        self.assertEqual(rc, 0, err)
        self.assertEqual(list(json.loads(out)["backends"].values()), [40])
        rc, out, err = bench("-n", "10", "--lb", "round_robin", target=target)
        self.assertEqual(rc, 0, err)
        self.assertIn("Backends", out)

    def test_address_lists_work_for_every_command(self):
        target = "ipv4:%s,%s" % (_a, _b)
        self.assert_ok(t.run(["list", target, "--plaintext"]))
        self.assert_ok(t.run(["call", target, "grpc.testing.TestService/EmptyCall", "--plaintext"]))
        self.assert_fails(t.run(["list", "ipv4:%s,nope" % _a, "--plaintext"]), 2)

    def test_bad_lb(self):
        self.assert_fails(bench("-n", "1", "--lb", "random"), 2)


if __name__ == "__main__":
    t.main()
