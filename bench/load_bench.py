#!/usr/bin/env python3
# The load benchmark of issues 7 and 25: `grpcdx bench` against the minimal callback-API client
# bench/load_baseline.cpp, both making unary calls at -c 50 over one connection, alternating,
# in one run, to one upstream: the minimal callback server (grpcdx_bench_minimal_server, the
# default: it hides nothing the generator costs) or the built-in server (--upstream serve).
# Reports per round and as medians: calls/s, p50/p99/p99.9, each client's CPU per call and
# context switches per call (voluntary and involuntary, all its threads, from wait4's rusage),
# the server's CPU per call, and the grpcdx/baseline ratios. Refuses to measure on a busy machine
# (1-minute load >= 0.5) unless --force; --check exits 7 when a ratio misses its target (minimal
# upstream: calls/s >= 0.95, p99 <= 1.10, CPU per call <= 1.0; serve: calls/s >= 0.9, p99 <= 1.1).
import argparse
import json
import os
import statistics
import sys

from bench_common import add_upstream_args, loadavg, proc_usage, refuse_when_busy, run_measured, start_upstream, stop

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
KEYS = ("rps", "p50_ms", "p99_ms", "p999_ms", "cpu_us_per_call", "cs_vol_per_call", "cs_invol_per_call",
        "server_cpu_us_per_call")


def client_argv(args, name, address):
    if name == "baseline":
        return [args.baseline, address, str(args.calls), str(args.concurrency)]
    argv = [args.old_grpcdx if name == "old" else args.grpcdx, "bench", address, "grpc.testing.TestService/UnaryCall", "--plaintext", "-n", str(args.calls),
            "-c", str(args.concurrency), "-o", "json"]
    if args.upstream == "minimal":  # it has no reflection service
        argv += ["-I", args.proto_dir, "--proto", "grpc/testing/test.proto"]
    return argv


