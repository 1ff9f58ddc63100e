#!/usr/bin/python3
# Instructions and heap allocations per call, counted by valgrind's callgrind, so they repeat
# whatever else the machine is doing (issues 24 and 25; docs/performance.md).
#
#   callgrind_per_call.py proxy   the L7 proxy (`grpcdx chaos`, no faults) in front of the minimal
#                                 server, driven by the minimal client: the proxy's counts from
#                                 zeroed counters to a dump around N calls, after a warm-up
#   callgrind_per_call.py client  `grpcdx bench` and the minimal client against the minimal server:
#                                 each client run twice under callgrind (N and 2N calls), and the
#                                 difference divided by N, so start-up and shut-down cancel out
#
# Allocations are the calls to malloc, calloc, realloc and operator new that the dump records.
# Run with /usr/bin/python3; valgrind must be installed.
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

from bench_common import start, stop

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BUILD = os.path.join(REPO, "build")
ALLOC_NAMES = re.compile(r"^(malloc|calloc|realloc|operator new\(unsigned long\)|operator new\[\]\(unsigned long\))$")


def parse_dump(path):
    """(instructions, allocations) of one callgrind output file."""
    total = None
    allocs = 0
    names = {}
    current_cfn = None
    with open(path) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                total = int(line.split()[1])
            elif line.startswith("cfn="):
                m = re.match(r"cfn=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
                if m:
                    if m.group(2) is not None:
                        names[m.group(1)] = m.group(2)
                    current_cfn = names.get(m.group(1), "")
                else:
                    current_cfn = line[4:].strip()
            elif line.startswith("calls="):
                if current_cfn and ALLOC_NAMES.match(current_cfn):
                    allocs += int(line[6:].split()[0])
            elif line.startswith("fn="):
                m = re.match(r"fn=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
                if m and m.group(2) is not None:
                    names[m.group(1)] = m.group(2)
    if total is None:
        raise RuntimeError("no totals in " + path)
    return total, allocs


def run_client(argv):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv[:3]), proc.returncode, proc.stderr.decode(errors="replace")))
    return proc.stdout.decode()


def client_argv(args, which, address, calls, concurrency):
    if which == "grpcdx":
        return [args.grpcdx, "bench", address, "grpc.testing.TestService/UnaryCall", "--plaintext", "-n", str(calls),
                "-c", str(concurrency), "-o", "json", "-I", args.proto_dir, "--proto", "grpc/testing/test.proto"]
    return [args.baseline, address, str(calls), str(concurrency)]


def measure_proxy(args, tmp):
    server, upstream = start([args.server])
    proxy = None
    try:
        out = os.path.join(tmp, "proxy.cg")
        proxy, address = start(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out + ".%p",
                                args.grpcdx, "chaos", "--listen", "127.0.0.1:0", "--target", upstream, "--plaintext"],
                               timeout=120, stderr=subprocess.DEVNULL)
        results = {}
        for concurrency in args.concurrency:
            run_client(client_argv(args, "baseline", address, args.warmup, concurrency))
            subprocess.run(["callgrind_control", "-z", str(proxy.pid)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            run_client(client_argv(args, "baseline", address, args.calls, concurrency))
            before = set(os.listdir(tmp))
            subprocess.run(["callgrind_control", "-d", str(proxy.pid)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 60
            dumps = []
            while time.monotonic() < deadline and not dumps:
                dumps = sorted(set(os.listdir(tmp)) - before)
                time.sleep(0.2)
            if not dumps:
                raise RuntimeError("callgrind wrote no dump")
            time.sleep(0.5)  # the dump is written by then; give the file a moment to be complete
            # One dump per thread with --separate-threads; one file otherwise.
            ir = allocs = 0
            for name in dumps:
                i, a = parse_dump(os.path.join(tmp, name))
                ir += i
                allocs += a
            if args.keep:
                for name in dumps:
                    os.replace(os.path.join(tmp, name), os.path.join(args.keep, "proxy-c%d-%s" % (concurrency, name)))
            else:
                for name in dumps:
                    os.remove(os.path.join(tmp, name))
            results["c%d" % concurrency] = {"instructions_per_call": round(ir / args.calls),
                                            "allocations_per_call": round(allocs / args.calls, 2)}
        return results
    finally:
        if proxy:
            stop(proxy, timeout=60)
        stop(server)


def measure_clients(args, tmp):
    server, address = start([args.server])
    results = {}
    try:
        for concurrency in args.concurrency:
            for which in ("baseline", "grpcdx"):
                counts = []
                for calls in (args.calls, 2 * args.calls):
                    out = os.path.join(tmp, "%s-%d.cg" % (which, calls))
                    run_client(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out]
                               + client_argv(args, which, address, calls, concurrency))
                    counts.append(parse_dump(out))
                    if args.keep:
                        os.replace(out, os.path.join(args.keep, "c%d-%s" % (concurrency, os.path.basename(out))))
                results.setdefault("c%d" % concurrency, {})[which] = {
                    "instructions_per_call": round((counts[1][0] - counts[0][0]) / args.calls),
                    "allocations_per_call": round((counts[1][1] - counts[0][1]) / args.calls, 2)}
    finally:
        stop(server)
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=("proxy", "client"))
    ap.add_argument("--grpcdx", default=os.path.join(BUILD, "grpcdx"))
    ap.add_argument("--baseline", default=os.path.join(BUILD, "grpcdx_load_baseline"))
    ap.add_argument("--server", default=os.path.join(BUILD, "grpcdx_bench_minimal_server"))
    ap.add_argument("--proto-dir", default=os.environ.get("GRPC_PROTO_DIR", "/usr/share/grpc-proto"),
                    help="where grpc/testing/test.proto is, for grpcdx bench (the minimal server has no reflection)")
    ap.add_argument("--calls", type=int, default=2000, help="calls counted (default 2000)")
    ap.add_argument("--warmup", type=int, default=200, help="proxy: calls before counting (default 200)")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[50, 1], help="default: 50 1")
    ap.add_argument("--keep", metavar="DIR", help="keep the callgrind dumps there (for callgrind_annotate)")
    args = ap.parse_args()
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="grpcdx-cg-") as tmp:
        results = measure_proxy(args, tmp) if args.what == "proxy" else measure_clients(args, tmp)
    print(json.dumps({"what": args.what, "calls": args.calls, "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
