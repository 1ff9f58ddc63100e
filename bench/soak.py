#!/usr/bin/python3
# Soak test (docs/reliability.md): `grpcdx bench` through `grpcdx chaos` with mixed faults in
# front of `grpcdx serve`, for a bounded time. Samples the RSS and open file descriptors of the
# three processes every second and checks, at the end, that memory stayed flat, that no file
# descriptor leaked, and that the counters add up (every call bench made is accounted for by the
# proxy, and the proxy's own counters agree with each other and with bench's status table).
# Prints a JSON summary; exits 0 when every check passed, 1 otherwise.
#
#   /usr/bin/python3 bench/soak.py --grpcdx build/grpcdx                  # 10 minutes
#   /usr/bin/python3 bench/soak.py --grpcdx build/grpcdx --duration 30s   # the CI version
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

from bench_common import start, rss_kib as rss_kb

METHOD = "grpc.testing.TestService/UnaryCall"
FAULTS = ["delay=2ms,jitter=1ms,pct=10", "abort=UNAVAILABLE,pct=4", "reset,pct=3",
          "cancel,after=0,pct=3"]


def parse_seconds(text):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text)
    if not m:
        raise argparse.ArgumentTypeError("expected a duration like 30s, 10m or 1h")
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)]






def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def sanitized(pid):
    """True when the process runs under AddressSanitizer or ThreadSanitizer, whose quarantine
    and shadow memory grow RSS by design."""
    with open("/proc/%d/maps" % pid) as f:
        maps = f.read()
    return "libasan" in maps or "libtsan" in maps


class Sampler(threading.Thread):
    """Samples RSS (kB) and fd counts of named processes once a second until stopped."""

    def __init__(self, procs):
        super().__init__(daemon=True)
        self.procs = procs
        self.samples = {name: [] for name in procs}
        self.stop_event = threading.Event()

    def run(self):
        t0 = time.monotonic()
        while not self.stop_event.is_set():
            for name, proc in self.procs.items():
                if proc.poll() is None:
                    try:
                        self.samples[name].append((round(time.monotonic() - t0, 1), rss_kb(proc.pid),
                                                   fd_count(proc.pid)))
                    except (FileNotFoundError, ProcessLookupError):
                        pass
            self.stop_event.wait(1.0)


