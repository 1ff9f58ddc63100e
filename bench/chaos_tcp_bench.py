#!/usr/bin/python3
# The benchmark of `grpcdx chaos --tcp` with no faults (issue 6), direct vs through the proxy in
# one run against one `grpcdx serve`: unary calls/s at -c 50 and the p50 at -c 1 (both with
# `grpcdx bench`, rounds interleaved), streaming throughput (server-streaming calls of 8 x 1 MiB),
# and N concurrent connections held through the proxy while its RSS is sampled. Refuses to run
# on a busy machine (1-minute load >= 0.5) unless --force; --check exits 7 when a target is
# missed. See docs/performance.md.
import argparse
import json
import os
import selectors
import socket
import statistics
import subprocess
import sys
import threading
import time

from bench_common import loadavg, refuse_when_busy, rss_kib, start, stop

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
UNARY = "grpc.testing.TestService/UnaryCall"
STREAM = "grpc.testing.TestService/StreamingOutputCall"
STREAM_MESSAGES, STREAM_MESSAGE_SIZE = 8, 1 << 20
TARGETS = {"rps_ratio": 0.85, "added_p50_us": 25.0, "stream_ratio": 0.85}










def bench(grpcdx, target, method, calls, concurrency, data=None):
    argv = [grpcdx, "bench", target, method, "--plaintext", "-n", str(calls), "-c", str(concurrency), "-o", "json"]
    if data:
        argv += ["-d", data]
    proc = subprocess.run(argv, capture_output=True, timeout=600)
    if proc.returncode != 0:
        raise SystemExit("error: %s: exit %d: %s" % (" ".join(argv), proc.returncode, proc.stderr.decode()))
    r = json.loads(proc.stdout)
    if r["ok"] != calls:
        raise SystemExit("error: %d of %d calls OK through %s: %s" % (r["ok"], calls, target, r["status"]))
    return r


