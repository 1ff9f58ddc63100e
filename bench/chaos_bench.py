#!/usr/bin/python3
# Benchmark of `grpcdx chaos` (the L7 proxy) with no faults, issues 5 and 24: the minimal C++
# client (grpcdx_load_baseline) calls the upstream directly and through the proxy, alternating
# in one run, and reports per round and as medians:
#   - calls/s at -c 50, through the proxy as a ratio of direct;
#   - p50 and p99 at -c 1, and what the proxy adds to them;
#   - the proxy's CPU per call and its context switches per call (voluntary and involuntary,
#     summed over its threads from /proc), the upstream's and the client's CPU per call;
# then holds N FullDuplexCall streams open through the proxy (python3-grpcio) and checks the
# proxy's memory stayed flat. The upstream is the minimal callback server
# (grpcdx_bench_minimal_server, the default) or `grpcdx serve` (--upstream serve).
# Refuses to measure on a busy machine (1-minute load >= 0.5) unless --force; --check exits 7
# when a target is missed. Run with /usr/bin/python3; see docs/performance.md.
import argparse
import asyncio
import json
import os
import statistics
import sys

from bench_common import add_upstream_args, loadavg, proc_usage, refuse_when_busy, rss_kib, run_measured, start, start_upstream, stop

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(os.path.dirname(HERE), "build")
FULL_DUPLEX = "/grpc.testing.TestService/FullDuplexCall"
# grpc.testing.StreamingOutputCallRequest{response_parameters: [{size: 1}]}, serialized.
PING = bytes([0x12, 0x02, 0x08, 0x01])
RSS_GROWTH_KIB = 8192  # as bench/soak.py allows


def run_client(argv):
    """Runs the minimal client; returns (its JSON line, its rusage)."""
    out, usage = run_measured(argv)
    return json.loads(out), usage


def measured_run(client, address, calls, concurrency, watched):
    """One client run; the client's figures and the CPU and switches per call of `watched`
    processes ({name: pid}) over it."""
    before = {name: proc_usage(pid) for name, pid in watched.items()}
    r, usage = run_client([client, address, str(calls), str(concurrency)])
    after = {name: proc_usage(pid) for name, pid in watched.items()}
    if r["count"] != calls or r["ok"] != calls:
        raise RuntimeError("the client made %s calls (%s OK) to %s, expected %d" % (r["count"], r["ok"], address, calls))
    row = {"rps": r["rps"], "p50_us": r["p50_ms"] * 1e3, "p99_us": r["p99_ms"] * 1e3,
           "client_cpu_us": (usage.ru_utime + usage.ru_stime) * 1e6 / calls,
           "client_cs_vol": usage.ru_nvcsw / calls, "client_cs_invol": usage.ru_nivcsw / calls}
    for name in watched:
        row[name + "_cpu_us"] = (after[name][0] - before[name][0]) * 1e6 / calls
        row[name + "_cs_vol"] = (after[name][1] - before[name][1]) / calls
        row[name + "_cs_invol"] = (after[name][2] - before[name][2]) / calls
    return row


async def hold_streams(address, count, hold_seconds):
    """Opens `count` FullDuplexCall streams, gets one response on each, holds them all open for
    `hold_seconds`, then closes them; returns how many completed the exchange."""
    import grpc  # only here: the rest of the harness needs no Python gRPC
    async with grpc.aio.insecure_channel(address) as channel:
        method = channel.stream_stream(FULL_DUPLEX)
        calls = [method(timeout=60) for _ in range(count)]

        async def ping(c):
            await c.write(PING)
            return await c.read()

        replies = await asyncio.gather(*(ping(c) for c in calls), return_exceptions=True)
        ok = sum(1 for r in replies if isinstance(r, bytes))
        await asyncio.sleep(hold_seconds)
        for c in calls:
            await c.done_writing()
        statuses = await asyncio.gather(*(c.code() for c in calls), return_exceptions=True)
        return min(ok, sum(1 for s in statuses if s == grpc.StatusCode.OK))


