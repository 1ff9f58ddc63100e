# End-to-end tests of terminal manners, with real pseudo-terminals: colour on a terminal and not
# in a pipe, NO_COLOR and --color, progress on stderr only on a terminal, widths that follow
# the terminal, and Ctrl-C (SIGINT) stopping long-running commands cleanly with their summary.
import fcntl
import json
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time

import grpcdx_test as t

ESC = "\x1b["
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class Pty:
    """A pseudo-terminal of `cols` columns; `slave` is given to the child, `read()` collects
    what the child wrote to it."""

    def __init__(self, cols=100, rows=40):
        self.master, self.slave = os.openpty()
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.data = b""

    def pump(self, timeout):
        """Reads what is available within `timeout` seconds."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: the child closed its end
                return False
            self.data += chunk
            return bool(chunk)
        return False

    def text(self):
        return self.data.decode(errors="replace").replace("\r\n", "\n")

    def close(self):
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


def run_tty(args, tty_out=True, tty_err=False, env=None, cols=100, timeout=30, until=None, then=None):
    """Runs grpcdx with stdout and/or stderr on a pty (the other a pipe). `until(pty_text)`:
    when it becomes true, `then(proc)` is called once (e.g. to send SIGINT). Returns (rc, stdout,
    stderr) as text, with the pty's \\r\\n turned back into \\n."""
    pty = Pty(cols=cols)
    full_env = dict(os.environ)
    full_env.pop("NO_COLOR", None)
    full_env.pop("COLUMNS", None)
    full_env["TERM"] = "xterm"
    if env:
        full_env.update(env)
    proc = subprocess.Popen([t.binary()] + [str(a) for a in args], stdin=subprocess.DEVNULL,
                            stdout=pty.slave if tty_out else subprocess.PIPE,
                            stderr=pty.slave if tty_err else subprocess.PIPE, env=full_env)
    os.close(pty.slave)
    pipe = proc.stderr if tty_out else proc.stdout
    piped = b""
    deadline = time.monotonic() + timeout
    fired = False
    try:
        while True:
            if time.monotonic() > deadline:
                proc.kill()
                raise AssertionError("grpcdx %s: no exit after %ss; terminal so far: %r" % (
                    " ".join(map(str, args)), timeout, pty.text()))
            fds = [pty.master] + ([pipe.fileno()] if pipe else [])
            ready, _, _ = select.select(fds, [], [], 0.1)
            if pty.master in ready:
                try:
                    chunk = os.read(pty.master, 65536)
                except OSError:
                    chunk = b""
                pty.data += chunk
            if pipe and pipe.fileno() in ready:
                chunk = os.read(pipe.fileno(), 65536)
                if chunk:
                    piped += chunk
            if until and not fired and until(pty.text()):
                fired = True
                then(proc)
            if proc.poll() is not None:
                # Drain what is left on both sides.
                while pty.pump(0.2):
                    pass
                if pipe:
                    rest = pipe.read()
                    if rest:
                        piped += rest
                break
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
        pty.close()
    piped_text = piped.decode(errors="replace")
    if tty_out and tty_err:
        return proc.returncode, pty.text(), ""
    if tty_out:
        return proc.returncode, pty.text(), piped_text
    return proc.returncode, piped_text, pty.text()


class Colour(t.ServedTestCase):
    def probe(self, *extra, **kw):
        return ["probe", self.address, "--plaintext"] + list(extra)

    def test_colour_on_a_terminal(self):
        rc, out, err = run_tty(self.probe())
        self.assertEqual(rc, 0, out + err)
        self.assertIn(ESC, out)
        self.assertIn("every layer answered", ANSI.sub("", out))

    def test_no_colour_in_a_pipe(self):
        rc, out, err = t.run(self.probe())
        self.assertEqual(rc, 0, err)
        self.assertNotIn("\x1b", out)
        self.assertEqual(err, "")

    def test_no_color_environment(self):
        rc, out, _ = run_tty(self.probe(), env={"NO_COLOR": "1"})
        self.assertEqual(rc, 0)
        self.assertNotIn("\x1b", out)
        # An empty NO_COLOR does not count (no-color.org).
        rc, out, _ = run_tty(self.probe(), env={"NO_COLOR": ""})
        self.assertIn(ESC, out)

    def test_dumb_terminal(self):
        rc, out, _ = run_tty(self.probe(), env={"TERM": "dumb"})
        self.assertEqual(rc, 0)
        self.assertNotIn("\x1b", out)

    def test_color_always_wins_in_a_pipe_and_over_no_color(self):
        for args in (self.probe("--color=always"), ["--color", "always"] + self.probe()):
            with self.subTest(args=args):
                rc, out, err = t.run(args, env={"NO_COLOR": "1"})
                self.assertEqual(rc, 0, err)
                self.assertIn(ESC, out)

    def test_color_never_on_a_terminal(self):
        for args in (self.probe("--color", "never"), ["--color=never"] + self.probe()):
            with self.subTest(args=args):
                rc, out, _ = run_tty(args)
                self.assertEqual(rc, 0)
                self.assertNotIn("\x1b", out)

    def test_bad_color_value(self):
        for args in (["--color", "sometimes", "version"], ["version", "--color=yes"], ["version", "--color"]):
            with self.subTest(args=args):
                self.assert_fails(t.run(args), 2, "--color")

    def test_bench_report_and_interop_colour_follow_the_same_rule(self):
        bench = ["bench", self.address, "--plaintext", "grpc.testing.TestService/EmptyCall", "-n", "20", "-c", "2"]
        rc, out, _ = run_tty(bench)
        self.assertEqual(rc, 0)
        self.assertIn(ESC + "1mSummary", out)
        rc, out, _ = run_tty(bench + ["--color", "never"])
        self.assertNotIn("\x1b", out)
        rc, out, err = t.run(bench)
        self.assertNotIn("\x1b", out)
        interop = ["interop", self.address, "--plaintext", "--cases", "empty_unary"]
        rc, out, _ = run_tty(interop)
        self.assertEqual(rc, 0)
        self.assertIn(ESC + "32mPASS", out)
        rc, out, _ = t.run(interop + ["--color=always"])
        self.assertIn(ESC + "32mPASS", out)
        rc, out, _ = t.run(interop)
        self.assertNotIn("\x1b", out)


