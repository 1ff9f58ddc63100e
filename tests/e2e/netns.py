# Private network namespaces for the e2e tests that need the kernel's firewall (nftables rules
# that drop a flow, or loss=P's own rules): whatever a test does to nftables stays inside its
# namespace, so the host's firewall is never touched. Needs root and `ip` (iproute2).
import os
import subprocess
import sys
import unittest

_count = 0


class Netns:
    """A network namespace with only its loopback interface, up. Delete it with close()."""

    def __init__(self, tag):
        global _count
        _count += 1
        self.name = "grpcdx-%s-%d-%d" % (tag, os.getpid(), _count)
        subprocess.run(["ip", "netns", "add", self.name], check=True, timeout=10,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            self.run(["ip", "link", "set", "lo", "up"])
        except BaseException:
            self.close()
            raise

    def argv(self, argv):
        """`argv` run inside the namespace."""
        return ["ip", "netns", "exec", self.name] + [str(a) for a in argv]

    def run(self, argv, **kwargs):
        """Runs `argv` inside the namespace; fails when it fails."""
        kwargs.setdefault("timeout", 10)
        return subprocess.run(self.argv(argv), check=True, **kwargs)

    def close(self):
        subprocess.run(["ip", "netns", "del", self.name], timeout=10, stderr=subprocess.DEVNULL)


def cannot_create(tag="probe"):
    """Why this machine cannot make a network namespace (not root, no `ip`, no permission), or
    None when it can."""
    if os.geteuid() != 0:
        return "needs root for a network namespace"
    try:
        Netns(tag).close()
    except FileNotFoundError:
        return "needs ip (iproute2) for a network namespace"
    except subprocess.CalledProcessError as e:
        return "cannot create a network namespace: %s" % (e.stderr or b"").decode(errors="replace").strip()
    return None


class NetnsTestCase(unittest.TestCase):
    """A TestCase with its own namespace per test (self.ns); skipped when none can be made."""

    NETNS_TAG = "test"

    def setUp(self):
        why = cannot_create(self.NETNS_TAG)
        if why:
            self.skipTest(why)
        self.ns = Netns(self.NETNS_TAG)
        self.addCleanup(self.ns.close)

    def inside(self, argv):
        self.ns.run(argv)


_INSIDE = "GRPCDX_TEST_NETNS"


def inside():
    """The namespace this process runs in when main_in_netns started it; None otherwise."""
    return os.environ.get(_INSIDE)


def main_in_netns(tag, main):
    """Runs this test script again inside a fresh network namespace (deleted afterwards) and exits
    with its code, so every server, proxy and client the script starts shares the namespace;
    inside that run, calls `main`. When no namespace can be made, prints why and exits 0 as a
    skipped test does."""
    if inside():
        main()
        return
    why = cannot_create(tag)
    if why:
        print("skipped: %s" % why)
        sys.exit(0)
    ns = Netns(tag)
    try:
        env = dict(os.environ)
        env[_INSIDE] = ns.name
        rc = subprocess.run(ns.argv([sys.executable, os.path.abspath(sys.argv[0])] + sys.argv[1:]), env=env).returncode
    finally:
        ns.close()
    sys.exit(rc)
