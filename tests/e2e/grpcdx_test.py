# Shared helpers for the end-to-end tests: running the grpcdx binary with a hard timeout,
# starting servers on loopback, test-time certificates, protosets, and the test runner.
import contextlib
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
GRPC_PROTO_DIR = os.environ.get("GRPC_PROTO_DIR", "/usr/share/grpc-proto")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

_ADDRESS_RE = re.compile(r"^(127\.0\.0\.1|localhost|\[::1\]):\d+$|^unix:.+$")
_tmp_root = None


def binary():
    """The grpcdx binary under test, from the GRPCDX environment variable."""
    path = os.environ.get("GRPCDX")
    if not path:
        raise RuntimeError("set GRPCDX to the grpcdx binary (ctest does this)")
    return path


def tmpdir():
    """A temporary directory shared by this test process, removed at exit."""
    global _tmp_root
    if _tmp_root is None:
        _tmp_root = tempfile.mkdtemp(prefix="grpcdx-e2e-")
        import atexit
        atexit.register(shutil.rmtree, _tmp_root, True)
    return _tmp_root


def run(args, input=None, timeout=30, env=None):
    """Runs grpcdx with `args`; returns (rc, stdout, stderr) as text. Kills it after `timeout`
    seconds and fails the test with what it had printed so far."""
    if isinstance(input, str):
        input = input.encode()
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    proc = subprocess.Popen([binary()] + [str(a) for a in args],
                            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env)
    try:
        out, err = proc.communicate(input=input, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError("grpcdx %s: no exit after %ss\nstdout: %s\nstderr: %s" % (
            " ".join(map(str, args)), timeout, out.decode(errors="replace"),
            err.decode(errors="replace")))
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def _read_first_line(proc, timeout):
    """Reads the first stdout line of `proc` within `timeout` seconds, or returns None."""
    line = read_line(proc, timeout)
    return None if line is None else line.strip()


def read_line(proc, timeout):
    """Reads one line of `proc`'s stdout within `timeout` seconds, a byte at a time so nothing
    after it is consumed; returns it with its newline, or None at a timeout or end of output.
    For waiting on an event (a first line, a "listening" line) instead of sleeping."""
    deadline = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    data = b""
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        byte = os.read(fd, 1)
        if not byte:
            return None
        data += byte
    return data.decode(errors="replace")


def _stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    if proc.stdout:
        proc.stdout.close()


@contextlib.contextmanager
def _server(argv, what, timeout=20, count=None):
    """Starts a server that prints its address as its first line and yields the address; with
    `count`, one that prints `count` addresses a line each, and yields their list."""
    err_path = os.path.join(tmpdir(), "server-%d.stderr" % time.monotonic_ns())
    with open(err_path, "wb") as err_file:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=err_file)
    try:
        addresses = []
        for _ in range(count or 1):
            address = _read_first_line(proc, timeout)
            if address is None or not _ADDRESS_RE.match(address):
                _stop(proc)
                with open(err_path, "rb") as f:
                    stderr = f.read().decode(errors="replace")
                raise AssertionError("%s did not print its address as its first line (got %r); "
                                     "stderr: %s" % (what, address, stderr.strip()))
            addresses.append(address)
        yield addresses if count else addresses[0]
    finally:
        _stop(proc)
    # A server that crashed or leaked (under ASan) fails the tests that used it.
    with open(err_path, "rb") as f:
        stderr = f.read().decode(errors="replace")
    for bad in ("Sanitizer", "runtime error:", "terminate called", "Traceback"):
        if bad in stderr:
            raise AssertionError("%s reported on stderr:\n%s" % (what, stderr))


def serve_at(listen, *extra):
    """Context manager: `grpcdx serve --listen LISTEN EXTRA...`; yields its address."""
    argv = [binary(), "serve", "--listen", listen] + [str(a) for a in extra]
    return _server(argv, "grpcdx serve --listen %s %s" % (listen, " ".join(map(str, extra))))


def serve(*extra):
    """Context manager: `grpcdx serve --listen 127.0.0.1:0 EXTRA...`; yields its address."""
    argv = [binary(), "serve", "--listen", "127.0.0.1:0"] + [str(a) for a in extra]
    return _server(argv, "grpcdx serve " + " ".join(map(str, extra)))


