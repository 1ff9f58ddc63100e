#!/usr/bin/python3
# Start-up benchmark (docs/performance.md): wall time and peak memory of `grpcdx list` and a
# unary `grpcdx call` against the built-in server, compared with bench/baseline_client.cpp
# making the same RPCs with the same libraries. Run with /usr/bin/python3.
"""Compares grpcdx's start-up cost with a minimal C++ client.

Starts `grpcdx serve --listen 127.0.0.1:0`, then runs, interleaved, each of: baseline list,
baseline list with normal exit, grpcdx list, and the same for call (plus any --extra grpcdx
binaries), after a warm-up. The baseline that ratios are taken against ends with _exit once
its answer is printed (--fast-exit), as grpcdx does; the "baseline (normal exit)" row is the
same program returning from main, which tears gRPC down first, for comparison. The baseline's
call makes the RPCs grpcdx makes (a reflection request for the service's file, then UnaryCall);
the "compiled stub, no reflection" row makes UnaryCall alone, for comparison.
Wall time is measured with time.perf_counter around spawn-and-wait, peak memory is ru_maxrss
from os.wait4. Every run must exit 0 and print the same answer as the baseline.
Prints a markdown table (or one JSON object with --json). Exit 0 when done, 7 with --check
when a ratio is above --max-ratio, 1 when a run fails, 2 for bad arguments.
"""
import argparse
import json
import math
import os
import platform
import re
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CALL_JSON = '{"responseSize": 8}'
CALL_METHOD = "grpc.testing.TestService/UnaryCall"
SERVER_START_TIMEOUT_S = 15
LOOPBACK_RE = re.compile(r"^(127\.\d+\.\d+\.\d+|\[::1\]|localhost):\d+$|^unix:.+$")


class BenchError(Exception):
    """A run that failed or answered differently: the benchmark result would be meaningless."""


class Watchdog:
    """Kills the child being measured when it overruns its time limit. One thread for the whole
    benchmark, so no thread is started inside the timed window."""

    def __init__(self):
        self._lock = threading.Lock()
        self._pid = None
        self._deadline = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def watch(self, pid, timeout_s):
        with self._lock:
            self._pid, self._deadline = pid, time.monotonic() + timeout_s

    def clear(self):
        with self._lock:
            self._pid = None

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=1)

    def _loop(self):
        while not self._stop.wait(0.1):
            with self._lock:
                if self._pid is not None and time.monotonic() > self._deadline:
                    try:
                        os.kill(self._pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    self._pid = None


class Runner:
    """Spawns one program at a time with stdout/stderr in temporary files; measures it."""

    def __init__(self, timeout_s):
        self._timeout_s = timeout_s
        self._dir = tempfile.TemporaryDirectory(prefix="grpcdx-bench-")
        self._out = os.open(os.path.join(self._dir.name, "out"), os.O_RDWR | os.O_CREAT, 0o600)
        self._err = os.open(os.path.join(self._dir.name, "err"), os.O_RDWR | os.O_CREAT, 0o600)
        self._watchdog = Watchdog()

    def close(self):
        self._watchdog.stop()
        os.close(self._out)
        os.close(self._err)
        self._dir.cleanup()

    def run(self, argv):
        """Returns (wall seconds, max RSS in KiB, minor page faults, exit code, stdout, stderr)
        of one run."""
        for fd in (self._out, self._err):
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
        actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                   (os.POSIX_SPAWN_DUP2, self._out, 1),
                   (os.POSIX_SPAWN_DUP2, self._err, 2)]
        start = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
        self._watchdog.watch(pid, self._timeout_s)
        _, status, usage = os.wait4(pid, 0)
        wall = time.perf_counter() - start
        self._watchdog.clear()
        code = os.waitstatus_to_exitcode(status)
        return (wall, usage.ru_maxrss, usage.ru_minflt, code, self._read(self._out),
                self._read(self._err))

    @staticmethod
    def _read(fd):
        os.lseek(fd, 0, os.SEEK_SET)
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                return b"".join(chunks).decode(errors="replace")
            chunks.append(chunk)


