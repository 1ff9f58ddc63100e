# End-to-end tests of `grpcdx conn`: one held connection against servers we did not write (grpc-go,
# python3-grpcio's C-core) and `grpcdx serve`, each set up to end it one way (refused keepalive,
# idle limit, age limit), plus raw sockets for a close, a reset, a silent path and an odd GOAWAY.
# Loopback only; every hold is a few seconds and every server limit about one second.
import json
import os
import socket
import subprocess
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpcdx_test as t  # noqa: E402
from hostile_peers import drain, read_preface  # noqa: E402
from netns import NetnsTestCase  # noqa: E402
from raw_h2 import ACK, GOAWAY, SETTINGS, Acceptor, frame  # noqa: E402
from test_go_peer import go_peer  # noqa: E402

EXIT = {"held": 0, "keepalive_rejected": 50, "idle_closed": 51, "age_closed": 52, "goaway": 53,
        "closed": 54, "reset": 55, "dead_path": 56}


class SilentAfterSettings(Acceptor):
    """Speaks HTTP/2 up to SETTINGS, then reads and ignores everything: PINGs get no answer, as
    behind a NAT that dropped the flow."""

    def handle(self, conn):
        if not read_preface(conn):
            return
        conn.sendall(frame(SETTINGS, 0, 0) + frame(SETTINGS, ACK, 0))
        drain(conn, 10, lambda: self.stopping)


class EndsAfter(Acceptor):
    """Speaks HTTP/2 up to SETTINGS, then after `after` seconds ends the connection: "fin" closes
    it, "reset" resets it (SO_LINGER 0), "goaway" sends GOAWAY PROTOCOL_ERROR first."""

    def __init__(self, how, after=0.5):
        super().__init__()
        self.how, self.after = how, after

    def handle(self, conn):
        if not read_preface(conn):
            return
        conn.sendall(frame(SETTINGS, 0, 0) + frame(SETTINGS, ACK, 0))
        drain(conn, self.after, lambda: self.stopping)
        if self.how == "goaway":
            conn.sendall(frame(GOAWAY, 0, 0, struct.pack(">II", 0, 1) + b"test says no"))
            time.sleep(0.1)
        if self.how == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class ConnTestCase(t.TestCase):
    def conn(self, address, *args, timeout=30):
        """Runs `grpcdx conn ADDRESS --plaintext ARGS -o json`: (rc, events, seconds taken)."""
        start = time.monotonic()
        rc, out, err = t.run(["conn", address, "--plaintext", "-o", "json"] + list(args),
                             timeout=timeout)
        took = time.monotonic() - start
        self.assert_clean_stderr(err)
        self.assertEqual(err, "", "stderr: %s" % err)
        events = t.json_lines(out)
        self.assertTrue(events, "no output")
        self.assertEqual(events[-1]["event"], "verdict", out)
        return rc, events, took

    def verdict(self, address, cls, *args, timeout=30):
        """Holds a connection and checks the verdict's class and exit code; returns (verdict,
        events, seconds)."""
        rc, events, took = self.conn(address, *args, timeout=timeout)
        v = events[-1]
        self.assertEqual(v["class"], cls, v)
        self.assertEqual(v["exit_code"], EXIT[cls])
        self.assertEqual(rc, EXIT[cls])
        self.assertEqual(list(v.keys()),
                         ["event", "class", "exit_code", "held_ms", "pings_sent", "summary", "hint"])
        self.assertEqual(events[0]["event"], "connected")
        self.assertEqual(events[0]["t_ms"], 0)
        self.assertEqual(events[0]["alpn"], "h2c")
        self.assertEqual(events[1]["event"], "settings")
        return v, events, took

    def goaways(self, events):
        return [e for e in events if e["event"] == "goaway"]

    def check_keepalive_rejected(self, address):
        v, events, took = self.verdict(address, "keepalive_rejected", "--keepalive", "200ms",
                                       "--for", "6s")
        g = self.goaways(events)
        self.assertEqual(g[0]["error_code"], "ENHANCE_YOUR_CALM")
        self.assertEqual(g[0]["debug"], "too_many_pings")
        self.assertGreaterEqual(v["pings_sent"], 2)
        self.assertIn("every 200ms", v["summary"])
        self.assertIn("PermitWithoutStream", v["hint"])
        self.assertIn("GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS", v["hint"])
        # Decided within 2 s of the GOAWAY, measured in the process (not by wall time, which
        # a loaded machine stretches with start-up).
        self.assertLess(v["held_ms"] - g[0]["t_ms"], 2500)
        return v, events

    def check_idle_closed(self, address):
        v, events, took = self.verdict(address, "idle_closed", "--for", "6s")
        g = self.goaways(events)
        self.assertTrue(g)
        self.assertGreaterEqual(g[0]["t_ms"], 800)
        self.assertLess(g[0]["t_ms"], 2500)
        self.assertIn("idle for", v["summary"])
        self.assertIn("MaxConnectionIdle", v["hint"])
        self.assertIn("grpc.max_connection_idle_ms", v["hint"])
        # Decided within 2 s of the GOAWAY, measured in the process (not by wall time, which
        # a loaded machine stretches with start-up).
        self.assertLess(v["held_ms"] - g[0]["t_ms"], 2500)
        return v, events

    def check_age_closed(self, address):
        v, events, took = self.verdict(address, "age_closed", "--stream", "--for", "6s")
        g = self.goaways(events)
        self.assertTrue(g)
        self.assertGreaterEqual(g[0]["t_ms"], 800)
        self.assertLess(g[0]["t_ms"], 2500)
        self.assertIn("at age", v["summary"])
        self.assertIn("MaxConnectionAge", v["hint"])
        # Decided within 2 s of the GOAWAY, measured in the process (not by wall time, which
        # a loaded machine stretches with start-up).
        self.assertLess(v["held_ms"] - g[0]["t_ms"], 2500)
        return v, events

    def check_held(self, address):
        v, events, took = self.verdict(address, "held", "--keepalive", "300ms", "--for", "2s")
        pings = [e for e in events if e["event"] == "ping"]
        self.assertGreaterEqual(len(pings), 4)
        self.assertEqual(v["pings_sent"], len(pings))
        self.assertEqual(v["held_ms"], 2000)
        self.assertLess(took, 20)  # a hold that never ended would hit the run's timeout instead
        return v, events


