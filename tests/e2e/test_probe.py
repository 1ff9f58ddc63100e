# End-to-end tests of `grpcdx probe`: one loopback fixture for every class of SPEC.md's table,
# the JSON shape (every stage always listed), --all, --watch and usage errors.
import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpcdx_test as g  # noqa: E402
import probe_fixtures as fx  # noqa: E402
import raw_h2  # noqa: E402

STAGES = ["dns", "tcp", "tls", "http2", "grpc"]


def _unshare_works(*flags):
    try:
        return subprocess.run(["unshare"] + list(flags) + ["true"], capture_output=True,
                              timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class ProbeTest(g.TestCase):

    def probe(self, *args, code, cls, timeout=30):
        """Runs `grpcdx probe ARGS -o json`; checks the exit code, the class and the JSON shape;
        returns the JSON."""
        rc, out, err = g.run(["probe"] + list(args) + ["-o", "json"], timeout=timeout)
        return self.check_report(rc, out, err, code, cls)

    def check_report(self, rc, out, err, code, cls):
        self.assert_clean_stderr(err)
        self.assertEqual(rc, code, "exit %d\nstdout: %s\nstderr: %s" % (rc, out, err))
        report = json.loads(out)
        self.check_stages(report["stages"])
        v = report["verdict"]
        self.assertEqual(list(v.keys()), ["ok", "class", "exit_code", "summary", "hint"])
        self.assertEqual(v["class"], cls, out)
        self.assertEqual(v["exit_code"], code)
        self.assertEqual(v["ok"], code == 0)
        self.assertTrue(v["summary"])
        if code != 0:
            self.assertTrue(v["hint"])
            failed = [s for s in report["stages"] if s["status"] == "fail"]
            self.assertEqual(len(failed), 1, out)
            after = report["stages"][report["stages"].index(failed[0]) + 1:]
            self.assertTrue(all(s["status"] == "skip" for s in after), out)
        else:
            self.assertFalse([s for s in report["stages"] if s["status"] == "fail"])
        return report

    def check_stages(self, stages):
        self.assertEqual([s["name"] for s in stages], STAGES)
        for s in stages:
            self.assertIn(s["status"], ("ok", "fail", "skip"))
            self.assertIsInstance(s["ms"], (int, float))
            self.assertIsInstance(s["detail"], dict)

    def stage(self, report, name):
        return next(s for s in report["stages"] if s["name"] == name)

    # --- ok ------------------------------------------------------------------------------

    def test_ok_plaintext(self):
        with g.serve() as addr:
            r = self.probe(addr, "--plaintext", code=0, cls="ok")
            self.assertEqual(self.stage(r, "dns")["status"], "skip")
            self.assertEqual(self.stage(r, "dns")["detail"]["reason"], "IP literal")
            self.assertEqual(self.stage(r, "tls")["status"], "skip")
            self.assertEqual(self.stage(r, "tcp")["detail"]["address"], addr)
            self.assertIn("settings", self.stage(r, "http2")["detail"])
            self.assertEqual(self.stage(r, "grpc")["detail"]["serving_status"], "SERVING")
            self.assertLess(r["ms"], 2000)
            rc, out, err = g.run(["probe", addr, "--plaintext"])
            self.assertEqual(rc, 0, out + err)
            self.assertIn("ok: every layer answered: %s is a gRPC server" % addr, out)
            self.assertIn("SETTINGS", out)

    def test_ok_tls_reports_the_chain(self):
        c = g.certs()
        with g.serve("--tls-cert", c.server_cert, "--tls-key", c.server_key) as addr:
            r = self.probe(addr, "--cacert", c.ca_cert, code=0, cls="ok")
            tls = self.stage(r, "tls")
            self.assertEqual(tls["status"], "ok")
            self.assertEqual(tls["detail"]["alpn"], "h2")
            self.assertIn(tls["detail"]["version"], ("TLSv1.2", "TLSv1.3"))
            leaf = tls["detail"]["chain"][0]
            self.assertEqual(leaf["subject"], "CN=localhost")
            self.assertEqual(leaf["issuer"], "CN=grpcdx test CA")
            self.assertIn("IP:127.0.0.1", leaf["sans"])
            self.assertIn(leaf["days_left"], (1, 2))

    def test_ok_tls_with_client_certificate(self):
        c = g.certs()
        with g.serve("--tls-cert", c.server_cert, "--tls-key", c.server_key,
                     "--client-ca", c.ca_cert) as addr:
            self.probe(addr, "--cacert", c.ca_cert, "--cert", c.client_cert, "--key", c.client_key,
                       code=0, cls="ok")

    def test_ok_health_unimplemented_falls_back_to_reflection(self):
        with g.serve("--no-health") as addr:
            r = self.probe(addr, "--plaintext", code=0, cls="ok")
            grpc_detail = self.stage(r, "grpc")["detail"]
            self.assertEqual(grpc_detail["code"], "UNIMPLEMENTED")
            self.assertIn("grpc.testing.TestService", grpc_detail["reflection"]["services"])

    # --- dns and tcp ---------------------------------------------------------------------

    def test_dns(self):
        if not _unshare_works("-n"):
            self.skipTest("unshare -n is not permitted here (needs root or user namespaces)")
        # A new network namespace has no network: the lookup cannot leave the machine.
        proc = subprocess.run(["unshare", "-n", g.binary(), "probe", "does-not-exist.invalid:443",
                               "-o", "json"], capture_output=True, timeout=30)
        r = self.check_report(proc.returncode, proc.stdout.decode(), proc.stderr.decode(), 10, "dns")
        self.assertEqual(self.stage(r, "dns")["status"], "fail")
        self.assertIn("does-not-exist.invalid", r["verdict"]["summary"])

    def test_tcp_refused(self):
        port = g.free_port()
        r = self.probe("127.0.0.1:%d" % port, "--plaintext", code=11, cls="tcp_refused")
        self.assertEqual(r["verdict"]["hint"],
                         "nothing listens on 127.0.0.1:%d: is the server running, on this port?" % port)
        rc, out, err = g.run(["probe", "127.0.0.1:%d" % port])
        self.assertEqual(rc, 11)
        self.assertIn("tcp_refused (exit 11)", out)
        self.assertIn("hint: nothing listens on 127.0.0.1:%d" % port, out)

    def test_unix_socket_refused(self):
        path = os.path.join(g.tmpdir(), "nothing-here.sock")
        r = self.probe("unix:" + path, "--plaintext", code=11, cls="tcp_refused")
        self.assertEqual(self.stage(r, "dns")["detail"]["reason"], "unix socket")

    def test_tcp_timeout_within_bound(self):
        with fx.FullBacklog() as server:
            start = time.monotonic()
            r = self.probe(server.address, "--plaintext", "--timeout", "500ms", code=12,
                           cls="tcp_timeout")
            elapsed = time.monotonic() - start
            # Without the timeout the kernel's SYN retries take minutes (probe()'s 30 s gives
            # up first); 15 s leaves room for a loaded machine. Never early: >= 450 ms.
            self.assertLess(elapsed, 15.0)
            self.assertGreaterEqual(self.stage(r, "tcp")["ms"], 450)
            self.assertIn("within 500ms", r["verdict"]["summary"])

    def test_unreachable(self):
        if not _unshare_works("-n"):
            self.skipTest("unshare -n is not permitted here (needs root or user namespaces)")
        # In a new network namespace even loopback is down: ENETUNREACH.
        proc = subprocess.run(["unshare", "-n", g.binary(), "probe", "127.0.0.1:50051", "--plaintext",
                               "-o", "json"], capture_output=True, timeout=30)
        self.check_report(proc.returncode, proc.stdout.decode(), proc.stderr.decode(), 13,
                          "unreachable")

    # --- tls -----------------------------------------------------------------------------

    def test_tls_handshake(self):
        with fx.GarbageServer() as server:
            r = self.probe(server.address, code=20, cls="tls_handshake")
            self.assertIn("SSH-2.0", r["verdict"]["summary"])

    def test_tls_untrusted(self):
        c = g.certs()
        with g.serve("--tls-cert", c.server_cert, "--tls-key", c.server_key) as addr:
            r = self.probe(addr, code=21, cls="tls_untrusted")
            self.assertIn("--cacert", r["verdict"]["hint"])
            # --insecure skips verification: the same server is then fine.
            self.probe(addr, "--insecure", code=0, cls="ok")
            # A CA that did not sign it is no better than the system roots.
            self.probe(addr, "--cacert", c.other_ca_cert, code=21, cls="tls_untrusted")

    def test_tls_expired(self):
        c = g.certs()
        cert, key = fx.expired_cert()
        with g.serve("--tls-cert", cert, "--tls-key", key) as addr:
            r = self.probe(addr, "--cacert", c.ca_cert, code=22, cls="tls_expired")
            self.assertRegex(r["verdict"]["hint"],
                             r"^certificate expired \d+ days ago \(notAfter 2020-02-01\)")
            leaf = self.stage(r, "tls")["detail"]["chain"][0]
            self.assertEqual(leaf["not_after"], "2020-02-01T00:00:00Z")
            self.assertLess(leaf["days_left"], 0)

    def test_tls_hostname(self):
        c = g.certs()
        cert, key = fx.other_name_cert()
        with g.serve("--tls-cert", cert, "--tls-key", key) as addr:
            r = self.probe(addr, "--cacert", c.ca_cert, code=23, cls="tls_hostname")
            self.assertIn("other.example.com", r["verdict"]["summary"])
            self.assertIn("127.0.0.1", r["verdict"]["summary"])
            # The name the certificate covers, through --servername, passes the TLS stage.
            r = self.probe(addr, "--cacert", c.ca_cert, "--servername", "other.example.com",
                           code=0, cls="ok")

    def test_server_plaintext(self):
        with g.serve() as addr:
            r = self.probe(addr, code=24, cls="server_plaintext")
            self.assertEqual(self.stage(r, "tls")["status"], "fail")
            self.assertIn("--plaintext", r["verdict"]["hint"])

    def test_server_tls(self):
        c = g.certs()
        with g.serve("--tls-cert", c.server_cert, "--tls-key", c.server_key) as addr:
            r = self.probe(addr, "--plaintext", code=25, cls="server_tls")
            self.assertEqual(r["verdict"]["hint"],
                             "the server speaks TLS: drop --plaintext (add --cacert FILE or --insecure as needed)")

    def test_no_h2(self):
        c = g.certs()
        with fx.AlpnHttp1TlsServer(c.server_cert, c.server_key) as server:
            r = self.probe(server.address, "--cacert", c.ca_cert, code=26, cls="no_h2")
            self.assertEqual(self.stage(r, "tls")["detail"]["alpn"], "http/1.1")

    def test_tls_client_cert(self):
        c = g.certs()
        with g.serve("--tls-cert", c.server_cert, "--tls-key", c.server_key,
                     "--client-ca", c.ca_cert) as addr:
            r = self.probe(addr, "--cacert", c.ca_cert, code=27, cls="tls_client_cert")
            self.assertIn("--cert FILE --key FILE", r["verdict"]["hint"])

    # --- http2 and grpc ------------------------------------------------------------------

    def test_not_http2(self):
        with fx.Http1Server() as server:
            r = self.probe(server.address, "--plaintext", code=30, cls="not_http2")
            self.assertIn("HTTP/1.1 400", r["verdict"]["summary"])

    def test_grpc_deadline(self):
        with fx.SilentHttp2Server() as server:
            start = time.monotonic()
            r = self.probe(server.address, "--plaintext", "--timeout", "500ms", code=40,
                           cls="grpc_deadline")
            # The silent server never answers: without the deadline this would not end.
            self.assertLess(time.monotonic() - start, 15.0)
            self.assertEqual(self.stage(r, "http2")["status"], "ok")

    def test_grpc_error(self):
        with raw_h2.HttpStatusServer(500) as server:
            r = self.probe(server.address, "--plaintext", code=41, cls="grpc_error")
            self.assertNotEqual(self.stage(r, "grpc")["detail"]["code"], "OK")

    def test_not_serving(self):
        rc, out, err = g.run(["serve", "--help"])
        if "--health-status" in out:
            server = g.serve("--health-status", "=NOT_SERVING")
        else:
            server = fx.not_serving_server()
        with server as addr:
            r = self.probe(addr, "--plaintext", code=42, cls="not_serving")
            self.assertEqual(self.stage(r, "grpc")["detail"]["serving_status"], "NOT_SERVING")

    # --- --all, --watch, usage -----------------------------------------------------------

    def test_all_reports_each_address(self):
        if not _unshare_works("-m"):
            self.skipTest("unshare -m is not permitted here (needs root or user namespaces)")
        # A private /etc/hosts (bind-mounted in a new mount namespace) where one name has both
        # loopback addresses; a server listens on the IPv4 one only.
        hosts = g.write_file("probe-hosts", "127.0.0.1 multi.test\n::1 multi.test\n")
        port = g.free_port()
        with g.serve() as _other, \
                g._server([g.binary(), "serve", "--listen", "127.0.0.1:%d" % port], "serve") as addr:
            script = 'mount --bind "$1" /etc/hosts && shift && exec "$@"'
            proc = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", hosts, g.binary(), "probe",
                                   "multi.test:%d" % port, "--plaintext", "--all", "-o", "json"],
                                  capture_output=True, timeout=60)
            if b"mount" in proc.stderr and proc.returncode not in (0, 11):
                self.skipTest("cannot bind-mount /etc/hosts: " + proc.stderr.decode())
            out = proc.stdout.decode()
            self.assertEqual(proc.returncode, 11, out + proc.stderr.decode())
            r = json.loads(out)
            by_address = {i["address"]: i for i in r["instances"]}
            self.assertEqual(sorted(by_address), sorted([addr, "[::1]:%d" % port]))
            self.assertEqual(by_address[addr]["verdict"]["class"], "ok")
            self.assertEqual(by_address["[::1]:%d" % port]["verdict"]["class"], "tcp_refused")
            for i in r["instances"]:
                self.check_stages(i["stages"])
                self.assertEqual(i["stages"][0]["detail"]["addresses"], r["instances"][0]["stages"][0]["detail"]["addresses"])
            self.assertEqual(r["verdict"]["class"], "tcp_refused")

    def test_all_with_an_ip_literal_is_one_instance(self):
        with g.serve() as addr:
            rc, out, err = g.run(["probe", addr, "--plaintext", "--all", "-o", "json"])
            self.assertEqual(rc, 0, out + err)
            r = json.loads(out)
            self.assertEqual([i["address"] for i in r["instances"]], [addr])

    def test_srv_name_probes_every_record(self):
        if not _unshare_works("-m", "-n"):
            self.skipTest("unshare -m -n is not permitted here (needs root or user namespaces)")
        # A private network namespace (no DNS traffic can leave) whose /etc/resolv.conf points
        # at TinyDns on 127.0.0.1:53; the scenario runs grpcdx serve and the probes in there.
        resolv = g.write_file("probe-resolv.conf", "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        probes = [
            ["_grpc._tcp.svc.test", "--plaintext", "--all", "-o", "json"],
            ["_grpc._tcp.svc.test:443", "--plaintext", "-o", "json"],
            ["_grpc._tcp.none.test", "--plaintext", "--timeout", "3s", "-o", "json"],
            ["_grpc._tcp.svc.test", "--plaintext", "--all"],
        ]
        script = ('ip link set lo up && mount --bind "$1" /etc/resolv.conf && shift && exec "$@"')
        proc = subprocess.run(["unshare", "-m", "-n", "sh", "-c", script, "sh", resolv, g.PYTHON,
                               os.path.join(g.HERE, "probe_fixtures.py"), json.dumps(probes)],
                              capture_output=True, timeout=120)
        if proc.returncode != 0 and b"mount" in proc.stderr:
            self.skipTest("cannot bind-mount /etc/resolv.conf: " + proc.stderr.decode())
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        scenario = json.loads(proc.stdout)
        ok_addr, closed_addr = scenario["serve"], "127.0.0.1:%d" % scenario["closed"]
        all_json, first, none, text = scenario["runs"]

        # --all: both records, side by side, in priority order; the worst decides the exit.
        self.assert_clean_stderr(all_json["err"])
        self.assertEqual(all_json["rc"], 11, all_json["out"] + all_json["err"])
        r = json.loads(all_json["out"])
        self.assertEqual(r["target"], "_grpc._tcp.svc.test")
        self.assertEqual([i["address"] for i in r["instances"]], [ok_addr, closed_addr])
        self.assertEqual([i["verdict"]["class"] for i in r["instances"]], ["ok", "tcp_refused"])
        self.assertEqual(r["verdict"]["class"], "tcp_refused")
        for i in r["instances"]:
            self.check_stages(i["stages"])
        dns = r["instances"][0]["stages"][0]
        self.assertEqual(dns["status"], "ok")
        self.assertEqual(dns["detail"]["type"], "SRV")
        self.assertEqual(dns["detail"]["srv"], [
            {"priority": 10, "weight": 5, "port": int(ok_addr.rsplit(":", 1)[1]), "target": "a.svc.test",
             "addresses": [ok_addr]},
            {"priority": 20, "weight": 100, "port": scenario["closed"], "target": "b.svc.test",
             "addresses": [closed_addr]}])
        self.assertEqual(dns["detail"]["addresses"], [ok_addr, closed_addr])
        self.assertEqual(self.stage({"stages": r["instances"][0]["stages"]}, "grpc")["detail"]["serving_status"],
                         "SERVING")

        # Without --all: the first record by priority; the port written after the name is ignored.
        one = self.check_report(first["rc"], first["out"], first["err"], 0, "ok")
        self.assertEqual(one["address"], ok_addr)
        self.assertEqual(self.stage(one, "tcp")["detail"]["address"], ok_addr)

        # No records: a dns failure that says so.
        miss = self.check_report(none["rc"], none["out"], none["err"], 10, "dns")
        self.assertEqual(miss["verdict"]["summary"],
                         "the service name '_grpc._tcp.none.test' has no usable SRV record: no such name (NXDOMAIN)")
        self.assertIn("host -t SRV _grpc._tcp.none.test", miss["verdict"]["hint"])

        # The readable form lists the records and the instances side by side.
        self.assertEqual(text["rc"], 11, text["out"] + text["err"])
        self.assertIn("_grpc._tcp.svc.test SRV", text["out"])
        self.assertIn("priority 10 weight 5 port %s target a.svc.test -> %s" % (ok_addr.rsplit(":", 1)[1], ok_addr),
                      text["out"])
        self.assertIn("2 instances of _grpc._tcp.svc.test:", text["out"])
        self.assertRegex(text["out"], r"\n  %s\s+ok\s" % ok_addr.replace(".", r"\."))
        self.assertRegex(text["out"], r"\n  %s\s+tcp_refused\s" % closed_addr.replace(".", r"\."))

    def test_watch_prints_only_changes(self):
        port = g.free_port()
        addr = "127.0.0.1:%d" % port
        # Events, not fixed waits: the server starts once the first verdict (refused) is out,
        # and the watch is stopped once the second (ok) is, plus a second of unchanged probes
        # that must print nothing. (A 0.5 s sleep and --count 40 raced a busy machine: the first
        # probe could come after the server, or the server after the last probe.)
        proc = subprocess.Popen([g.binary(), "probe", addr, "--plaintext", "--watch", "100ms", "--count", "600",
                                 "-o", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            first = g.read_line(proc, 20)
            self.assertIsNotNone(first, "no first verdict")
            with g._server([g.binary(), "serve", "--listen", addr], "serve"):
                second = g.read_line(proc, 30)
                self.assertIsNotNone(second, "no verdict once the server is up")
                time.sleep(1.0)  # ~10 more probes, all ok: none may print a line
                proc.send_signal(signal.SIGINT)
                out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        self.assertEqual(proc.returncode, 0, out + err)
        lines = g.json_lines(first + second + out.decode())
        self.assertEqual([l["verdict"]["class"] for l in lines], ["tcp_refused", "ok"])
        self.assertTrue(all("time" in l for l in lines))

    def test_watch_count_bounds_the_runs(self):
        port = g.free_port()
        start = time.monotonic()
        rc, out, err = g.run(["probe", "127.0.0.1:%d" % port, "--plaintext", "--watch", "100ms",
                              "--count", "3"])
        self.assertEqual(rc, 11, out + err)
        self.assertGreaterEqual(time.monotonic() - start, 0.2)
        self.assertEqual(len(out.strip().splitlines()), 1, out)
        self.assertIn("tcp_refused", out)

    def test_usage_errors(self):
        self.assert_fails(g.run(["probe", "127.0.0.1:1", "--count", "2"]), 2, "--count goes with --watch")
        self.assert_fails(g.run(["probe", "127.0.0.1:1", "--timeout", "soon"]), 2, "soon")
        self.assert_fails(g.run(["probe", "127.0.0.1:1", "--watch", "0s"]), 2, "--watch")
        self.assert_fails(g.run(["probe", "xds:///svc"]), 2, "probe cannot dial 'xds' targets")
        self.assert_fails(g.run(["probe", "127.0.0.1:1", "--cacert", "/nonexistent/ca.pem"]), 1,
                          "/nonexistent/ca.pem")


if __name__ == "__main__":
    g.main()
