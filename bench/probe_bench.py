#!/usr/bin/env python3
# Benchmark of `grpcdx probe` on loopback: the time of a healthy probe (plaintext and TLS),
# measured inside the probe (its "ms") and around the process, and the bound of a probe that
# times out (it must end within its stage timeouts added up). Standard library only.
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "e2e"))


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def run_probe(binary, args):
    start = time.perf_counter()
    proc = subprocess.run([binary, "probe"] + args + ["-o", "json"], capture_output=True, timeout=60)
    wall = (time.perf_counter() - start) * 1000
    report = json.loads(proc.stdout)
    return proc.returncode, report, wall


def measure(binary, args, runs, expect):
    inside, wall = [], []
    stages = {}
    for _ in range(runs):
        rc, report, w = run_probe(binary, args)
        if rc != expect:
            raise SystemExit("probe %s exited %d, expected %d: %s" % (args, rc, expect, report["verdict"]))
        inside.append(report.get("ms", 0.0))
        wall.append(w)
        for s in report["stages"]:
            stages.setdefault(s["name"], []).append(s["ms"])
    return inside, wall, stages


def row(name, inside, wall):
    return "| %s | %.1f | %.1f | %.1f | %.1f |" % (name, statistics.median(inside), percentile(inside, 90),
                                                   max(inside), statistics.median(wall))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--binary", default=os.environ.get("GRPCDX", "build/grpcdx"))
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--check", action="store_true", help="exit 7 when a healthy probe's p90 is 50 ms or more, "
                    "or a timed-out probe outlives its bound")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    os.environ["GRPCDX"] = os.path.abspath(args.binary)
    import grpcdx_test as g
    import probe_fixtures as fx

    results = {}
    with g.serve() as addr:
        results["plaintext"] = measure(args.binary, [addr, "--plaintext"], args.runs, 0)
    c = g.certs()
    with g.serve("--tls-cert", c.server_cert, "--tls-key", c.server_key) as addr:
        results["tls"] = measure(args.binary, [addr, "--cacert", c.ca_cert], args.runs, 0)

    # Bound: a silent HTTP/2 server and --timeout 200ms: the grpc stage waits 200 ms, the whole
    # probe must end well within 5 x 200 ms.
    bound_runs = max(3, args.runs // 10)
    with fx.SilentHttp2Server() as server:
        inside, wall, _ = measure(args.binary, [server.address, "--plaintext", "--timeout", "200ms"], bound_runs, 40)
    results["timeout_200ms"] = (inside, wall, {})

    failed = []
    if percentile(results["plaintext"][0], 90) >= 50 or percentile(results["tls"][0], 90) >= 50:
        failed.append("a healthy probe took 50 ms or more (p90)")
    if max(results["timeout_200ms"][1]) >= 1000:
        failed.append("a timed-out probe outlived 5 x --timeout")

    if args.json:
        print(json.dumps({name: {"probe_ms_median": statistics.median(i), "probe_ms_p90": percentile(i, 90),
                                 "probe_ms_max": max(i), "wall_ms_median": statistics.median(w),
                                 "stages_ms_median": {k: statistics.median(v) for k, v in s.items()}}
                          for name, (i, w, s) in results.items()}))
    else:
        print("| probe | median ms | p90 ms | max ms | process wall median ms |")
        print("|---|---|---|---|---|")
        for name, (i, w, _) in results.items():
            print(row(name, i, w))
        for name in ("plaintext", "tls"):
            stages = results[name][2]
            print("\n%s stages (median ms): %s" % (name, ", ".join(
                "%s %.2f" % (k, statistics.median(v)) for k, v in stages.items())))
    if failed:
        print("FAILED: " + "; ".join(failed), file=sys.stderr)
        if args.check:
            return 7
    return 0


if __name__ == "__main__":
    sys.exit(main())