class GoPeer(ConnTestCase):
    """grpc-go 1.33 (Debian's): keepalive.EnforcementPolicy and ServerParameters."""

    def test_keepalive_rejected(self):
        with go_peer() as address:
            self.check_keepalive_rejected(address)

    def test_idle_closed(self):
        with go_peer("-max-connection-idle", "1s") as address:
            v, events = self.check_idle_closed(address)
            # grpc-go closes gracefully: a first GOAWAY with the largest stream id and a PING,
            # then, once the PING is answered, the real one, with no stream open.
            g = self.goaways(events)
            self.assertEqual([x["last_stream_id"] for x in g], [2147483647, 0])
            self.assertEqual([x["error_code"] for x in g], ["NO_ERROR", "NO_ERROR"])
            self.assertEqual(events[-2]["how"], "fin")

    def test_age_closed_with_a_stream(self):
        with go_peer("-max-connection-age", "1s", "-max-connection-age-grace", "500ms") as address:
            v, events = self.check_age_closed(address)
            self.assertIn("with 1 stream open", v["summary"])
            # Both GOAWAYs of the graceful close: the heads-up, then the last stream it serves.
            g = self.goaways(events)
            self.assertEqual([x["last_stream_id"] for x in g], [2147483647, 1])

    def test_held_when_pings_are_allowed(self):
        with go_peer("-keepalive-min-time", "100ms", "-keepalive-permit-without-stream") as address:
            self.check_held(address)

    def test_rpc_every_reports_each_check(self):
        with go_peer() as address:
            v, events, _ = self.verdict(address, "held", "--rpc-every", "300ms", "--stream",
                                        "--for", "1s")
            rpcs = [e for e in events if e["event"] == "rpc"]
            self.assertGreaterEqual(len(rpcs), 3)
            for e in rpcs:
                self.assertEqual(e["code"], 0)
                self.assertEqual(e["method"], "grpc.health.v1.Health/Check")


