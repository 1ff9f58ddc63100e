#!/usr/bin/python3
# The `compat` benchmark: how long the comparison itself takes on a big schema (50 services with 5
# methods each, 500 messages of 12 fields that reference each other, 20 enums), once the server's
# schema is in hand. The server's version has a change in every tenth message, so the findings are
# many. The time is what `grpcdx compat -v` prints ("compare: X ms"), over --server-protoset and
# over reflection (tests/e2e/descriptor_server.py, a python3-grpcio server), with the wall time of
# the whole command beside it. Target: under 200 ms (docs/performance.md).
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import bench_common  # noqa: E402

SCALARS = ["int32", "int64", "uint32", "string", "bytes", "bool", "double", "fixed64", "sint32", "float"]
TARGET_MS = 200.0


def schema(services, messages, enums, changed):
    """The .proto text of the benchmark schema; `changed` gives the server's version."""
    out = ['syntax = "proto3";', "package bench.compat;", ""]
    for e in range(enums):
        values = " ".join("E%d_V%d = %d;" % (e, v, v) for v in range(10 if not (changed and e % 5 == 0) else 9))
        out.append("enum Enum%d { %s }" % (e, values))
    for m in range(messages):
        fields = []
        for f in range(1, 13):
            if f == 1:
                fields.append("repeated Msg%d children = 1;" % ((m * 7 + 3) % messages))
            elif f == 2:
                fields.append("Msg%d next = 2;" % ((m + 1) % messages))
            elif f == 3:
                fields.append("Enum%d kind = 3;" % (m % enums))
            else:
                t = SCALARS[(m + f) % len(SCALARS)]
                if changed and m % 10 == 0 and f == 4:
                    t = "string" if t != "string" else "int32"
                fields.append("%s f%d = %d;" % (t, f, f))
        if changed and m % 10 == 5:
            fields.pop()  # a deleted field
        out.append("message Msg%d { %s }" % (m, " ".join(fields)))
    for s in range(services):
        rpcs = []
        for k in range(5):
            req, resp = (s * 10 + 2 * k) % messages, (s * 10 + 2 * k + 1) % messages
            stream = "stream " if k == 4 else ""
            rpcs.append("rpc M%d(%sMsg%d) returns (%sMsg%d);" % (k, stream, req, stream, resp))
        out.append("service Service%d { %s }" % (s, " ".join(rpcs)))
    return "\n".join(out) + "\n"


def protoset(directory, name, text):
    path = os.path.join(directory, name + ".proto")
    with open(path, "w") as f:
        f.write(text)
    out = os.path.join(directory, name + ".protoset")
    subprocess.run(["protoc", "-I", directory, "--include_imports", "--descriptor_set_out=" + out, name + ".proto"],
                   check=True, timeout=120)
    return out


def run_once(grpcdx, args):
    start = time.monotonic()
    proc = subprocess.run([grpcdx, "compat", "-v", "-o", "json"] + args, capture_output=True, text=True, timeout=120)
    wall = (time.monotonic() - start) * 1000
    if proc.returncode not in (0, 8):
        raise SystemExit("error: grpcdx compat exited %d: %s" % (proc.returncode, proc.stderr.strip()))
    m = re.search(r"^compare: ([0-9.]+)ms", proc.stderr, re.M)
    if not m:
        raise SystemExit("error: no 'compare:' line in -v output: %s" % proc.stderr)
    report = json.loads(proc.stdout)
    return float(m.group(1)), wall, report


def summary(values):
    values = sorted(values)
    return {"median": round(statistics.median(values), 2), "p90": round(values[int(0.9 * (len(values) - 1))], 2),
            "max": round(values[-1], 2)}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--grpcdx", default=os.path.join(REPO, "build", "grpcdx"))
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--services", type=int, default=50)
    ap.add_argument("--messages", type=int, default=500)
    ap.add_argument("--enums", type=int, default=20)
    ap.add_argument("--json", action="store_true", help="print the results as one JSON object")
    ap.add_argument("--check", action="store_true", help="exit 7 when a median is over %d ms" % TARGET_MS)
    ap.add_argument("--force", action="store_true", help="measure even on a busy machine")
    opt = ap.parse_args()
    busy = bench_common.refuse_when_busy(opt.force)
    if busy:
        return busy
    with tempfile.TemporaryDirectory(prefix="grpcdx-compat-bench-") as tmp:
        client = protoset(tmp, "client", schema(opt.services, opt.messages, opt.enums, False))
        server = protoset(tmp, "server", schema(opt.services, opt.messages, opt.enums, True))
        results = {}
        report = None
        compare, wall = [], []
        for _ in range(opt.runs):
            c, w, report = run_once(opt.grpcdx, ["--server-protoset", server, "--protoset", client])
            compare.append(c)
            wall.append(w)
        results["server_protoset"] = {"compare_ms": summary(compare), "wall_ms": summary(wall)}
        proc, address = bench_common.start([sys.executable, os.path.join(REPO, "tests", "e2e", "descriptor_server.py"),
                                            server])
        try:
            compare, wall = [], []
            for _ in range(opt.runs):
                c, w, _ = run_once(opt.grpcdx, [address, "--plaintext", "--protoset", client])
                compare.append(c)
                wall.append(w)
        finally:
            bench_common.stop(proc)
        results["reflection"] = {"compare_ms": summary(compare), "wall_ms": summary(wall)}
    results["checked"] = report["checked"]
    results["findings"] = len(report["findings"])
    over = [k for k in ("server_protoset", "reflection") if results[k]["compare_ms"]["median"] > TARGET_MS]
    if opt.json:
        print(json.dumps(results))
    else:
        c = results["checked"]
        print("compat on %d services, %d methods, %d messages, %d enums (%d findings), %d runs each"
              % (c["services"], c["methods"], c["messages"], c["enums"], results["findings"], opt.runs))
        print("| server schema from | compare median | p90 | max | whole command median |")
        print("|---|---|---|---|---|")
        for k in ("server_protoset", "reflection"):
            r = results[k]
            print("| %s | %.2f ms | %.2f ms | %.2f ms | %.1f ms |" % (
                "--server-protoset" if k == "server_protoset" else "reflection (grpcio)", r["compare_ms"]["median"],
                r["compare_ms"]["p90"], r["compare_ms"]["max"], r["wall_ms"]["median"]))
    if opt.check and over:
        print("error: the comparison took over %d ms (median) with %s" % (TARGET_MS, ", ".join(over)), file=sys.stderr)
        return 7
    return 0


if __name__ == "__main__":
    sys.exit(main())