class Progress(t.ServedTestCase):
    def bench(self, *extra):
        return ["bench", self.address, "--plaintext", "grpc.testing.TestService/EmptyCall", "-c", "4"] + list(extra)

    def test_bench_progress_only_on_a_terminal(self):
        rc, out, err = run_tty(self.bench("-z", "1s", "-o", "json"), tty_out=False, tty_err=True)
        self.assertEqual(rc, 0, err)
        self.assertIn("\r", err)
        self.assertIn("calls/s", err)
        self.assertIn("\u2588", err)  # the bar
        # The report on stdout (a pipe) is clean JSON, and the progress line is erased at the end.
        self.assertTrue(json.loads(out)["count"] > 0)
        self.assertTrue(err.endswith("\r" + ESC + "K"), repr(err[-40:]))
        # stderr a pipe: nothing at all on it.
        rc, out, err = t.run(self.bench("-z", "1s", "-o", "json"))
        self.assertEqual(rc, 0)
        self.assertEqual(err, "")
        self.assertTrue(json.loads(out)["count"] > 0)

    def test_progress_shows_the_last_seconds_rate_and_p99(self):
        # 300 calls/s for 2.5 s: from about 2 s on the first second is closed and the line shows
        # its rate and p99 instead of the average.
        rc, out, err = run_tty(self.bench("-z", "2500ms", "--rps", "300", "-o", "json"), tty_out=False, tty_err=True)
        self.assertEqual(rc, 0, err)
        lines = [ANSI.sub("", l) for l in err.split("\r") if "now " in l]
        self.assertTrue(lines, repr(err[-400:]))
        match = re.search(r"now (\d+) calls/s, p99 [\d.]+ (ms|s)", lines[-1])
        self.assertTrue(match, lines[-1])
        self.assertGreater(int(match.group(1)), 100)
        self.assertLessEqual(int(match.group(1)), 310)
        self.assertEqual(len(json.loads(out)["series"]), 3)

    def test_progress_bar_fits_the_terminal(self):
        for cols in (60, 120):
            with self.subTest(cols=cols):
                rc, _, err = run_tty(self.bench("-z", "1s", "-o", "json"), tty_out=False, tty_err=True, cols=cols)
                self.assertEqual(rc, 0)
                lines = [ANSI.sub("", l) for l in err.split("\r") if l.strip()]
                self.assertTrue(lines)
                for line in lines:
                    self.assertLess(len(line), cols, repr(line))

    def test_sigint_stops_bench_with_its_summary(self):
        started = time.monotonic()
        rc, out, err = run_tty(self.bench("-z", "30s", "-o", "json"), tty_out=False, tty_err=True,
                               until=lambda text: "calls/s" in text,
                               then=lambda proc: proc.send_signal(signal.SIGINT))
        self.assertEqual(rc, 0, err)
        self.assertLess(time.monotonic() - started, 20)
        report = json.loads(out)
        self.assertTrue(report["interrupted"])
        self.assertGreater(report["count"], 0)
        self.assertLess(report["duration_ms"], 25000)
        # Text report: the summary is printed and says it was interrupted.
        rc, out, err = run_tty(self.bench("-z", "30s"), tty_out=False, tty_err=True,
                               until=lambda text: "calls/s" in text,
                               then=lambda proc: proc.send_signal(signal.SIGINT))
        self.assertEqual(rc, 0)
        self.assertIn("Summary", out)
        self.assertIn("Interrupted", out)

    def test_probe_watch_progress_and_sigint(self):
        rc, out, err = run_tty(["probe", self.address, "--plaintext", "--watch", "5s"], tty_out=False,
                               tty_err=True, until=lambda text: "next in" in text,
                               then=lambda proc: proc.send_signal(signal.SIGINT))
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(out.strip().splitlines()), 1, out)  # one verdict line on stdout
        self.assertIn("ok", out)
        self.assertIn("probe: 1 probe, next in", err)
        # Without a terminal, stderr stays empty.
        rc, out, err = t.run(["probe", self.address, "--plaintext", "--watch", "100ms", "--count", "2"])
        self.assertEqual(rc, 0)
        self.assertEqual(err, "")

    def test_replay_progress_and_sigint(self):
        # Two sends 30 s apart: the replay waits for the second until Ctrl-C.
        replay = t.write_file("slow.jsonl", "\n".join([
            json.dumps({"t_ms": 0, "dir": "send", "message": {"responseParameters": [{"size": 1}]}}),
            json.dumps({"t_ms": 30000, "dir": "send", "message": {"responseParameters": [{"size": 1}]}}),
        ]) + "\n")
        args = ["replay", self.address, "--plaintext", "grpc.testing.TestService/FullDuplexCall", "--in", replay,
                "--stall-timeout", "60s", "--timeout", "60s"]
        started = time.monotonic()
        rc, out, err = run_tty(args + ["-o", "json"], tty_out=False, tty_err=True,
                               until=lambda text: "received 1" in text,
                               then=lambda proc: proc.send_signal(signal.SIGINT))
        self.assertEqual(rc, 0, err)
        self.assertLess(time.monotonic() - started, 20)
        self.assertIn("replay: sent 1 of 2, received 1", err)
        self.assertIn("interrupted: the call was cancelled after sending 1 of 2 messages and receiving 1", err)
        self.assertEqual(len(t.events(out, "message")), 1)
        self.assertEqual(t.events(out, "status")[0]["code_name"], "CANCELLED")