class PythonGrpcio(ConnTestCase):
    """python3-grpcio: gRPC C-core 1.51 behind Python, set up with channel arguments."""

    def test_keepalive_rejected(self):
        with t.python_server() as address:
            self.check_keepalive_rejected(address)

    def test_idle_closed(self):
        with t.python_server("--option", "grpc.max_connection_idle_ms=1000") as address:
            self.check_idle_closed(address)

    def test_age_closed_with_a_stream(self):
        with t.python_server("--health", "--option", "grpc.max_connection_age_ms=1000",
                             "--option", "grpc.max_connection_age_grace_ms=500") as address:
            self.check_age_closed(address)

    def test_held_when_pings_are_allowed(self):
        with t.python_server("--option", "grpc.http2.min_ping_interval_without_data_ms=100",
                             "--option", "grpc.keepalive_permit_without_calls=1") as address:
            self.check_held(address)


class GrpcdxServe(ConnTestCase):
    """`grpcdx serve` with the connection-management flags (gRPC C++ channel arguments)."""

    def test_keepalive_rejected(self):
        with t.serve() as address:
            self.check_keepalive_rejected(address)

    def test_idle_closed(self):
        with t.serve("--max-connection-idle", "1s") as address:
            self.check_idle_closed(address)

    def test_age_closed_with_a_stream(self):
        with t.serve("--max-connection-age", "1s", "--max-connection-age-grace", "500ms") as address:
            self.check_age_closed(address)

    def test_held_when_pings_are_allowed(self):
        with t.serve("--keepalive-min-time", "100ms", "--keepalive-permit-without-stream") as address:
            self.check_held(address)

    def test_bad_limit_is_a_usage_error(self):
        self.assert_fails(t.run(["serve", "--max-connection-idle", "0s"]), 2, "--max-connection-idle")


class RawPeers(ConnTestCase):
    """Hand-made HTTP/2 peers: what no gRPC server does on purpose, but the path between may."""

    def test_closed_without_goaway(self):
        with EndsAfter("fin") as peer:
            v, events, _ = self.verdict(peer.address, "closed", "--for", "5s")
            self.assertEqual(events[-2]["event"], "closed")
            self.assertEqual(events[-2]["how"], "fin")
            self.assertIn("without a GOAWAY", v["summary"])

    def test_reset(self):
        with EndsAfter("reset") as peer:
            v, events, _ = self.verdict(peer.address, "reset", "--for", "5s")
            self.assertEqual(events[-2]["how"], "reset")
            self.assertIn("TCP RST", v["summary"])

    def test_other_goaway(self):
        with EndsAfter("goaway") as peer:
            v, events, _ = self.verdict(peer.address, "goaway", "--for", "5s")
            g = self.goaways(events)
            self.assertEqual(g[0], {"event": "goaway", "t_ms": g[0]["t_ms"],
                                    "error_code": "PROTOCOL_ERROR", "last_stream_id": 0,
                                    "debug": "test says no"})
            self.assertIn("GOAWAY PROTOCOL_ERROR", v["summary"])

    def test_dead_path(self):
        # A raw server that completes the preface and SETTINGS, then never answers a PING (no
        # netns or nftables needed).
        with SilentAfterSettings() as peer:
            v, events, took = self.verdict(peer.address, "dead_path", "--keepalive", "300ms",
                                           "--keepalive-timeout", "1s", "--for", "10s")
            self.assertEqual(events[-2]["event"], "closed")
            self.assertEqual(events[-2]["how"], "ping_timeout")
            self.assertEqual(v["pings_sent"], 1)
            # Decided at the PING's send time (300 ms and a little) plus the timeout.
            self.assertGreaterEqual(v["held_ms"], 1300)
            self.assertLess(v["held_ms"], 1300 + 2000)