def one_run(args, name, address, server_pid):
    before = proc_usage(server_pid)
    out, usage = run_measured(client_argv(args, name, address))
    after = proc_usage(server_pid)
    r = json.loads(out)
    if name != "baseline":
        r = {"count": r["count"], "ok": r["ok"], "rps": r["rps"], "p50_ms": r["latency_ms"]["p50"],
             "p99_ms": r["latency_ms"]["p99"], "p999_ms": r["latency_ms"]["p999"]}
    if r["count"] != args.calls or r["ok"] != args.calls:
        raise RuntimeError("%s made %s calls (%s OK), expected %d" % (name, r["count"], r["ok"], args.calls))
    r["cpu_us_per_call"] = (usage.ru_utime + usage.ru_stime) * 1e6 / args.calls
    r["cs_vol_per_call"] = usage.ru_nvcsw / args.calls
    r["cs_invol_per_call"] = usage.ru_nivcsw / args.calls
    r["server_cpu_us_per_call"] = (after[0] - before[0]) * 1e6 / args.calls
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--grpcdx", default=os.path.join(REPO, "build", "grpcdx"))
    ap.add_argument("--baseline", default=os.path.join(REPO, "build", "grpcdx_load_baseline"))
    add_upstream_args(ap, os.path.join(REPO, "build"))
    ap.add_argument("--proto-dir", default=os.environ.get("GRPC_PROTO_DIR", "/usr/share/grpc-proto"),
                    help="where grpc/testing/test.proto is (grpcdx bench's schema for the minimal server)")
    ap.add_argument("--calls", type=int, default=50000, help="calls per run (default 50000)")
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=5, help="alternating runs of each client (default 5)")
    ap.add_argument("--old-grpcdx", metavar="PATH",
                    help="also run this (earlier) grpcdx binary's bench in the same rounds, as 'old'")
    ap.add_argument("--force", action="store_true", help="measure even when the machine is busy")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    ap.add_argument("--check", action="store_true", help="exit 7 when a ratio misses its target")
    args = ap.parse_args()

    load = loadavg()
    busy = refuse_when_busy(args.force)
    if busy:
        return busy
    server, address = start_upstream(args.upstream, args.grpcdx, args.server)
    names = ["baseline", "grpcdx"] + (["old"] if args.old_grpcdx else [])
    rows = {name: [] for name in names}
    try:
        for i in range(args.rounds):
            # Each client leads in turn: the second run of a round finds the server warmer.
            for name in names[i % len(names):] + names[:i % len(names)]:
                rows[name].append(one_run(args, name, address, server.pid))
    finally:
        stop(server)

    def med(name, key):
        return statistics.median(r[key] for r in rows[name])

    summary = {"upstream": args.upstream, "calls": args.calls, "concurrency": args.concurrency, "rounds": args.rounds,
               "loadavg_at_start": load}
    for name in rows:
        summary[name] = {k: round(med(name, k), 3) for k in KEYS}
    summary["rounds_rps_ratio"] = [round(g["rps"] / b["rps"], 3) for g, b in zip(rows["grpcdx"], rows["baseline"])]
    summary["rps_ratio"] = round(summary["grpcdx"]["rps"] / summary["baseline"]["rps"], 3)
    summary["p99_ratio"] = round(summary["grpcdx"]["p99_ms"] / summary["baseline"]["p99_ms"], 3)
    summary["cpu_ratio"] = round(summary["grpcdx"]["cpu_us_per_call"] / summary["baseline"]["cpu_us_per_call"], 3)
    if args.old_grpcdx:
        summary["old_rps_ratio"] = round(summary["old"]["rps"] / summary["baseline"]["rps"], 3)
        summary["old_p99_ratio"] = round(summary["old"]["p99_ms"] / summary["baseline"]["p99_ms"], 3)
        summary["old_cpu_ratio"] = round(summary["old"]["cpu_us_per_call"] / summary["baseline"]["cpu_us_per_call"], 3)
    if args.json:
        print(json.dumps(summary))
    else:
        print("| client | calls/s | p50 ms | p99 ms | p99.9 ms | CPU us/call | switches/call vol / invol | server CPU us/call |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name in names[1:] + names[:1]:
            s = summary[name]
            print("| %s | %.0f | %.3f | %.3f | %.3f | %.1f | %.3f / %.3f | %.1f |" % (
                name, s["rps"], s["p50_ms"], s["p99_ms"], s["p999_ms"], s["cpu_us_per_call"], s["cs_vol_per_call"],
                s["cs_invol_per_call"], s["server_cpu_us_per_call"]))
        print("\ngrpcdx/baseline: calls/s %.3f, p99 %.3f, CPU per call %.3f (medians of %d rounds, %d calls, -c %d, "
              "upstream %s, load %.2f at start); calls/s ratio by round: %s" % (
                  summary["rps_ratio"], summary["p99_ratio"], summary["cpu_ratio"], args.rounds, args.calls,
                  args.concurrency, args.upstream, load, summary["rounds_rps_ratio"]))
        if args.old_grpcdx:
            print("old/baseline: calls/s %.3f, p99 %.3f, CPU per call %.3f" % (
                summary["old_rps_ratio"], summary["old_p99_ratio"], summary["old_cpu_ratio"]))
    min_rps, max_p99, max_cpu = (0.95, 1.10, 1.0) if args.upstream == "minimal" else (0.9, 1.1, None)
    if args.check and (summary["rps_ratio"] < min_rps or summary["p99_ratio"] > max_p99 or
                       (max_cpu is not None and summary["cpu_ratio"] > max_cpu)):
        print("error: grpcdx misses its target (calls/s ratio >= %.2f, p99 ratio <= %.2f%s)" % (
            min_rps, max_p99, ", CPU per call ratio <= %.1f" % max_cpu if max_cpu is not None else ""), file=sys.stderr)
        return 7
    return 0


if __name__ == "__main__":
    sys.exit(main())