def python_server(*extra):
    """Context manager: the python3-grpcio TestService of python_server.py; yields its address."""
    argv = [PYTHON, os.path.join(HERE, "python_server.py")] + [str(a) for a in extra]
    return _server(argv, "python_server.py " + " ".join(map(str, extra)))


def descriptor_servers(protosets):
    """Context manager: descriptor_server.py, a python3-grpcio process whose hand-written reflection
    describes the files of each of `protosets` (FileDescriptorSets) on a port of its own; yields
    the addresses in the same order."""
    argv = [PYTHON, os.path.join(HERE, "descriptor_server.py")] + list(protosets)
    return _server(argv, "descriptor_server.py " + " ".join(map(os.path.basename, protosets)),
                   count=len(protosets))


def rss_kib(pid):
    """The resident set size of process `pid` in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on (at the moment of the call)."""
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _openssl(*args, cwd):
    proc = subprocess.run(["openssl"] + list(args), cwd=cwd, capture_output=True, timeout=60)
    if proc.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (" ".join(args), proc.stderr.decode()))


class Certs:
    """Paths of test-time certificates: a CA, a server certificate for 127.0.0.1 and localhost
    signed by it, a client certificate signed by it, and an unrelated second CA."""

    def __init__(self, directory):
        self.dir = directory
        p = lambda name: os.path.join(directory, name)
        self.ca_cert, self.ca_key = p("ca.pem"), p("ca.key")
        self.server_cert, self.server_key = p("server.pem"), p("server.key")
        self.client_cert, self.client_key = p("client.pem"), p("client.key")
        self.other_ca_cert = p("other-ca.pem")


_certs = None


def certs():
    """Makes (once per process) and returns the test certificates, with the openssl CLI."""
    global _certs
    if _certs is not None:
        return _certs
    d = os.path.join(tmpdir(), "certs")
    os.makedirs(d)
    c = Certs(d)
    for ca, key, cn in ((c.ca_cert, c.ca_key, "grpcdx test CA"),
                        (c.other_ca_cert, os.path.join(d, "other-ca.key"), "unrelated CA")):
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                 "-nodes", "-keyout", key, "-out", ca, "-days", "2", "-subj", "/CN=" + cn,
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    for name, cn, ext in (
            ("server", "localhost",
             "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n"),
            ("client", "grpcdx test client", "extendedKeyUsage=clientAuth\n")):
        key, csr, pem = (os.path.join(d, name + s) for s in (".key", ".csr", ".pem"))
        ext_file = os.path.join(d, name + ".ext")
        with open(ext_file, "w") as f:
            f.write("basicConstraints=CA:FALSE\n" + ext)
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", key, "-out", csr, "-subj", "/CN=" + cn, cwd=d)
        _openssl("x509", "-req", "-in", csr, "-CA", c.ca_cert, "-CAkey", c.ca_key,
                 "-CAcreateserial", "-out", pem, "-days", "2", "-extfile", ext_file, cwd=d)
    _certs = c
    return c


TEST_PROTOS = ["grpc/testing/test.proto"]


def make_protoset(protos=None, name="test.protoset"):
    """Runs protoc over `protos` (paths relative to GRPC_PROTO_DIR) with --include_imports and
    returns the path of the FileDescriptorSet it wrote into the temporary directory."""
    protos = protos or TEST_PROTOS
    out = os.path.join(tmpdir(), name)
    proc = subprocess.run(["protoc", "-I", GRPC_PROTO_DIR, "--include_imports",
                           "--descriptor_set_out=" + out] + protos,
                          capture_output=True, timeout=60)
    if proc.returncode != 0:
        raise RuntimeError("protoc failed: " + proc.stderr.decode())
    return out


def write_file(name, content):
    """Writes `content` to a file in the temporary directory and returns its path."""
    path = os.path.join(tmpdir(), name)
    with open(path, "wb" if isinstance(content, bytes) else "w") as f:
        f.write(content)
    return path