def flat(samples, warmup_fraction=0.2, slack=0.10, floor_kb=8192):
    """RSS is flat when, after the warm-up (the first fifth of the run), the largest RSS of the
    last third is at most the largest of the first third plus max(10 %, 8 MiB)."""
    rss = [s[1] for s in samples]
    rss = rss[int(len(rss) * warmup_fraction):]
    if len(rss) < 3:
        return None, {}
    third = max(1, len(rss) // 3)
    first, last = max(rss[:third]), max(rss[-third:])
    allowed = max(first * slack, floor_kb)
    return last <= first + allowed, {"first_third_max_kb": first, "last_third_max_kb": last,
                                     "allowed_growth_kb": int(allowed)}


def wait_fds(pid, baseline, seconds=30):
    """Waits until the process holds at most `baseline` fds; returns the last count seen."""
    deadline = time.monotonic() + seconds
    n = fd_count(pid)
    while n > baseline and time.monotonic() < deadline:
        time.sleep(0.2)
        n = fd_count(pid)
    return n


def stop(proc, timeout=20):
    proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return None, out, err
    return proc.returncode, out, err


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grpcdx", default="build/grpcdx")
    ap.add_argument("--duration", type=parse_seconds, default=600.0, help="how long bench runs (default 10m)")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print only the JSON summary")
    ap.add_argument("--grpc-proto-dir", default=os.environ.get("GRPC_PROTO_DIR", "/usr/share/grpc-proto"))
    args = ap.parse_args()
    exe = os.path.abspath(args.grpcdx)
    say = (lambda *a: None) if args.json else (lambda *a: print(*a, file=sys.stderr, flush=True))

    server, upstream = start([exe, "serve", "--listen", "127.0.0.1:0"], timeout=30, stderr=subprocess.PIPE)
    chaos_argv = [exe, "chaos", "--listen", "127.0.0.1:0", "--target", upstream, "--plaintext",
                  "-o", "json", "--seed", str(args.seed)]
    for f in FAULTS:
        chaos_argv += ["--fault", f]
    proxy, address = start(chaos_argv, timeout=30, stderr=subprocess.PIPE)
    checks, failures = {}, []

    def check(name, ok, detail=None):
        checks[name] = {"ok": bool(ok)} if detail is None else {"ok": bool(ok), "detail": detail}
        if not ok:
            failures.append(name)

    # The schema from .proto files: every call through the proxy is then one of bench's.
    bench_base = [exe, "bench", address, METHOD, "--plaintext", "-o", "json", "--timeout", "10s",
                  "--proto", "grpc/testing/test.proto", "-I", args.grpc_proto_dir,
                  "-d", '{"responseSize": 64, "payload": {"body": "AAAA"}}']
    try:
        # Warm up (channels, thread pools), then take the fd baseline of the idle processes.
        warm = subprocess.run(bench_base + ["-n", "200", "-c", "4"], capture_output=True, text=True, timeout=60)
        if warm.returncode != 0:
            raise SystemExit("warm-up bench failed (exit %d): %s" % (warm.returncode, warm.stderr.strip()))
        warm_result = json.loads(warm.stdout)
        warm_count, warm_status = warm_result["count"], warm_result.get("status", {})
        time.sleep(0.5)
        baseline = {"server": fd_count(server.pid), "proxy": fd_count(proxy.pid)}

        say("soak: %s of bench -c %d through chaos (%s) to serve" % (
            "%gs" % args.duration, args.concurrency, ", ".join(FAULTS)))
        bench = subprocess.Popen(bench_base + ["-z", "%gs" % args.duration, "-c", str(args.concurrency)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sampler = Sampler({"server": server, "proxy": proxy, "bench": bench})
        sampler.start()
        try:
            bench_out, bench_err = bench.communicate(timeout=args.duration + 120)
        except subprocess.TimeoutExpired:
            bench.kill()
            bench_out, bench_err = bench.communicate()
            check("bench ends within its duration", False, "killed after %gs" % (args.duration + 120))
        sampler.stop_event.set()
        sampler.join(5)
        check("bench exit 0", bench.returncode == 0, bench_err.strip()[-500:] or None)
        result = json.loads(bench_out) if bench.returncode == 0 else {"count": 0, "status": {}}

        fds_after = {name: wait_fds(p.pid, baseline[name]) for name, p in (("server", server), ("proxy", proxy))}
        check("no fd leak", all(fds_after[n] <= baseline[n] for n in baseline),
              {"baseline": baseline, "after": fds_after})
        asan = sanitized(server.pid)
    finally:
        proxy_rc, proxy_out, proxy_err = stop(proxy)
        server_rc, _, server_err = stop(server)
    check("chaos stops cleanly", proxy_rc == 0, proxy_err.decode(errors="replace").strip()[-500:] or None)
    check("serve stops cleanly", server_rc == 0, server_err.decode(errors="replace").strip()[-500:] or None)
    counters = json.loads(proxy_out.decode().strip().splitlines()[-1]) if proxy_rc == 0 else {}

    # Accounting: every call bench made went through the proxy and ended in exactly one status.
    calls = counters.get("calls", -1)
    client_total = sum(counters.get("client_status", {}).values())
    upstream_total = sum(counters.get("upstream_status", {}).values())
    bench_total = warm_count + result.get("count", 0)
    injected = {f["spec"]: f["injected"] for f in counters.get("faults", [])}
    aborted = sum(n for spec, n in injected.items() if spec.startswith("abort"))
    check("calls in = calls accounted for (bench count = chaos calls)", bench_total == calls,
          {"bench": bench_total, "chaos": calls})
    check("chaos client_status adds up to its calls", client_total == calls,
          {"client_status": counters.get("client_status"), "calls": calls})
    check("every call not aborted reached the upstream", upstream_total == calls - aborted,
          {"upstream_status": counters.get("upstream_status"), "aborted": aborted})
    bench_status = dict(warm_status)
    for code, n in result.get("status", {}).items():
        bench_status[code] = bench_status.get(code, 0) + n
    check("bench's status table = the proxy's client_status", bench_status == counters.get("client_status"),
          {"bench": bench_status, "chaos": counters.get("client_status")})
    check("every fault was injected", all(n > 0 for n in injected.values()), injected)

    rss = {}
    for name, samples in sampler.samples.items():
        ok, detail = flat(samples)
        detail["samples"] = len(samples)
        if samples:
            detail["rss_kb_start"], detail["rss_kb_end"] = samples[0][1], samples[-1][1]
            detail["fds_max"] = max(s[2] for s in samples)
        rss[name] = detail
        if ok is None:
            continue
        if asan:
            detail["flat"] = "not checked (a sanitizer's quarantine or shadow memory grows RSS by design)"
        else:
            detail["flat"] = ok
            check("%s RSS flat" % name, ok, detail)

    summary = {
        "duration_s": args.duration,
        "concurrency": args.concurrency,
        "faults": FAULTS,
        "calls": bench_total,
        "rps": result.get("rps"),
        "bench_status": bench_status,
        "chaos": counters,
        "rss": rss,
        "sanitized": asan,
        "checks": checks,
        "passed": not failures,
    }
    print(json.dumps(summary, indent=None if args.json else 2))
    if failures:
        print("soak: FAILED: " + "; ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
