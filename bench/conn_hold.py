#!/usr/bin/python3
"""Memory of `grpcdx conn` over a long hold (issue 19: flat over a 30-minute hold with a PING
every second). Starts `grpcdx serve` with a keepalive policy that allows the pings, holds one
connection with `grpcdx conn --keepalive 1s --for DUR -o json`, samples the hold's resident set
size, and prints one JSON line: the RSS at the first and last sample, its maximum, its growth
after the first minute, the pings answered and the verdict."""
import argparse
import json
import subprocess
import threading
import time

import bench_common as bc


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--grpcdx", required=True)
    parser.add_argument("--for", dest="hold", default="30m", help="how long to hold (a grpcdx duration)")
    parser.add_argument("--keepalive", default="1s")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between RSS samples")
    args = parser.parse_args()

    server, address = bc.start([args.grpcdx, "serve", "--listen", "127.0.0.1:0", "--keepalive-min-time", "100ms",
                                "--keepalive-permit-without-stream"])
    conn = subprocess.Popen([args.grpcdx, "conn", address, "--plaintext", "-o", "json", "--keepalive",
                             args.keepalive, "--for", args.hold], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    events = []
    reader = threading.Thread(target=lambda: events.extend(conn.stdout.read().decode().splitlines()))
    reader.start()
    samples = []  # (seconds since start, rss KiB)
    start = time.monotonic()
    while conn.poll() is None:
        try:
            rss = bc.rss_kib(conn.pid)
        except FileNotFoundError:  # it ended between poll() and the read
            break
        if rss:
            samples.append((time.monotonic() - start, rss))
        time.sleep(args.every)
    reader.join()
    bc.stop(server)
    parsed = [json.loads(line) for line in events if line.strip()]
    verdict = parsed[-1] if parsed else {}
    after_minute = [rss for t, rss in samples if t >= 60] or [rss for _, rss in samples]
    print(json.dumps({
        "hold": args.hold,
        "keepalive": args.keepalive,
        "samples": len(samples),
        "rss_first_kib": samples[0][1] if samples else None,
        "rss_last_kib": samples[-1][1] if samples else None,
        "rss_max_kib": max(rss for _, rss in samples) if samples else None,
        "growth_after_first_minute_kib": (after_minute[-1] - after_minute[0]) if after_minute else None,
        "pings_answered": sum(1 for e in parsed if e.get("event") == "ping"),
        "verdict": verdict.get("class"),
        "exit_code": conn.returncode,
    }))


if __name__ == "__main__":
    main()
