#!/usr/bin/env python3
# The load benchmark of issue 7: `grpcdx bench` against the minimal callback-API client
# bench/load_baseline.cpp, both making unary calls to the built-in server at -c 50, interleaved,
# in one run. Reports calls/s, p50/p99, and the CPU time each client used per call (from the
# child's rusage), with grpcdx/baseline ratios. Refuses to measure on a busy machine (1-minute
# load >= 0.5) unless --force; --check exits 7 when grpcdx is below 90 % of the baseline's
# calls/s or its p99 is more than 10 % above the baseline's.
#
# --against OTHER_GRPCDX compares this build's `grpcdx bench` with another grpcdx binary (the
# parent commit's, built the same way) instead of the baseline client, paired the same way: what
# a change costs (issue 23: the per-second series and the schedules must cost nothing measurable).
# With --scheduled, this build runs under a concurrency schedule that reaches -c within a second
# (line from c-1 by 1), so the schedule's checks are on its path. --check then exits 7 when this
# build's calls/s is more than 3 % below the other's or its CPU per call more than 3 % above.
import argparse
import json
import os
import statistics
import subprocess
import sys

from bench_common import loadavg, refuse_when_busy

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)




def run_child(argv):
    """Runs argv; returns (stdout, cpu seconds of the child) or raises on failure."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = b""
    err = b""
    # wait4 gives this child's own rusage (user + system time).
    out, err = proc.stdout.read(), proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), proc.returncode, err.decode(errors="replace")))
    return out.decode(), usage.ru_utime + usage.ru_stime


class Server:
    def __init__(self, grpcdx):
        self.proc = subprocess.Popen([grpcdx, "serve", "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        self.address = self.proc.stdout.readline().decode().strip()
        if not self.address:
            raise RuntimeError("grpcdx serve printed no address")

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--grpcdx", default=os.path.join(REPO, "build", "grpcdx"))
    ap.add_argument("--baseline", default=os.path.join(REPO, "build", "grpcdx_load_baseline"))
    ap.add_argument("--calls", type=int, default=50000, help="calls per run (default 50000)")
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=5, help="interleaved runs of each client (default 5)")
    ap.add_argument("--force", action="store_true", help="measure even when the machine is busy")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    ap.add_argument("--check", action="store_true", help="exit 7 when a ratio misses its target")
    ap.add_argument("--against", metavar="OTHER_GRPCDX",
                    help="compare with another grpcdx binary (e.g. the parent commit's) instead of the baseline")
    ap.add_argument("--scheduled", action="store_true",
                    help="with --against: run this build under a concurrency schedule that reaches -c in 1 s")
    args = ap.parse_args()

    load = loadavg()
    busy = refuse_when_busy(args.force)
    if busy:
        return busy
    server = Server(args.grpcdx)
    other = "other" if args.against else "baseline"
    rows = {"grpcdx": [], other: []}

    def bench_argv(binary, scheduled):
        argv = [binary, "bench", server.address, "grpc.testing.TestService/UnaryCall", "--plaintext",
                "-n", str(args.calls), "-o", "json"]
        if scheduled:
            return argv + ["--concurrency-schedule", "line", "--concurrency-start", str(args.concurrency - 1),
                           "--concurrency-step", "1", "--concurrency-end", str(args.concurrency)]
        return argv + ["-c", str(args.concurrency)]

    try:
        for _ in range(args.rounds):
            for name in (other, "grpcdx"):
                if name == "grpcdx":
                    argv = bench_argv(args.grpcdx, args.against and args.scheduled)
                elif args.against:
                    argv = bench_argv(args.against, False)
                else:
                    argv = [args.baseline, server.address, str(args.calls), str(args.concurrency)]
                out, cpu = run_child(argv)
                r = json.loads(out)
                if name != "baseline":
                    r = {"count": r["count"], "ok": r["ok"], "rps": r["rps"], "p50_ms": r["latency_ms"]["p50"],
                         "p99_ms": r["latency_ms"]["p99"], "p999_ms": r["latency_ms"]["p999"]}
                if r["count"] != args.calls or r["ok"] != args.calls:
                    raise RuntimeError("%s made %s calls (%s OK), expected %d" % (name, r["count"], r["ok"], args.calls))
                r["cpu_us_per_call"] = cpu * 1e6 / args.calls
                rows[name].append(r)
    finally:
        server.close()

    def med(name, key):
        return statistics.median(r[key] for r in rows[name])

    summary = {"calls": args.calls, "concurrency": args.concurrency, "rounds": args.rounds, "loadavg_at_start": load}
    for name in rows:
        summary[name] = {k: round(med(name, k), 3) for k in ("rps", "p50_ms", "p99_ms", "p999_ms", "cpu_us_per_call")}
    summary["rps_ratio"] = round(summary["grpcdx"]["rps"] / summary[other]["rps"], 3)
    summary["p99_ratio"] = round(summary["grpcdx"]["p99_ms"] / summary[other]["p99_ms"], 3)
    summary["cpu_ratio"] = round(summary["grpcdx"]["cpu_us_per_call"] / summary[other]["cpu_us_per_call"], 3)
    if args.against:
        summary["against"] = args.against
        summary["scheduled"] = bool(args.scheduled)
    if args.json:
        print(json.dumps(summary))
    else:
        print("| client | calls/s | p50 ms | p99 ms | p99.9 ms | CPU us/call |")
        print("|---|---|---|---|---|---|")
        for name in ("grpcdx", other):
            s = summary[name]
            print("| %s | %.0f | %.3f | %.3f | %.3f | %.1f |" % (name, s["rps"], s["p50_ms"], s["p99_ms"], s["p999_ms"],
                                                             s["cpu_us_per_call"]))
        print("\ngrpcdx/%s: calls/s %.3f, p99 %.3f, CPU per call %.3f (medians of %d rounds, %d calls, -c %d, "
              "load %.2f at start)" % (other, summary["rps_ratio"], summary["p99_ratio"], summary["cpu_ratio"], args.rounds,
                                       args.calls, args.concurrency, load))
    if args.check and args.against:
        if summary["rps_ratio"] < 0.97 or summary["cpu_ratio"] > 1.03:
            print("error: this build costs more than the other (calls/s ratio >= 0.97, CPU per call ratio <= 1.03)",
                  file=sys.stderr)
            return 7
        return 0
    if args.check and (summary["rps_ratio"] < 0.9 or summary["p99_ratio"] > 1.1):
        print("error: grpcdx misses its target (calls/s ratio >= 0.9, p99 ratio <= 1.1)", file=sys.stderr)
        return 7
    return 0


if __name__ == "__main__":
    sys.exit(main())