def json_lines(text):
    """Parses stdout of `-o json` streaming output: one JSON object a line."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def parse_json_stream(text):
    """Parses concatenated or pretty-printed JSON values (the text output of `call`)."""
    decoder = json.JSONDecoder()
    values, i = [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return values
        value, i = decoder.raw_decode(text, i)
        values.append(value)


class TestCase(unittest.TestCase):
    """unittest.TestCase with the checks every e2e test needs."""

    maxDiff = None

    def assert_clean_stderr(self, err):
        """No crash traces of any kind."""
        for bad in ("terminate called", "Traceback", "AddressSanitizer", "LeakSanitizer",
                    "runtime error:",
                    "Segmentation fault", "core dumped", "what():"):
            self.assertNotIn(bad, err)

    def assert_error_line(self, err, contains=None):
        """stderr is exactly one line starting with 'error:' (and containing `contains`)."""
        self.assert_clean_stderr(err)
        lines = err.strip("\n").split("\n")
        self.assertEqual(len(lines), 1, "expected one error line, got: %r" % err)
        self.assertTrue(lines[0].startswith("error:"), "error line must start with 'error:': %r" % err)
        if contains is not None:
            for piece in ([contains] if isinstance(contains, str) else contains):
                self.assertIn(piece, lines[0])
        return lines[0]

    def assert_ok(self, result):
        rc, out, err = result
        self.assertEqual(rc, 0, "exit %d\nstdout: %s\nstderr: %s" % (rc, out, err))
        self.assert_clean_stderr(err)
        return out

    def assert_fails(self, result, code, contains=None):
        rc, out, err = result
        self.assertEqual(rc, code, "expected exit %d, got %d\nstdout: %s\nstderr: %s" % (
            code, rc, out, err))
        return self.assert_error_line(err, contains)


class ServedTestCase(TestCase):
    """A TestCase whose tests share one `grpcdx serve`, started once for the class; its
    address is self.address."""

    @classmethod
    def setUpClass(cls):
        cls._server = serve()
        cls.address = cls._server.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls._server.__exit__(None, None, None)


def events(out, kind):
    """The JSON events of `kind` ("message", "status", "stall", ...) in a -o json output."""
    return [e for e in json_lines(out) if e.get("event") == kind]


def main():
    """Runs the unittest cases of the calling module; exits non-zero on any failure."""
    binary()
    unittest.main(module="__main__", verbosity=2)


class SchemaSources:
    """The schema sources the e2e matrix runs every case over, each a server plus the grpcdx
    arguments that reach it. Servers start on first use and stop at close(); a source whose
    server fails to start fails only the tests that use it."""

    NAMES = ("reflection_v1", "reflection_v1alpha", "proto", "protoset", "python")

    def __init__(self):
        self._stack = contextlib.ExitStack()
        self._servers = {}

    def _server(self, key):
        if key not in self._servers:
            try:
                if key == "serve":
                    cm = serve()
                elif key == "serve_v1alpha":
                    cm = serve("--reflection", "v1alpha")
                elif key == "serve_none":
                    cm = serve("--reflection", "none")
                else:
                    cm = python_server()
                self._servers[key] = ("ok", self._stack.enter_context(cm))
            except AssertionError as e:
                self._servers[key] = ("error", str(e))
        state, value = self._servers[key]
        if state == "error":
            raise AssertionError(value)
        return value

    def command(self, name, command, positionals=(), flags=()):
        """[command, TARGET, positionals..., source flags..., flags...] for source `name`.
        Positionals come first here; test_cli.py checks that flags may also come first."""
        target, *source_flags = self.args(name)
        return [command, target] + list(positionals) + source_flags + list(flags)

    def args(self, name):
        """[TARGET, flags...] that reach the server of source `name` with that schema source."""
        if name == "reflection_v1":
            return [self._server("serve"), "--plaintext"]
        if name == "reflection_v1alpha":
            return [self._server("serve_v1alpha"), "--plaintext"]
        if name == "proto":
            return [self._server("serve_none"), "--plaintext", "--proto", "grpc/testing/test.proto",
                    "-I", GRPC_PROTO_DIR]
        if name == "protoset":
            return [self._server("serve_none"), "--plaintext", "--protoset", make_protoset()]
        if name == "python":
            return [self._server("python"), "--plaintext"]
        raise ValueError(name)

    def close(self):
        self._stack.close()


def add_matrix(test_class, cases, sources=SchemaSources.NAMES):
    """Adds test_<case>__<source> to `test_class` for every case(self, source_name) in `cases`
    (a dict name -> function) and every source, so each pair passes or fails on its own.

    With GRPCDX_E2E_MATRIX=lean (scripts/test-all's sanitizer pass, where each grpcdx run costs
    half a second of start-up and exit) only the diagonal runs: each case on one source, the
    sources taken in turn, so every case and every source still runs under the sanitizers; the
    sources differ only in how the schema is found, which the Release pass checks case by case."""
    lean = os.environ.get("GRPCDX_E2E_MATRIX") == "lean"
    for index, (case_name, case) in enumerate(cases.items()):
        for source in ([sources[index % len(sources)]] if lean else sources):
            def method(self, case=case, source=source):
                case(self, source)
            method.__name__ = "test_%s__%s" % (case_name, source)
            setattr(test_class, method.__name__, method)


class Chaos:
    """A running `grpcdx chaos`; stop() sends SIGTERM and returns (rc, stdout after the address
    line, stderr)."""

    def __init__(self, upstream, *extra, output="json"):
        self.err_path = os.path.join(tmpdir(), "chaos-%d.stderr" % time.monotonic_ns())
        argv = [binary(), "chaos", "--listen", "127.0.0.1:0", "--target", upstream, "--plaintext",
                "-o", output] + [str(a) for a in extra]
        with open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
        self.address = _read_first_line(self.proc, 20)
        if not self.address or not _ADDRESS_RE.match(self.address):
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("chaos did not print its address: %r, stderr: %s" % (self.address, self.stderr()))
        self.result = None

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM):
        if self.result is None:
            if self.proc.poll() is None:
                self.proc.send_signal(sig)
            try:
                out, _ = self.proc.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                out, _ = self.proc.communicate()
            self.result = (self.proc.returncode, out.decode(errors="replace"), self.stderr())
        return self.result

    def counters(self, test):
        rc, out, err = self.stop()
        test.assertEqual(rc, 0, err)
        test.assert_clean_stderr(err)
        lines = [line for line in out.splitlines() if line.strip()]
        test.assertEqual(len(lines), 1, out)
        return json.loads(lines[0])


@contextlib.contextmanager
def chaos(upstream, *extra, output="json"):
    c = Chaos(upstream, *extra, output=output)
    try:
        yield c
    finally:
        c.stop()


SLOW_SECOND = '{"responseParameters": [{"size": 1}, {"size": 1, "intervalUs": 8000000}]}'


def check_channelz_peer(test, address):
    """`grpcdx channelz` against a peer we did not write (grpc-go, grpc-js): its servers and
    sockets with both flow-control windows, and a recv_idle stall (a response 8 s late) that the
    report joins with the server's view of the connection."""
    out = test.assert_ok(run(["channelz", address, "--plaintext", "-o", "json"]))
    snap = json.loads(out)
    test.assertTrue(snap["servers"], snap)
    test.assertTrue(snap["sockets"], snap)
    socket = snap["sockets"][0]
    test.assertIn("remote", socket)
    test.assertIn("localFlowControlWindow", socket["data"], socket)
    test.assertIn("remoteFlowControlWindow", socket["data"], socket)
    text = test.assert_ok(run(["channelz", address, "--plaintext"]))
    test.assertRegex(text, r"Sockets of server \d+")
    rc, out, err = run(["call", address, "grpc.testing.TestService/StreamingOutputCall", "--plaintext",
                        "-o", "json", "-d", SLOW_SECOND, "--stall-timeout", "1s"])
    test.assertEqual(rc, 5, out + err)
    stall = events(out, "stall")[0]
    test.assertEqual(stall["kind"], "recv_idle")
    view = stall.get("server_view")
    test.assertIsNotNone(view, stall)
    test.assertIsInstance(view["local_flow_control_window"], int, view)
    test.assertIsInstance(view["remote_flow_control_window"], int, view)
    test.assertGreaterEqual(view["messages_received"], 1, view)
    test.assertIn("the handler is stuck", view["which_side"])
