# End-to-end tests of `grpcdx chaos --tcp --fault loss=P`: packet loss made by the kernel through
# the proxy's own nftables table. The whole script runs as root inside a private network
# namespace (netns.main_in_netns), so the host's firewall is never touched: bytes arrive intact
# through a lossy proxy while TCP retransmits, the table goes with the proxy however it stops
# (SIGINT, SIGTERM, SIGHUP, --duration, an error at start), a killed proxy's table is removed by the next
# one, the admin service changes the rules at run time, and without CAP_NET_ADMIN or without
# libnftables the proxy refuses to start with one error line.
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpcdx_test as t  # noqa: E402
import netns  # noqa: E402
from test_chaos_tcp_integrity import EchoServer, echo_through, pattern  # noqa: E402

# Run grpcdx without CAP_NET_ADMIN (util-linux's setpriv drops it from the bounding set, so the
# exec'd root process does not get it).
NO_NET_ADMIN = ["setpriv", "--bounding-set", "-net_admin", "--inh-caps", "-net_admin"]


def tables():
    """The nftables tables of this namespace, as "family name"."""
    out = subprocess.run(["nft", "list", "tables"], check=True, capture_output=True, text=True, timeout=10).stdout
    return [line[len("table "):].strip() for line in out.splitlines() if line.startswith("table ")]


def table_of(pid, address):
    return "inet grpcdx_chaos_%d_%s" % (pid, address.rsplit(":", 1)[1])


def rules_of(table):
    """The rules of `table` ("inet NAME") as nft prints them, one string a rule."""
    out = subprocess.run(["nft", "list", "table"] + table.split(), check=True, capture_output=True, text=True,
                         timeout=10).stdout
    return [line.strip() for line in out.splitlines() if "numgen" in line]


def retransmitted_segments():
    """RetransSegs of this namespace's TCP (/proc/net/snmp is per namespace)."""
    with open("/proc/net/snmp") as f:
        lines = [line.split() for line in f if line.startswith("Tcp:")]
    return int(lines[1][lines[0].index("RetransSegs")])