def median(rows, key):
    return statistics.median(r[key] for r in rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grpcdx", default=os.path.join(BUILD, "grpcdx"))
    ap.add_argument("--client", default=os.path.join(BUILD, "grpcdx_load_baseline"), help="the minimal client")
    add_upstream_args(ap, BUILD)
    ap.add_argument("--calls", type=int, default=20000, help="calls of each -c 50 run (default 20000)")
    ap.add_argument("--latency-calls", type=int, default=5000, help="calls of each -c 1 run (default 5000)")
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=5, help="alternating direct/proxy rounds (default 5)")
    ap.add_argument("--streams", type=int, default=1000, help="streams held open through the proxy (default 1000)")
    ap.add_argument("--hold", type=float, default=1.0, help="seconds the streams are held (default 1)")
    ap.add_argument("--old-grpcdx", metavar="PATH",
                    help="also measure the proxy of this (earlier) grpcdx binary in the same rounds, as 'old'")
    ap.add_argument("--force", action="store_true", help="measure even when the machine is busy")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    ap.add_argument("--check", action="store_true", help="exit 7 when a target is missed")
    args = ap.parse_args()

    load = loadavg()
    busy = refuse_when_busy(args.force)
    if busy:
        return busy
    server, upstream = start_upstream(args.upstream, args.grpcdx, args.server)
    proxy = old = None
    try:
        proxy, address = start([args.grpcdx, "chaos", "--listen", "127.0.0.1:0", "--target", upstream, "--plaintext"])
        paths = [("direct", upstream, None), ("proxy", address, proxy)]
        if args.old_grpcdx:
            old, old_address = start([args.old_grpcdx, "chaos", "--listen", "127.0.0.1:0", "--target", upstream,
                                      "--plaintext"])
            paths.append(("old", old_address, old))
        # Warm every path up (connections, the proxy's first calls).
        for _, target, _ in paths:
            run_client([args.client, target, "200", str(args.concurrency)])
        rss_start = rss_kib(proxy.pid)
        rounds = []
        for i in range(args.rounds):
            order = paths[i % len(paths):] + paths[:i % len(paths)]  # each path leads in turn
            row = {}
            for name, target, process in order:
                watched = {"server": server.pid}
                if process:
                    watched["proxy"] = process.pid
                for key, value in measured_run(args.client, target, args.calls, args.concurrency, watched).items():
                    row[name + "_" + key] = value
            for name, target, _ in order:
                r = measured_run(args.client, target, args.latency_calls, 1, {})
                row[name + "_c1_p50_us"] = r["p50_us"]
                row[name + "_c1_p99_us"] = r["p99_us"]
            row["rps_ratio"] = row["proxy_rps"] / row["direct_rps"]
            row["added_p50_us"] = row["proxy_c1_p50_us"] - row["direct_c1_p50_us"]
            row["added_p99_us"] = row["proxy_c1_p99_us"] - row["direct_c1_p99_us"]
            if old:
                row["old_rps_ratio"] = row["old_rps"] / row["direct_rps"]
                row["old_added_p50_us"] = row["old_c1_p50_us"] - row["direct_c1_p50_us"]
                row["old_added_p99_us"] = row["old_c1_p99_us"] - row["direct_c1_p99_us"]
            rounds.append(row)
        rss_loaded = rss_kib(proxy.pid)
        held = asyncio.run(hold_streams(address, args.streams, args.hold)) if args.streams else 0
        rss_end = rss_kib(proxy.pid)
    finally:
        for process in (proxy, old):
            if process:
                stop(process)
        stop(server)

    keys = sorted(rounds[0])
    summary = {"upstream": args.upstream, "calls": args.calls, "latency_calls": args.latency_calls,
               "concurrency": args.concurrency, "rounds": args.rounds, "loadavg_at_start": load,
               "median": {k: round(median(rounds, k), 3) for k in keys},
               "rounds_rps_ratio": [round(r["rps_ratio"], 3) for r in rounds],
               "streams_held": held, "streams_asked": args.streams,
               "proxy_rss_kib": {"after_warmup": rss_start, "after_rounds": rss_loaded, "after_streams": rss_end}}
    m = summary["median"]
    checks = {"calls/s through the proxy >= 0.45 of direct (-c %d)" % args.concurrency: m["rps_ratio"] >= 0.45,
              "added p50 < 100 us (-c 1)": m["added_p50_us"] < 100,
              "every stream held": held == args.streams,
              "proxy memory flat under load": rss_loaded - rss_start <= RSS_GROWTH_KIB}
    summary["checks"] = checks
    if args.json:
        print(json.dumps(summary))
    else:
        print("| figure | direct | through the proxy | ratio / added |")
        print("|---|---:|---:|---:|")
        print("| calls/s, -c %d | %.0f | %.0f | %.3f |" % (args.concurrency, m["direct_rps"], m["proxy_rps"], m["rps_ratio"]))
        print("| p50, -c 1 | %.0f us | %.0f us | %+.0f us |" % (m["direct_c1_p50_us"], m["proxy_c1_p50_us"], m["added_p50_us"]))
        print("| p99, -c 1 | %.0f us | %.0f us | %+.0f us |" % (m["direct_c1_p99_us"], m["proxy_c1_p99_us"], m["added_p99_us"]))
        print("| upstream CPU per call, -c %d | %.1f us | %.1f us | |" % (args.concurrency, m["direct_server_cpu_us"],
                                                                       m["proxy_server_cpu_us"]))
        print("| client CPU per call, -c %d | %.1f us | %.1f us | |" % (args.concurrency, m["direct_client_cpu_us"],
                                                                     m["proxy_client_cpu_us"]))
        print("| proxy CPU per call, -c %d | | %.1f us | |" % (args.concurrency, m["proxy_proxy_cpu_us"]))
        print("| proxy context switches per call (vol / invol) | | %.2f / %.2f | |" % (m["proxy_proxy_cs_vol"],
                                                                                   m["proxy_proxy_cs_invol"]))
        if old:
            print("| old proxy: calls/s, -c %d | | %.0f | %.3f |" % (args.concurrency, m["old_rps"], m["old_rps_ratio"]))
            print("| old proxy: p50 / p99, -c 1 | | %.0f / %.0f us | %+.0f / %+.0f us |" % (
                m["old_c1_p50_us"], m["old_c1_p99_us"], m["old_added_p50_us"], m["old_added_p99_us"]))
            print("| old proxy: CPU per call, switches per call (vol / invol) | | %.1f us, %.2f / %.2f | |" % (
                m["old_proxy_cpu_us"], m["old_proxy_cs_vol"], m["old_proxy_cs_invol"]))
        print("\nupstream %s, medians of %d rounds (%d calls at -c %d, %d at -c 1), 1-minute load %.2f at the start; "
              "calls/s ratio by round: %s" % (args.upstream, args.rounds, args.calls, args.concurrency,
                                             args.latency_calls, load, summary["rounds_rps_ratio"]))
        print("streams held: %d of %d; proxy RSS %d KiB after warm-up, %d after the rounds, %d after the streams"
              % (held, args.streams, rss_start, rss_loaded, rss_end))
        for name, ok in checks.items():
            print("%s: %s" % (name, "met" if ok else "NOT MET"))
    if args.check and not all(checks.values()):
        return 7
    return 0


if __name__ == "__main__":
    sys.exit(main())
