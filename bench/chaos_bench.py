#!/usr/bin/python3
# Benchmark of `grpcdx chaos` with no faults: unary throughput and latency direct vs through the
# proxy (grpc.aio client, C concurrent calls for a bounded time), and N concurrent open streams
# held through the proxy. Run with /usr/bin/python3 (python3-grpcio); see docs/performance.md.
import argparse
import asyncio
import json
import statistics
import sys
import time

import grpc

from bench_common import start, stop

EMPTY_CALL = "/grpc.testing.TestService/EmptyCall"
FULL_DUPLEX = "/grpc.testing.TestService/FullDuplexCall"
# grpc.testing.StreamingOutputCallRequest{response_parameters: [{size: 1}]}, serialized.
PING = bytes([0x12, 0x02, 0x08, 0x01])






async def unary_load(address, concurrency, seconds):
    """Runs `concurrency` callers of EmptyCall for `seconds`; returns (calls/s, latencies in s)."""
    async with grpc.aio.insecure_channel(address) as channel:
        call = channel.unary_unary(EMPTY_CALL)
        await call(b"", timeout=10)  # connect and warm up
        latencies = []
        end = time.monotonic() + seconds

        async def worker():
            while time.monotonic() < end:
                t0 = time.perf_counter()
                await call(b"", timeout=10)
                latencies.append(time.perf_counter() - t0)

        t0 = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return len(latencies) / (time.monotonic() - t0), latencies


async def hold_streams(address, count, hold_seconds):
    """Opens `count` FullDuplexCall streams, gets one response on each, holds them all open for
    `hold_seconds`, then closes them; returns how many completed the exchange."""
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


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--grpcdx", default="build/grpcdx")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3, help="alternating direct/proxy rounds")
    ap.add_argument("--force", action="store_true", help="run even when the 1-min load is 0.5 or more")
    args = ap.parse_args()

    load = float(open("/proc/loadavg").read().split()[0])
    if load >= 0.5 and not args.force:
        raise SystemExit("the machine is busy (1-min load %.2f >= 0.5): numbers would mean nothing; "
                         "wait, or pass --force" % load)

    server, upstream = start([args.grpcdx, "serve", "--listen", "127.0.0.1:0"])
    proxy, address = start([args.grpcdx, "chaos", "--listen", "127.0.0.1:0", "--target", upstream,
                            "--plaintext"])
    try:
        results = {"direct": [], "proxy": []}
        for _ in range(args.rounds):
            for name, target in (("direct", upstream), ("proxy", address)):
                rps, lat = asyncio.run(unary_load(target, args.concurrency, args.seconds))
                results[name].append((rps, statistics.median(lat), sorted(lat)[int(len(lat) * 0.99)]))
        p50_single = {}
        for name, target in (("direct", upstream), ("proxy", address)):
            _, lat = asyncio.run(unary_load(target, 1, args.seconds / 2))
            p50_single[name] = statistics.median(lat)
        held = asyncio.run(hold_streams(address, args.streams, 1.0))
    finally:
        stop(proxy)
        stop(server)

    def best(name, i):
        return max(r[i] for r in results[name]) if i == 0 else min(r[i] for r in results[name])

    report = {
        "load_before": load,
        "concurrency": args.concurrency,
        "seconds": args.seconds,
        "direct_rps": round(best("direct", 0), 1),
        "proxy_rps": round(best("proxy", 0), 1),
        "throughput_ratio": round(best("proxy", 0) / best("direct", 0), 3),
        "p50_us_single_direct": round(p50_single["direct"] * 1e6, 1),
        "p50_us_single_proxy": round(p50_single["proxy"] * 1e6, 1),
        "added_p50_us": round((p50_single["proxy"] - p50_single["direct"]) * 1e6, 1),
        "streams_held": held,
        "streams_asked": args.streams,
    }
    print(json.dumps(report, indent=2))
    ok = report["throughput_ratio"] >= 0.45 and report["added_p50_us"] < 150 and held == args.streams
    return 0 if ok else 7


if __name__ == "__main__":
    sys.exit(main())