def wait_for(cond, what, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


def admin_address():
    return "127.0.0.1:%d" % t.free_port()


class LossTest(t.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.echo = EchoServer()

    @classmethod
    def tearDownClass(cls):
        cls.echo.close()

    def setUp(self):
        # Each test starts from a namespace without tables, and leaves it so.
        self.assertEqual([x for x in tables() if "grpcdx_chaos" in x], [])

    def proxy(self, *extra, prefix=()):
        """A running `chaos --tcp` before the echo server, in a Chaos wrapper."""
        c = t.Chaos.__new__(t.Chaos)
        c.err_path = os.path.join(t.tmpdir(), "loss-%d.stderr" % time.monotonic_ns())
        argv = list(prefix) + [t.binary(), "chaos", "--tcp", "--listen", "127.0.0.1:0", "--target",
                               self.echo.address, "-o", "json"] + [str(a) for a in extra]
        with open(c.err_path, "wb") as err:
            c.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
        c.address = t.read_line(c.proc, 20)
        c.result = None
        if not c.address:
            c.stop()
            raise AssertionError("chaos did not start: %s" % c.stderr())
        c.address = c.address.strip()
        self.addCleanup(c.stop)
        return c

    def test_bytes_arrive_intact_under_loss_while_tcp_retransmits(self):
        c = self.proxy("--fault", "loss=10")
        table = table_of(c.proc.pid, c.address)
        self.assertIn(table, tables())
        self.assertEqual(len(rules_of(table)), 3, rules_of(table))  # up, and down two ways
        before = retransmitted_segments()
        payload = pattern(2 * 1000 * 1000, 21)
        echoed = echo_through(c.address, payload, timeout=120)
        self.assertEqual(len(echoed), len(payload))
        self.assertEqual(hashlib.sha256(echoed).hexdigest(), hashlib.sha256(payload).hexdigest())
        # The kernel dropped packets and TCP sent them again (one-sided: at least one of each).
        dropped = sum(int(m) for r in rules_of(table) for m in re.findall(r"counter packets (\d+)", r))
        self.assertGreater(dropped, 0)
        self.assertGreater(retransmitted_segments(), before)
        counts = c.counters(self)
        self.assertEqual(counts["faults"], [{"spec": "loss=10", "matched": 1, "injected": 1}])
        self.assertEqual(counts["bytes"], {"up": len(payload), "down": len(payload)})
        self.assertNotIn(table, tables())

    def test_the_table_goes_with_sigint_sigterm_sighup_and_duration(self):
        # SIGHUP without --rules (the terminal closed) stops the proxy as SIGTERM does.
        for how in ("SIGINT", "SIGTERM", "SIGHUP"):
            c = self.proxy("--fault", "loss=1,dir=up")
            table = table_of(c.proc.pid, c.address)
            self.assertIn(table, tables())
            rc, out, err = c.stop(getattr(signal, how))
            self.assertEqual(rc, 0, err)
            self.assertNotIn(table, tables(), how)
        c = self.proxy("--fault", "loss=1", "--duration", "300ms")
        table = table_of(c.proc.pid, c.address)
        c.proc.wait(timeout=15)
        self.assertEqual(c.proc.returncode, 0, c.stderr())
        self.assertNotIn(table, tables(), "--duration")

    def test_the_table_goes_when_start_fails_after_it_was_made(self):
        # The admin port is taken: chaos fails after its proxy (and its loss table) started.
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        self.addCleanup(taken.close)
        admin = "127.0.0.1:%d" % taken.getsockname()[1]
        proc = subprocess.run([t.binary(), "chaos", "--tcp", "--listen", "127.0.0.1:0", "--target",
                               self.echo.address, "--fault", "loss=5", "--admin", admin],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("TCP proxy listening", proc.stderr)
        self.assertIn("error: cannot listen on %s (--admin)" % admin, proc.stderr)
        self.assertEqual([x for x in tables() if "grpcdx_chaos" in x], [])

    def test_a_killed_proxys_table_is_removed_by_the_next_one(self):
        killed = self.proxy("--fault", "loss=2")
        killed_table = table_of(killed.proc.pid, killed.address)
        alive = self.proxy("--fault", "loss=3")
        alive_table = table_of(alive.proc.pid, alive.address)
        killed.stop(signal.SIGKILL)
        self.assertIn(killed_table, tables())  # nothing removed it
        nxt = self.proxy("--fault", "loss=4")
        now = tables()
        self.assertNotIn(killed_table, now)
        self.assertIn(alive_table, now)  # its proxy still runs
        self.assertIn(table_of(nxt.proc.pid, nxt.address), now)
        for c in (alive, nxt):
            self.assertEqual(c.stop()[0], 0)
        self.assertEqual([x for x in tables() if "grpcdx_chaos" in x], [])

    def test_the_admin_service_changes_the_rules_at_run_time(self):
        admin = admin_address()
        c = self.proxy("--admin", admin)
        wait_for(lambda: "admin service" in c.stderr(), "the admin service")
        table = table_of(c.proc.pid, c.address)
        self.assertNotIn(table, tables())  # no loss fault, no table

        def ctl(*args):
            return self.assert_ok(t.run(["chaos", "ctl", admin] + list(args)))

        self.assertEqual(ctl("add", "loss=5"), "f1  loss=5\n")
        self.assertEqual(len(rules_of(table)), 3)
        self.assertEqual(ctl("add", "loss=7,dir=up"), "f2  loss=7,dir=up\n")
        rules = rules_of(table)
        self.assertEqual(len(rules), 4)
        self.assertTrue(any("< 70000" in r and '"f2 up"' in r for r in rules), rules)
        ctl("rm", "f1")
        rules = rules_of(table)
        self.assertEqual(len(rules), 1)
        self.assertIn("tcp dport %s" % c.address.rsplit(":", 1)[1], rules[0])
        # A connection while f2 is in force counts under it.
        self.assertEqual(echo_through(c.address, b"x" * 1000, timeout=60), b"x" * 1000)
        listed = json.loads(ctl("list", "-o", "json"))["faults"]
        self.assertEqual([(f["id"], f["injected"]) for f in listed], [("f2", "1")])  # 64-bit counts are JSON strings
        ctl("clear")
        self.assertNotIn(table, tables())
        self.assertEqual(c.stop()[0], 0)

    def test_without_cap_net_admin_one_error_line_at_start(self):
        proc = subprocess.run(NO_NET_ADMIN + [t.binary(), "chaos", "--tcp", "--listen", "127.0.0.1:0", "--target",
                                              self.echo.address, "--fault", "loss=10"],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        line = self.assert_error_line(proc.stderr, "error: loss=10 needs CAP_NET_ADMIN")
        self.assertIn("setcap cap_net_admin+ep", line)
        self.assertEqual(proc.stdout, "")  # never listened for clients

    def test_without_libnftables_one_error_line_at_start(self):
        # The library hidden by /dev/null mounted over it, in a mount namespace of this command's
        # own (util-linux's unshare makes its mounts private: the host's file is untouched).
        lib = os.path.realpath("/usr/lib/x86_64-linux-gnu/libnftables.so.1")
        if not os.path.exists(lib):
            self.skipTest("libnftables1 is not installed here")
        script = 'mount --bind /dev/null "$1" && shift && exec "$@"'
        proc = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", lib, t.binary(), "chaos", "--tcp",
                               "--listen", "127.0.0.1:0", "--target", self.echo.address, "--fault", "loss=10"],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        line = self.assert_error_line(proc.stderr, "error: loss=10 needs libnftables.so.1 to set nftables rules: ")
        self.assertIn("(install Debian's libnftables1 package)", line)
        self.assertEqual(proc.stdout, "")

    def test_without_cap_net_admin_the_admin_service_refuses_loss(self):
        admin = admin_address()
        c = self.proxy("--admin", admin, prefix=NO_NET_ADMIN)
        wait_for(lambda: "admin service" in c.stderr(), "the admin service")
        rc, out, err = t.run(["chaos", "ctl", admin, "add", "loss=10"])
        self.assertEqual(rc, 73, err)  # FAILED_PRECONDITION
        self.assert_error_line(err, "FAILED_PRECONDITION (9): loss=10 needs CAP_NET_ADMIN")
        self.assertEqual(self.assert_ok(t.run(["chaos", "ctl", admin, "list"])), "no faults\n")
        self.assertEqual(self.assert_ok(t.run(["chaos", "ctl", admin, "add", "latency=1ms"])), "f1  latency=1ms\n")
        self.assertEqual(c.stop()[0], 0)


if __name__ == "__main__":
    netns.main_in_netns("loss", t.main)