def code_lines(page):
    """The lines inside fenced code blocks of docs/PAGE.md, stripped: the only text `grpcdx help`
    prints verbatim (never wrapped)."""
    lines, inside = set(), False
    with open(os.path.join(t.REPO, "docs", page + ".md"), encoding="utf-8") as f:
        for line in f:
            if line.strip().startswith("```"):
                inside = not inside
            elif inside:
                lines.add(line.strip())
    return lines


class Chaos(t.ServedTestCase):
    def test_chaos_live_summary_and_sigint(self):
        # The live one-line summary goes to stderr on a terminal; Ctrl-C prints the counters.
        rc, out, err = run_tty(["chaos", "--listen", "127.0.0.1:0", "--target", self.address, "--plaintext",
                                "-o", "json"], tty_out=False, tty_err=True,
                               until=lambda text: "listening on" in text and text.count("\r") >= 1,
                               then=lambda proc: proc.send_signal(signal.SIGINT), timeout=30)
        self.assertEqual(rc, 0, err)
        lines = out.strip().splitlines()
        self.assertRegex(lines[0], r"^127\.0\.0\.1:\d+$")
        self.assertEqual(json.loads(lines[-1])["calls"], 0)
        self.assertIn("\r", err)


class Widths(t.TestCase):
    def check_width(self, out, cols, page):
        verbatim = code_lines(page)
        for line in ANSI.sub("", out).splitlines():
            if len(line) <= cols:
                continue
            # Too long: only verbatim code, or a single word longer than the line, may be.
            self.assertTrue(line.strip() in verbatim or len(line.split()) == 1,
                            "line longer than %d: %r" % (cols, line))

    def test_help_follows_the_terminal_width(self):
        for cols in (60, 90):
            with self.subTest(cols=cols):
                rc, out, _ = run_tty(["help", "bench"], cols=cols)
                self.assertEqual(rc, 0)
                self.check_width(out, cols, "bench")
                prose = [l for l in out.splitlines() if l.strip() and l.strip() not in code_lines("bench")]
                self.assertGreater(max(len(ANSI.sub("", l)) for l in prose), cols - 15)

    def test_columns_environment_and_default_width(self):
        rc, out, _ = t.run(["help", "probe"], env={"COLUMNS": "64"})
        self.assertEqual(rc, 0)
        self.check_width(out, 64, "probe")
        rc, out, _ = t.run(["help", "probe"])
        self.check_width(out, 80, "probe")
        self.assertTrue(any(64 < len(l) <= 80 for l in out.splitlines() if l.strip() not in code_lines("probe")))

    def test_bench_histogram_follows_the_width(self):
        with t.serve() as address:
            bench = ["bench", address, "--plaintext", "grpc.testing.TestService/EmptyCall", "-n", "200", "-c", "4"]
            for cols in (60, 110):
                with self.subTest(cols=cols):
                    rc, out, _ = t.run(bench, env={"COLUMNS": str(cols)})
                    self.assertEqual(rc, 0)
                    rows = [l for l in out.splitlines() if " | " in l]
                    self.assertTrue(rows, out)
                    self.assertTrue(all(len(l) <= cols for l in rows), rows)
                    self.assertEqual(max(l.count("\u2587") for l in rows), min(60, cols - 30))


if __name__ == "__main__":
    t.main()