class DeadPathInANetworkNamespace(ConnTestCase, NetnsTestCase):
    """dead_path as a NAT or load balancer makes it: the kernel drops every packet of an
    established flow (an nftables DROP), in a private network namespace so the host's firewall
    is never touched. Needs root, ip (iproute2) and nft (nftables), as CI has."""

    NETNS_TAG = "conn"

    def test_dropped_flow_is_a_dead_path(self):
        ns = self.ns.argv([])
        server = subprocess.Popen(ns + [t.binary(), "serve", "--listen", "127.0.0.1:0",
                                        "--keepalive-min-time", "10ms", "--keepalive-permit-without-stream"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.addCleanup(t._stop, server)
        address = t.read_line(server, 20)
        self.assertIsNotNone(address, "grpcdx serve did not start in the namespace")
        address = address.strip()
        port = address.rsplit(":", 1)[1]
        conn = subprocess.Popen(ns + [t.binary(), "conn", address, "--plaintext", "-o", "json",
                                      "--keepalive", "200ms", "--keepalive-timeout", "1s", "--for", "20s"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(t._stop, conn)
        first = t.read_line(conn, 20)
        self.assertIsNotNone(first)
        self.assertEqual(json.loads(first)["event"], "connected")
        # Pings are answered until the path goes dark: wait for one round trip first.
        while True:
            line = t.read_line(conn, 20)
            self.assertIsNotNone(line, "no ping answered before the drop")
            if json.loads(line)["event"] == "ping":
                break
        rules = os.path.join(t.tmpdir(), "dead-path.nft")
        with open(rules, "w") as f:
            f.write("table inet grpcdx_dead {\n  chain in {\n    type filter hook input priority 0;\n"
                    "    tcp dport %s drop\n    tcp sport %s drop\n  }\n}\n" % (port, port))
        self.inside(["nft", "-f", rules])
        out, err = conn.communicate(timeout=30)
        events = [json.loads(first), json.loads(line)] + t.json_lines(out.decode())
        verdict = events[-1]
        self.assertEqual(verdict["class"], "dead_path", events)
        self.assertEqual(conn.returncode, 56)
        self.assertEqual(events[-2], {"event": "closed", "t_ms": events[-2]["t_ms"], "how": "ping_timeout"})
        self.assertIn("got no answer within 1s", verdict["summary"])
        self.assertIn("dropped the flow silently", verdict["hint"])


class Tls(ConnTestCase):
    """The same hold over TLS (ALPN h2), and a TLS failure with the probe's class."""

    def test_idle_closed_over_tls_with_calls(self):
        c = t.certs()
        with t.serve("--tls-cert", c.server_cert, "--tls-key", c.server_key,
                     "--max-connection-idle", "1s") as address:
            rc, out, err = t.run(["conn", address, "--cacert", c.ca_cert, "--rpc-every", "3s",
                                  "--for", "5s", "-o", "json"], timeout=30)
            self.assertEqual(rc, 51, out + err)
            events = t.json_lines(out)
            self.assertEqual(events[0]["alpn"], "h2")
            rpcs = [e for e in events if e["event"] == "rpc"]
            self.assertEqual([e["code"] for e in rpcs], [0])
            self.assertEqual(events[-1]["class"], "idle_closed")

    def test_untrusted_certificate_is_the_probe_class(self):
        c = t.certs()
        with t.serve("--tls-cert", c.server_cert, "--tls-key", c.server_key) as address:
            rc, out, err = t.run(["conn", address, "--cacert", c.other_ca_cert, "-o", "json"])
            self.assertEqual(rc, 21, out + err)
            self.assertEqual(t.json_lines(out), [t.json_lines(out)[-1]])
            self.assertEqual(t.json_lines(out)[-1]["class"], "tls_untrusted")


class Command(ConnTestCase):
    def test_connect_failure_is_the_probe_class(self):
        rc, out, err = t.run(["conn", "127.0.0.1:%d" % t.free_port(), "--plaintext", "-o", "json"])
        self.assertEqual(rc, 11, out + err)
        v = t.json_lines(out)[-1]
        self.assertEqual(v["event"], "verdict")
        self.assertEqual(v["class"], "tcp_refused")
        self.assertEqual(v["exit_code"], 11)

    def test_text_output(self):
        with EndsAfter("fin", after=0.2) as peer:
            rc, out, err = t.run(["conn", peer.address, "--plaintext", "--for", "3s"])
            self.assertEqual(rc, 54, out + err)
            lines = out.splitlines()
            self.assertEqual(lines[0], "conn %s: holding one connection for 3s" % peer.address)
            self.assertIn("connected to %s (plaintext HTTP/2)" % peer.address, lines[1])
            self.assertIn("closed by the peer (FIN)", out)
            self.assertTrue(lines[-2].startswith("closed (exit 54): the server closed the connection (FIN)"))
            self.assertTrue(lines[-1].startswith("hint: "))

    def test_bad_durations_are_usage_errors(self):
        self.assert_fails(t.run(["conn", "127.0.0.1:1", "--plaintext", "--for", "0s"]), 2, "--for")
        self.assert_fails(t.run(["conn", "127.0.0.1:1", "--plaintext", "--rpc-every", "soon"]), 2)


if __name__ == "__main__":
    t.main()
