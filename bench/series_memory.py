#!/usr/bin/env python3
# Memory of a long `grpcdx bench` with the per-second series (issue 23): runs `grpcdx bench -z DUR
# --rps R -o json` against `grpcdx serve` and samples the bench process's RSS every few seconds.
# The series grows by one small point a second (600 for 10 minutes); everything else is fixed
# (histograms, the ring of open seconds), so RSS after the first minute must stay flat. Prints the
# samples' summary (or one JSON object with --json); --check exits 7 when RSS grew by more than
# --max-growth-kib between the end of the first minute (or of the first sixth of a shorter run)
# and the end, or when the report does not have one series point a second. Refuses to measure on a
# busy machine (1-minute load >= 0.5) unless --force.
import argparse
import json
import os
import subprocess
import sys
import threading
import time

from bench_common import loadavg, refuse_when_busy, rss_kib, start, stop

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def parse_seconds(text):
    units = {"s": 1, "m": 60, "h": 3600}
    return float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--grpcdx", default=os.path.join(REPO, "build", "grpcdx"))
    ap.add_argument("--duration", default="10m", help="the bench's -z (default 10m: 600 series points)")
    ap.add_argument("--rps", type=int, default=2000, help="the bench's --rps (default 2000)")
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--every", type=float, default=5.0, help="seconds between RSS samples (default 5)")
    ap.add_argument("--max-growth-kib", type=int, default=1024)
    ap.add_argument("--force", action="store_true", help="measure even when the machine is busy")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    ap.add_argument("--check", action="store_true", help="exit 7 when memory grew or the series is wrong")
    args = ap.parse_args()

    load = loadavg()
    busy = refuse_when_busy(args.force)
    if busy:
        return busy
    seconds = parse_seconds(args.duration)
    server, address = start([args.grpcdx, "serve", "--listen", "127.0.0.1:0"])
    samples = []  # (seconds since start, RSS KiB)
    try:
        began = time.monotonic()
        bench = subprocess.Popen([args.grpcdx, "bench", address, "grpc.testing.TestService/UnaryCall", "--plaintext",
                                  "-z", args.duration, "--rps", str(args.rps), "-c", str(args.concurrency), "-o", "json"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # Read the output on threads so a full pipe can never stall the bench.
        output = {}

        def drain(name, stream):
            output[name] = stream.read()

        readers = [threading.Thread(target=drain, args=(n, s)) for n, s in (("out", bench.stdout), ("err", bench.stderr))]
        for reader in readers:
            reader.start()
        while bench.poll() is None and time.monotonic() - began < seconds + 60:
            kib = rss_kib(bench.pid) if bench.poll() is None else 0
            if kib:
                samples.append((round(time.monotonic() - began, 1), kib))
            time.sleep(args.every)
        if bench.poll() is None:
            bench.kill()
        bench.wait()
        for reader in readers:
            reader.join()
        if bench.returncode != 0:
            print("error: bench exited %d: %s" % (bench.returncode, output.get("err", b"").decode(errors="replace")),
                  file=sys.stderr)
            return 1
        report = json.loads(output["out"])
    finally:
        stop(server)

    settle = min(60.0, seconds / 6)
    after = [kib for t, kib in samples if t >= settle]
    first, last = (after[0], after[-1]) if after else (0, 0)
    series = report.get("series", [])
    summary = {"duration_s": seconds, "rps": args.rps, "concurrency": args.concurrency, "loadavg_at_start": load,
               "calls": report["count"], "series_points": len(series),
               "series_points_expected": int(report["duration_ms"] // 1000) + (
                   0 if report["duration_ms"] >= 1000 and report["duration_ms"] % 1000 < 250 else 1),
               "rss_kib_at_settle": first, "rss_kib_at_end": last, "rss_kib_max": max(after) if after else 0,
               "growth_kib": last - first, "samples": len(samples)}
    if args.json:
        print(json.dumps(summary))
    else:
        print("%d calls in %.0f s at --rps %d, -c %d (load %.2f at start)" % (
            summary["calls"], seconds, args.rps, args.concurrency, load))
        print("series: %d points (one a second: %d expected)" % (summary["series_points"],
                                                                  summary["series_points_expected"]))
        print("RSS: %d KiB after %.0f s, %d KiB at the end, %d KiB at most: growth %+d KiB" % (
            first, settle, last, summary["rss_kib_max"], summary["growth_kib"]))
    if args.check:
        if summary["series_points"] != summary["series_points_expected"]:
            print("error: the series has %d points, expected %d" % (summary["series_points"],
                                                                    summary["series_points_expected"]), file=sys.stderr)
            return 7
        if summary["growth_kib"] > args.max_growth_kib:
            print("error: RSS grew by %d KiB (more than %d)" % (summary["growth_kib"], args.max_growth_kib),
                  file=sys.stderr)
            return 7
    return 0


if __name__ == "__main__":
    sys.exit(main())
