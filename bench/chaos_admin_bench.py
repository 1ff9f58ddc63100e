#!/usr/bin/python3
# Benchmark of `grpcdx chaos --admin` (issue 21's must-holds), in front of `grpcdx serve`:
#  1. change latency: while C callers send EmptyCall through the L7 proxy without pause, an
#     abort fault is added and removed through the admin service, R times; for each change, the
#     time from the admin's reply to the end of the first call that shows it, and every call that
#     started after a reply but did not show it (must be none);
#  2. churn: `grpcdx bench` runs through the proxy while N faults are added and removed through
#     the admin service, with a ResetCounters every 100 changes; the proxy's counters (the resets'
#     answers summed) must add up against bench's status table, and the proxy's RSS (sampled at
#     each reset) must stay flat;
#  3. the no-fault throughput of a proxy with --admin against one without, `grpcdx bench` rounds
#     alternating between the two (paired ratios, each pair in the other order from the last).
# Run with /usr/bin/python3 (python3-grpcio); see docs/performance.md, "chaos --admin".
import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import threading
import time

import grpc

from bench_common import loadavg, refuse_when_busy, rss_kib, start, stop

EMPTY = "grpc.testing.TestService/EmptyCall"
ADMIN = "/grpcdx.chaos.v1.ChaosAdmin/"
ABORT = "abort=UNAVAILABLE,method=" + EMPTY


# The admin messages by hand (one string field each): no generated code needed.
def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def string_field_1(text):
    data = text.encode()
    return b"\x0a" + _varint(len(data)) + data


def parse_string_field_1(msg):
    """Field 1 (a string) of a message: Fault.id, Counters.json."""
    i = 0
    while i < len(msg):
        key = msg[i]
        i += 1
        if key & 7 == 2:
            n, shift = 0, 0
            while True:
                b = msg[i]
                i += 1
                n |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
            if key >> 3 == 1:
                return msg[i:i + n].decode()
            i += n
        elif key & 7 == 0:
            while msg[i] & 0x80:
                i += 1
            i += 1
        else:
            raise ValueError("unexpected wire type in an admin answer")
    return ""


class Admin:
    """ChaosAdmin through grpcio's generic unary calls (blocking)."""

    def __init__(self, address):
        self.channel = grpc.insecure_channel(address)
        grpc.channel_ready_future(self.channel).result(timeout=10)

    def call(self, method, request=b""):
        return self.channel.unary_unary(ADMIN + method)(request, timeout=10)

    def add(self, spec):
        return parse_string_field_1(self.call("AddFault", string_field_1(spec)))

    def remove(self, fault_id):
        self.call("RemoveFault", string_field_1(fault_id))

    def counters(self):
        return json.loads(parse_string_field_1(self.call("GetCounters")))

    def close(self):
        self.channel.close()


async def change_latency(proxy, admin, rounds, concurrency, hold):
    """Returns (delays in s from each change's reply to the end of the first call showing it,
    calls planned after a reply without showing it, changes no call met before the next one,
    calls made)."""
    log = []  # (start, end, aborted)
    running = True
    async with grpc.aio.insecure_channel(proxy) as ch, grpc.aio.insecure_channel(admin) as adm:
        call = ch.unary_unary("/" + EMPTY)
        add = adm.unary_unary(ADMIN + "AddFault")
        remove = adm.unary_unary(ADMIN + "RemoveFault")
        await call(b"", timeout=10)

        async def caller():
            while running:
                t0 = time.perf_counter()
                try:
                    await call(b"", timeout=10)
                    aborted = False
                except grpc.aio.AioRpcError as e:
                    if e.code() != grpc.StatusCode.UNAVAILABLE:
                        raise
                    aborted = True
                log.append((t0, time.perf_counter(), aborted))

        tasks = [asyncio.create_task(caller()) for _ in range(concurrency)]
        await asyncio.sleep(0.3)
        changes = []  # (request sent, reply received, fault in force after it)
        for _ in range(rounds):
            sent = time.perf_counter()
            fault_id = parse_string_field_1(await add(string_field_1(ABORT), timeout=10))
            changes.append((sent, time.perf_counter(), True))
            await asyncio.sleep(hold)
            sent = time.perf_counter()
            await remove(string_field_1(fault_id), timeout=10)
            changes.append((sent, time.perf_counter(), False))
            await asyncio.sleep(hold)
        running = False
        await asyncio.gather(*tasks)

    # A call that started after a change's reply and ended before the next change was sent was
    # planned under that change alone: it must show it. (A call that overlaps the sending of the
    # next change may meet either: its request can reach the proxy after the next change does.)
    delays, wrong, unseen = [], 0, 0
    for i, (_, at, in_force) in enumerate(changes):
        until = changes[i + 1][0] if i + 1 < len(changes) else float("inf")
        after = sorted((c for c in log if at <= c[0] < until), key=lambda c: c[1])
        wrong += sum(1 for c in after if c[2] != in_force and c[1] < until)
        shown = [c[1] for c in after if c[2] == in_force]
        if shown:
            delays.append(shown[0] - at)
        else:
            unseen += 1
    return delays, wrong, unseen, len(log)