def start_server(grpcdx):
    """Starts `grpcdx serve` on a free loopback port; returns (process, address)."""
    proc = subprocess.Popen([grpcdx, "serve", "--listen", "127.0.0.1:0"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ready, _, _ = select.select([proc.stdout], [], [], SERVER_START_TIMEOUT_S)
    line = proc.stdout.readline().decode().strip() if ready else ""
    if not line:
        stop_server(proc)
        err = proc.stderr.read().decode(errors="replace").strip()
        raise BenchError("grpcdx serve printed no address within %ss%s" % (
            SERVER_START_TIMEOUT_S, ": " + err if err else ""))
    return proc, line


def stop_server(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def machine_info():
    """CPU model, core count, kernel and load average, for the report."""
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": model, "nproc": os.cpu_count(), "kernel": platform.release(),
            "loadavg": read_loadavg()}


def read_loadavg():
    try:
        with open("/proc/loadavg") as f:
            return [float(x) for x in f.read().split()[:3]]
    except OSError:
        return []


def shared_libraries(path):
    """How many shared libraries the dynamic loader maps for `path` (ldd), or None."""
    try:
        out = subprocess.run(["ldd", path], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    return sum(1 for line in out.splitlines() if "=>" in line or line.strip().startswith("/"))


def percentile(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def canonical(case, text):
    """The part of an answer two programs must agree on: the list text, or the parsed JSON."""
    if case == "call":
        try:
            return json.dumps(json.loads(text), sort_keys=True)
        except ValueError:
            return "<not JSON> " + text
    return text


NORMAL_EXIT = "baseline (normal exit)"
NO_REFLECTION = "baseline (compiled stub, no reflection)"


def build_plan(args, address):
    """(case, program label, argv) for each program of one round, in the order they run."""
    programs = [("baseline", args.baseline, ["--fast-exit"]),
                (NORMAL_EXIT, args.baseline, []),
                (NO_REFLECTION, args.baseline, ["--fast-exit"]),
                ("grpcdx", args.grpcdx, None)]
    programs += [(label, path, None) for label, path in args.extra]
    plan = []
    for case in ("list", "call"):
        for label, path, baseline_flags in programs:
            if label == NO_REFLECTION and case != "call":
                continue
            if baseline_flags is not None:
                mode = "call-stub" if label == NO_REFLECTION else case
                argv = [path] + baseline_flags + [mode, address] + ([CALL_JSON] if case == "call" else [])
            elif case == "list":
                argv = [path, "list", address, "--plaintext"]
            else:
                argv = [path, "call", address, CALL_METHOD, "--plaintext", "-d", CALL_JSON]
            plan.append((case, label, argv))
    return plan


def measure(args, runner, plan):
    """Runs the warm-up and the measured rounds; returns {(case, label): [(wall, rss, faults)]}."""
    samples = {(case, label): [] for case, label, _ in plan}
    expected = {}
    for round_index in range(args.warmup + args.runs):
        for case, label, argv in plan:
            wall, rss, faults, code, out, err = runner.run(argv)
            if code != 0:
                raise BenchError("%s exited %d: %s" % (" ".join(argv), code, err.strip()[:500]))
            answer = canonical(case, out)
            if case not in expected:
                expected[case] = (label, answer)
            elif expected[case][1] != answer:
                raise BenchError("%s answered differently from %s:\n%s\nvs\n%s" % (
                    " ".join(argv), expected[case][0], out.strip(), expected[case][1]))
            if round_index >= args.warmup:
                samples[(case, label)].append((wall, rss, faults))
    return samples


def summarize(plan, samples):
    """One row per (case, program) with medians, p90 and ratios against the baseline."""
    rows = []
    base = {}
    for case, label, argv in plan:
        walls = [s[0] for s in samples[(case, label)]]
        rsses = [s[1] for s in samples[(case, label)]]
        faults = [s[2] for s in samples[(case, label)]]
        row = {"case": case, "program": label, "argv": argv, "runs": len(walls),
               "wall_ms": {"median": statistics.median(walls) * 1e3,
                           "p90": percentile(walls, 90) * 1e3,
                           "min": min(walls) * 1e3, "max": max(walls) * 1e3},
               "max_rss_kib": {"median": statistics.median(rsses), "max": max(rsses)},
               "minor_faults": {"median": statistics.median(faults)}}
        if label == "baseline":
            base[case] = row
        else:
            b = base[case]
            row["ratio"] = {
                "wall_median": row["wall_ms"]["median"] / b["wall_ms"]["median"],
                "wall_p90": row["wall_ms"]["p90"] / b["wall_ms"]["p90"],
                "max_rss_median": row["max_rss_kib"]["median"] / b["max_rss_kib"]["median"]}
        rows.append(row)
    return rows


def markdown(report):
    m = report["machine"]
    lines = [
        "Machine: %s, %d CPUs, Linux %s; load average %s before, %s after." % (
            m["cpu"] or "unknown CPU", m["nproc"], m["kernel"],
            "/".join("%.2f" % x for x in m["loadavg"]),
            "/".join("%.2f" % x for x in report["loadavg_after"])),
        "Server: %s. %d measured runs of each (after %d warm-up rounds), interleaved; "
        "%.1f s in total." % (report["server"], report["runs"], report["warmup"], report["elapsed_s"]),
        "",
        "| case | program | wall median | wall p90 | max RSS median | page faults "
        "| wall ratio (median) | wall ratio (p90) | RSS ratio | within %.2fx |" % report["max_ratio"],
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in report["results"]:
        ratio = r.get("ratio")
        cells = ["%.2fx" % ratio[k] for k in ("wall_median", "wall_p90", "max_rss_median")] \
            if ratio else ["1.00x (baseline)", "", ""]
        verdict = "" if not ratio else ("yes" if r["within_limit"] else "**no**")
        lines.append("| %s | %s | %.2f ms | %.2f ms | %.1f MiB | %d | %s | %s |" % (
            r["case"], r["program"], r["wall_ms"]["median"], r["wall_ms"]["p90"],
            r["max_rss_kib"]["median"] / 1024, r["minor_faults"]["median"], " | ".join(cells),
            verdict))
    lines.append("")
    lines.append("Shared libraries loaded: " + ", ".join(
        "%s %s" % (label, "?" if n is None else n) for label, n in report["shared_libraries"].items()))
    return "\n".join(lines)


def parse_extra(text):
    label, sep, path = text.partition("=")
    if not sep or not label or not path:
        raise argparse.ArgumentTypeError("expected LABEL=PATH, got %r" % text)
    return label, path


def positive(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a whole number, got %r" % text)
    if value < 1 or value > 100000:
        raise argparse.ArgumentTypeError("expected 1..100000, got %d" % value)
    return value


def non_negative(text):
    return 0 if text == "0" else positive(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    build = os.path.join(REPO, "build-bench")
    parser.add_argument("--grpcdx", default=os.path.join(build, "grpcdx"),
                        help="grpcdx binary to measure; also serves (default: build-bench/grpcdx)")
    parser.add_argument("--baseline", default=os.path.join(build, "grpcdx_bench_baseline"),
                        help="baseline client (default: build-bench/grpcdx_bench_baseline)")
    parser.add_argument("--extra", action="append", default=[], type=parse_extra,
                        metavar="LABEL=PATH", help="another grpcdx binary to measure, repeatable")
    parser.add_argument("--target", metavar="ADDR",
                        help="use this running server (loopback) instead of starting grpcdx serve")
    parser.add_argument("--runs", type=positive, default=200, help="measured runs of each (200)")
    parser.add_argument("--warmup", type=non_negative, default=20, help="warm-up rounds (20)")
    parser.add_argument("--timeout", type=positive, default=30,
                        help="seconds before one run is killed and the benchmark fails (30)")
    parser.add_argument("--max-ratio", type=float, default=1.15,
                        help="the limit on grpcdx/baseline ratios (1.15)")
    parser.add_argument("--check", action="store_true",
                        help="exit 7 when a median wall time or RSS ratio is above --max-ratio")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    for label, path in [("grpcdx", args.grpcdx), ("baseline", args.baseline)] + args.extra:
        if not os.access(path, os.X_OK):
            print("error: %s binary not found or not executable: %s (build it first: cmake --build "
                  "build-bench)" % (label, path), file=sys.stderr)
            return 2

    if args.target and not LOOPBACK_RE.match(args.target):
        print("error: --target must be a loopback address (127.x.x.x:PORT, [::1]:PORT, "
              "localhost:PORT or unix:PATH), got %r" % args.target, file=sys.stderr)
        return 2

    report = {"machine": machine_info(), "server": args.target or "grpcdx serve",
              "runs": args.runs, "warmup": args.warmup, "max_ratio": args.max_ratio}
    started = time.monotonic()
    runner = Runner(args.timeout)
    server = None
    try:
        if args.target:
            address = args.target
        else:
            server, address = start_server(args.grpcdx)
        plan = build_plan(args, address)
        samples = measure(args, runner, plan)
    except BenchError as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    finally:
        if server is not None:
            stop_server(server)
        runner.close()
    report["elapsed_s"] = time.monotonic() - started
    report["loadavg_after"] = read_loadavg()
    report["shared_libraries"] = {label: shared_libraries(path) for label, path in
                                  [("baseline", args.baseline), ("grpcdx", args.grpcdx)] + args.extra}
    rows = summarize(plan, samples)
    ok = True
    for r in rows:
        if "ratio" in r:
            r["within_limit"] = (r["ratio"]["wall_median"] <= args.max_ratio and
                                 r["ratio"]["max_rss_median"] <= args.max_ratio)
            if r["program"] == "grpcdx":
                ok = ok and r["within_limit"]
    report["results"] = rows
    report["within_limit"] = ok
    print(json.dumps(report, indent=2) if args.json else markdown(report))
    return 7 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
