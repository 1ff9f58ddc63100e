# What the benchmark harnesses in bench/ share: the busy-machine check, starting a grpcdx
# process that prints its address first, stopping it, and reading a process's memory, CPU time
# and context switches.
import os
import select
import signal
import subprocess
import sys
import time

BUSY_LOAD = 0.5


def loadavg():
    """The 1-minute load average."""
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def refuse_when_busy(force):
    """Prints an error and returns 3 when the machine is too busy to measure (unless `force`);
    returns None when measuring may go on."""
    load = loadavg()
    if load >= BUSY_LOAD and not force:
        print("error: the machine is busy (1-minute load %.2f >= %.1f); numbers would be noise. "
              "Wait, or pass --force for a smoke run." % (load, BUSY_LOAD), file=sys.stderr)
        return 3
    return None


def start(argv, timeout=20, stderr=subprocess.DEVNULL):
    """Starts a program that prints its address as its first stdout line; returns (proc, addr)."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr)
    deadline = time.monotonic() + timeout
    data = b""
    while b"\n" not in data and time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                break
            data += chunk
    if b"\n" not in data:
        proc.kill()
        raise SystemExit("error: %s did not print its address within %ss" % (" ".join(argv[:2]), timeout))
    return proc, data.split(b"\n", 1)[0].decode().strip()


def add_upstream_args(ap, build_dir):
    """--server and --upstream, the flags start_upstream() takes its arguments from."""
    ap.add_argument("--server", default=os.path.join(build_dir, "grpcdx_bench_minimal_server"),
                    help="the minimal server")
    ap.add_argument("--upstream", choices=("minimal", "serve"), default="minimal",
                    help="the minimal callback server (default) or grpcdx serve")


def start_upstream(kind, grpcdx, minimal_server):
    """The server a harness measures against, (process, address): the minimal C++ server
    (`kind` "minimal") or `grpcdx serve`."""
    if kind == "minimal":
        return start([minimal_server])
    return start([grpcdx, "serve", "--listen", "127.0.0.1:0"])


def stop(proc, timeout=15):
    """SIGTERM, then SIGKILL if it has not ended within `timeout` seconds."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def rss_kib(pid):
    """The resident set size of `pid` in KiB (0 when it has none)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


TICK = os.sysconf("SC_CLK_TCK")


def proc_usage(pid):
    """(CPU seconds, voluntary, involuntary context switches) of a running process: CPU from
    /proc/PID/stat (all its threads, ended ones too), switches summed over its current threads."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICK
    vol = invol = 0
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, task)) as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        vol += int(line.split()[1])
                    elif line.startswith("nonvoluntary_ctxt_switches:"):
                        invol += int(line.split()[1])
        except FileNotFoundError:
            pass  # the thread ended meanwhile
    return cpu, vol, invol


def run_measured(argv):
    """Runs argv to its end; returns (stdout text, its rusage from wait4: the user and system
    time and context switches of all its threads). Raises RuntimeError on a non-zero exit."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # The clients print one line and little on stderr: reading one pipe after the other cannot
    # fill the second. wait4 (not communicate) so the rusage is this child's own.
    out, err = proc.stdout.read(), proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), proc.returncode, err.decode(errors="replace")))
    return out.decode(), usage