def churn(grpcdx, proxy_proc, proxy, admin_address, changes, concurrency):
    """Runs `grpcdx bench` through the proxy while `changes` faults are added and removed, with a
    ResetCounters every 100 changes (as a test suite resets between tests); returns the bench
    report, the proxy's counters summed over the resets' answers and the final ones, how many
    fault entries those held, RSS samples (KiB) at each reset, and the seconds the changes took."""
    admin = Admin(admin_address)
    admin.call("ResetCounters")  # the earlier phases' calls are not this one's
    # Long enough for the changes (about 1-3 ms each here); bench is stopped by its -z.
    seconds = max(10, changes // 100)
    bench = subprocess.Popen([grpcdx, "bench", proxy, EMPTY, "--plaintext", "-c", str(concurrency), "-z",
                              "%ds" % seconds, "-o", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.0)  # bench has connected and runs at full rate
    warm = 100
    for i in range(warm):  # the admin server's own first allocations, before the first sample
        admin.remove(admin.add(ABORT if i % 2 else "delay=1ms,method=" + EMPTY))
    parts = [json.loads(parse_string_field_1(admin.call("ResetCounters")))]  # bench's calls so far
    samples = [rss_kib(proxy_proc.pid)]
    t0 = time.monotonic()
    for i in range(changes):
        fault_id = admin.add("abort=UNAVAILABLE,pct=50,method=" + EMPTY if i % 2 else "delay=1ms,method=" + EMPTY)
        admin.remove(fault_id)
        if (i + 1) % 100 == 0:
            parts.append(json.loads(parse_string_field_1(admin.call("ResetCounters"))))
            samples.append(rss_kib(proxy_proc.pid))
    took = time.monotonic() - t0
    still_running = bench.poll() is None
    out, err = bench.communicate(timeout=seconds + 60)
    if bench.returncode != 0:
        raise SystemExit("error: grpcdx bench failed: %s" % err.decode(errors="replace"))
    parts.append(admin.counters())
    admin.close()
    total = {"calls": 0, "client_status": {}, "aborts": 0, "entries": 0}
    for p in parts:
        total["calls"] += p["calls"]
        for code, n in p["client_status"].items():
            total["client_status"][code] = total["client_status"].get(code, 0) + n
        total["aborts"] += sum(f["injected"] for f in p["faults"] if f["spec"].startswith("abort"))
        total["entries"] += len(p["faults"])
    return json.loads(out), total, samples, took, still_running, warm

def bench_rps(grpcdx, target, concurrency, seconds):
    out = subprocess.run([grpcdx, "bench", target, EMPTY, "--plaintext", "-c", str(concurrency), "-z",
                          "%gs" % seconds, "-o", "json"], check=True, capture_output=True, timeout=seconds + 60).stdout
    return json.loads(out)["rps"]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--grpcdx", default="build/grpcdx")
    ap.add_argument("--rounds", type=int, default=200, help="fault changes timed (each an add and a remove)")
    ap.add_argument("--callers", type=int, default=4, help="concurrent callers while changes are timed")
    ap.add_argument("--churn", type=int, default=1000, help="faults added and removed while bench runs")
    ap.add_argument("--concurrency", type=int, default=16, help="grpcdx bench -c")
    ap.add_argument("--pairs", type=int, default=5, help="paired throughput rounds, --admin off and on")
    ap.add_argument("--seconds", type=float, default=3.0, help="length of each throughput round")
    ap.add_argument("--quick", action="store_true", help="a smoke run: 20 changes, 200 churns, 1 pair of 1 s")
    ap.add_argument("--force", action="store_true", help="run even when the 1-min load is 0.5 or more")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.churn, args.pairs, args.seconds = 20, 200, 1, 1.0
    load = loadavg()
    refused = refuse_when_busy(args.force)
    if refused:
        return refused

    server, upstream = start([args.grpcdx, "serve", "--listen", "127.0.0.1:0"])
    plain, plain_address = start([args.grpcdx, "chaos", "--listen", "127.0.0.1:0", "--target", upstream, "--plaintext"])
    admin_port = subprocess.run([sys.executable, "-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); "
                                 "print(s.getsockname()[1])"], capture_output=True, text=True).stdout.strip()
    admin_address = "127.0.0.1:" + admin_port
    proxy, proxy_address = start([args.grpcdx, "chaos", "--listen", "127.0.0.1:0", "--target", upstream,
                                  "--plaintext", "--admin", admin_address])
    try:
        Admin(admin_address).close()  # the admin port answers
        pairs = []
        for i in range(args.pairs):
            # Each pair in the other order from the last, so neither proxy always runs second.
            if i % 2 == 0:
                off = bench_rps(args.grpcdx, plain_address, args.concurrency, args.seconds)
                on = bench_rps(args.grpcdx, proxy_address, args.concurrency, args.seconds)
            else:
                on = bench_rps(args.grpcdx, proxy_address, args.concurrency, args.seconds)
                off = bench_rps(args.grpcdx, plain_address, args.concurrency, args.seconds)
            pairs.append((off, on, on / off))
        delays, wrong, unseen, calls = asyncio.run(change_latency(proxy_address, admin_address, args.rounds,
                                                                  args.callers, 0.05))
        report, counters, samples, took, overlapped, warm = churn(args.grpcdx, proxy, proxy_address, admin_address,
                                                                  args.churn, args.concurrency)
    finally:
        stop(proxy)
        stop(plain)
        stop(server)

    status = report["status"]
    aborts = counters["aborts"]
    consistent = {
        "bench count = its status table": report["count"] == sum(status.values()),
        "proxy calls = its client statuses": counters["calls"] == sum(counters["client_status"].values()),
        "aborts injected = bench's UNAVAILABLE": aborts == status.get("UNAVAILABLE", 0),
        "aborts injected = proxy's UNAVAILABLE to clients": aborts == counters["client_status"].get("UNAVAILABLE", 0),
        "every fault added was answered once, by the reset after it": counters["entries"] == args.churn + warm,
        "proxy calls = bench's + its reflection calls": 0 <= counters["calls"] - report["count"] <= 10,
    }
    delays_ms = sorted(d * 1000 for d in delays)
    ratios = [p[2] for p in pairs]
    out = {
        "load_before": load,
        "change_latency": {
            "changes": len(delays), "callers": args.callers, "calls": calls,
            "p50_ms": round(statistics.median(delays_ms), 3),
            "p99_ms": round(delays_ms[min(len(delays_ms) - 1, int(len(delays_ms) * 0.99))], 3),
            "max_ms": round(delays_ms[-1], 3),
            "calls_after_a_reply_without_the_change": wrong,
            "changes_no_call_met": unseen,
        },
        "churn": {
            "changes": args.churn, "seconds": round(took, 2), "during_bench": overlapped,
            "bench_calls": report["count"], "bench_status": status,
            "proxy_calls": counters["calls"], "proxy_client_status": counters["client_status"],
            "aborts_injected": aborts, "fault_entries_answered": counters["entries"],
            "consistent": consistent,
            "rss_kib_first": samples[0], "rss_kib_last": samples[-1], "rss_kib_max": max(samples),
            "rss_growth_kib": samples[-1] - samples[0],
            "rss_kib_at_each_reset": samples,
        },
        "admin_throughput": {
            "pairs": [{"off_rps": round(a, 1), "on_rps": round(b, 1), "ratio": round(r, 3)} for a, b, r in pairs],
            "median_ratio": round(statistics.median(ratios), 3),
        },
    }
    print(json.dumps(out, indent=2))
    ok = (out["change_latency"]["max_ms"] <= 10 and wrong == 0 and all(consistent.values()) and overlapped
          and out["churn"]["rss_growth_kib"] <= 1024 and out["admin_throughput"]["median_ratio"] >= 0.95)
    return 0 if ok else 7


if __name__ == "__main__":
    sys.exit(main())