class EchoServer:
    """A single-threaded selectors echo server on 127.0.0.1:0, for holding many connections."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4096)
        self.sock.setblocking(False)
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.sock, selectors.EVENT_READ)
        self.stopping = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopping:
            for key, _ in self.sel.select(0.2):
                if key.fileobj is self.sock:
                    try:
                        conn, _ = self.sock.accept()
                    except BlockingIOError:
                        continue
                    conn.setblocking(False)
                    self.sel.register(conn, selectors.EVENT_READ)
                    continue
                try:
                    data = key.fileobj.recv(65536)
                except BlockingIOError:
                    continue
                except ConnectionError:
                    data = b""
                if data:
                    key.fileobj.sendall(data)  # pings of a few bytes: the send buffer has room
                else:
                    self.sel.unregister(key.fileobj)
                    key.fileobj.close()

    def close(self):
        self.stopping = True
        self.thread.join(5)
        self.sock.close()


def hold_connections(grpcdx, count, seconds):
    """Opens `count` connections through a --tcp proxy to an echo server, pings each one every
    half second for `seconds` while sampling the proxy's RSS; returns (connections that answered
    every ping, RSS samples in KiB)."""
    echo = EchoServer()
    proxy, address = start([grpcdx, "chaos", "--tcp", "--listen", "127.0.0.1:0", "--target", echo.address])
    host, port = address.rsplit(":", 1)
    socks, samples, alive = [], [], 0
    try:
        samples.append(rss_kib(proxy.pid))
        for _ in range(count):
            s = socket.create_connection((host, int(port)), timeout=10)
            socks.append(s)
        ok = [True] * count
        end = time.monotonic() + seconds
        while True:
            for i, s in enumerate(socks):
                try:
                    s.sendall(b"ping")
                    got = b""
                    while len(got) < 4:
                        chunk = s.recv(4 - len(got))
                        if not chunk:
                            break
                        got += chunk
                    ok[i] = ok[i] and got == b"ping"
                except OSError:
                    ok[i] = False
            samples.append(rss_kib(proxy.pid))
            if time.monotonic() >= end:
                break
            time.sleep(0.5)
        alive = sum(ok)
    finally:
        for s in socks:
            s.close()
        stop(proxy)
        echo.close()
    return alive, samples


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--grpcdx", default=os.path.join(REPO, "build", "grpcdx"))
    ap.add_argument("--calls", type=int, default=50000, help="unary calls per -c 50 round (default 50000)")
    ap.add_argument("--latency-calls", type=int, default=20000, help="unary calls per -c 1 round (default 20000)")
    ap.add_argument("--stream-calls", type=int, default=100, help="streaming calls of 8 MiB per round (default 100)")
    ap.add_argument("--rounds", type=int, default=9,
                    help="interleaved direct/proxy rounds (default 9: one round's streaming ratio moves by +-0.2)")
    ap.add_argument("--connections", type=int, default=1000, help="connections held at once (default 1000)")
    ap.add_argument("--hold", type=float, default=10.0, help="seconds to hold them, sampling RSS (default 10)")
    ap.add_argument("--force", action="store_true", help="run even when the 1-minute load is 0.5 or more")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    ap.add_argument("--check", action="store_true", help="exit 7 when a target is missed")
    args = ap.parse_args()

    load = loadavg()
    busy = refuse_when_busy(args.force)
    if busy:
        return busy

    stream_data = json.dumps({"responseParameters": [{"size": STREAM_MESSAGE_SIZE}] * STREAM_MESSAGES})
    server, upstream = start([args.grpcdx, "serve", "--listen", "127.0.0.1:0"])
    proxy, address = start([args.grpcdx, "chaos", "--tcp", "--listen", "127.0.0.1:0", "--target", upstream,
                            "-o", "json"])
    rows = {"direct": {"rps": [], "p50_ms": [], "stream_mb_s": []},
            "proxy": {"rps": [], "p50_ms": [], "stream_mb_s": []}}
    try:
        for _ in range(args.rounds):
            for name, target in (("direct", upstream), ("proxy", address)):
                rows[name]["rps"].append(bench(args.grpcdx, target, UNARY, args.calls, 50)["rps"])
                rows[name]["p50_ms"].append(
                    bench(args.grpcdx, target, UNARY, args.latency_calls, 1)["latency_ms"]["p50"])
                r = bench(args.grpcdx, target, STREAM, args.stream_calls, 2, stream_data)
                moved = args.stream_calls * STREAM_MESSAGES * STREAM_MESSAGE_SIZE / 1e6
                rows[name]["stream_mb_s"].append(moved / (r["duration_ms"] / 1000))
    finally:
        stop(proxy)
        stop(server)
    counters = json.loads(proxy.stdout.read().decode().strip().splitlines()[-1])
    held, samples = hold_connections(args.grpcdx, args.connections, args.hold)

    med = {name: {k: statistics.median(v) for k, v in r.items()} for name, r in rows.items()}
    # RSS growth while the connections were held: the last sample against the first one taken
    # after all of them were open (samples[1]).
    growth = samples[-1] - samples[1] if len(samples) > 1 else 0
    summary = {
        "loadavg_at_start": load,
        "rounds": args.rounds,
        "direct": {k: round(v, 3) for k, v in med["direct"].items()},
        "proxy": {k: round(v, 3) for k, v in med["proxy"].items()},
        "rps_ratio": round(med["proxy"]["rps"] / med["direct"]["rps"], 3),
        "added_p50_us": round((med["proxy"]["p50_ms"] - med["direct"]["p50_ms"]) * 1000, 1),
        "stream_ratio": round(med["proxy"]["stream_mb_s"] / med["direct"]["stream_mb_s"], 3),
        # Each round's proxied MB/s over the direct MB/s measured just before it: how far the
        # ratio moves from round to round on a machine the three processes share.
        "stream_round_ratios": [round(p / d, 3) for d, p in zip(rows["direct"]["stream_mb_s"],
                                                                 rows["proxy"]["stream_mb_s"])],
        "connections_asked": args.connections,
        "connections_held": held,
        "rss_kib": {"before": samples[0], "held_first": samples[1] if len(samples) > 1 else 0,
                    "held_last": samples[-1], "held_max": max(samples)},
        "rss_growth_kib": growth,
        "proxy_bytes": counters["bytes"],
    }
    missed = []
    if summary["rps_ratio"] < TARGETS["rps_ratio"]:
        missed.append("calls/s ratio %.3f < %.2f" % (summary["rps_ratio"], TARGETS["rps_ratio"]))
    if summary["added_p50_us"] >= TARGETS["added_p50_us"]:
        missed.append("added p50 %.1f us >= %.0f us" % (summary["added_p50_us"], TARGETS["added_p50_us"]))
    if summary["stream_ratio"] < TARGETS["stream_ratio"]:
        missed.append("streaming ratio %.3f < %.2f" % (summary["stream_ratio"], TARGETS["stream_ratio"]))
    if held != args.connections:
        missed.append("%d of %d connections held" % (held, args.connections))
    if growth > 1024:
        missed.append("RSS grew %d KiB while holding the connections" % growth)
    if args.json:
        print(json.dumps(summary))
    else:
        d, p = summary["direct"], summary["proxy"]
        print("| figure | direct | through chaos --tcp | ratio / difference | target |")
        print("|---|---:|---:|---:|---|")
        print("| unary calls/s, -c 50 | %.0f | %.0f | %.3f | >= %.2f |" % (d["rps"], p["rps"], summary["rps_ratio"],
                                                                           TARGETS["rps_ratio"]))
        print("| unary p50, -c 1 | %.1f us | %.1f us | %+.1f us | < %.0f us |" % (
            d["p50_ms"] * 1000, p["p50_ms"] * 1000, summary["added_p50_us"], TARGETS["added_p50_us"]))
        print("| streaming MB/s | %.0f | %.0f | %.3f | >= %.2f |" % (d["stream_mb_s"], p["stream_mb_s"],
                                                                      summary["stream_ratio"],
                                                                      TARGETS["stream_ratio"]))
        print("| connections held | | %d of %d | RSS %d -> %d KiB (max %d) | all, flat |" % (
            held, args.connections, summary["rss_kib"]["held_first"], summary["rss_kib"]["held_last"],
            summary["rss_kib"]["held_max"]))
        print("\nmedians of %d rounds; 1-minute load %.2f at the start" % (args.rounds, load))
        print("streaming ratio round by round: " + ", ".join("%.3f" % r for r in summary["stream_round_ratios"]))
    for m in missed:
        print("missed: " + m, file=sys.stderr)
    return 7 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
