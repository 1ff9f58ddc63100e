# Misbehaving servers for the probe tests, each on loopback and each a context manager with an
# .address: a full accept queue, a TLS port that answers garbage, an HTTP/1.1 server, a TLS
# server whose ALPN offers only http/1.1, an HTTP/2 server that never answers a stream, a
# python3-grpcio health server reporting NOT_SERVING, and certificates made at test time
# (expired, for another name), and a tiny SRV/A DNS server with the scenario that runs it inside
# a private network namespace. Standard library, openssl CLI and python3-grpcio only.
import os
import select
import socket
import ssl
import struct
import subprocess
import threading
import time

import grpcdx_test
import raw_h2


_Acceptor = raw_h2.Acceptor


class FullBacklog:
    """A listening socket whose accept queue is full and never accepted, so the kernel drops
    further SYNs and a connect gets no answer."""

    def __enter__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        port = self.sock.getsockname()[1]
        self.address = "127.0.0.1:%d" % port
        self.fillers = []
        for _ in range(4):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.setblocking(False)
            try:
                c.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            self.fillers.append(c)
        # Wait for the event, not a fixed time: the queue is full once a filler's handshake has
        # completed (the socket turns writable without an error).
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            _, writable, _ = select.select([], self.fillers, [], max(0.0, deadline - time.monotonic()))
            if any(c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0 for c in writable):
                break
        else:
            raise AssertionError("no connection reached the accept queue of %s" % self.address)
        return self

    def __exit__(self, *exc):
        for c in self.fillers:
            c.close()
        self.sock.close()


class GarbageServer(_Acceptor):
    """Answers whatever arrives with an SSH banner, as an SSH daemon on the wrong port would."""

    def handle(self, conn):
        conn.recv(4096)
        conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
        time.sleep(0.2)


class Http1Server(_Acceptor):
    """A minimal HTTP/1.1 server: answers any request line with 400, as web servers answer the
    HTTP/2 preface."""

    def handle(self, conn):
        conn.recv(4096)
        body = b"bad request\n"
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n%s" % (len(body), body))


class AlpnHttp1TlsServer(_Acceptor):
    """A TLS server (certificate from `cert`/`key`) whose ALPN offers only http/1.1."""

    def __init__(self, cert, key):
        super().__init__()
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.context.set_alpn_protocols(["http/1.1"])

    def handle(self, conn):
        with self.context.wrap_socket(conn, server_side=True) as tls:
            tls.recv(4096)
            tls.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


class SilentHttp2Server(_Acceptor):
    """Speaks HTTP/2 (SETTINGS, ACKs, PINGs) but never answers a stream."""

    def handle(self, conn):
        conn.settimeout(30)
        raw_h2.serve_h2(conn, lambda conn, stream: None, lambda: self.stopping)


_HEALTH_SERVER = r'''
import sys, grpc
from concurrent import futures
def check(request, context):
    return b"\x08\x02"  # HealthCheckResponse{status: NOT_SERVING}
handler = grpc.method_handlers_generic_handler("grpc.health.v1.Health", {
    "Check": grpc.unary_unary_rpc_method_handler(check)})
server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), handlers=[handler])
port = server.add_insecure_port("127.0.0.1:0")
server.start()
print("127.0.0.1:%d" % port, flush=True)
server.wait_for_termination()
'''


def not_serving_server():
    """Context manager: a python3-grpcio server whose health Check answers NOT_SERVING."""
    path = grpcdx_test.write_file("probe_health_server.py", _HEALTH_SERVER)
    return grpcdx_test._server([grpcdx_test.PYTHON, path], "NOT_SERVING health server")


def _openssl(*args, cwd):
    proc = subprocess.run(["openssl"] + list(args), cwd=cwd, capture_output=True, timeout=60)
    if proc.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (" ".join(args), proc.stderr.decode()))


def _signed_cert(name, san, startdate=None, enddate=None):
    """A server key and certificate signed by the test CA of grpcdx_test.certs(), for `san`
    (an openssl subjectAltName value). With startdate/enddate (YYYYMMDDHHMMSSZ) it is made with
    `openssl ca`, which, unlike -days, can put the validity window in the past."""
    c = grpcdx_test.certs()
    d = os.path.join(grpcdx_test.tmpdir(), "probe-" + name)
    os.makedirs(d, exist_ok=True)
    key, csr, pem, ext = (os.path.join(d, "server" + s) for s in (".key", ".csr", ".pem", ".ext"))
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\nsubjectAltName=%s\nextendedKeyUsage=serverAuth\n" % san)
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", key, "-out", csr, "-subj", "/CN=" + name, cwd=d)
    if startdate is None:
        _openssl("x509", "-req", "-in", csr, "-CA", c.ca_cert, "-CAkey", c.ca_key, "-CAcreateserial",
                 "-out", pem, "-days", "2", "-extfile", ext, cwd=d)
        return pem, key
    with open(os.path.join(d, "index.txt"), "w"):
        pass
    with open(os.path.join(d, "serial"), "w") as f:
        f.write("1000\n")
    cnf = os.path.join(d, "ca.cnf")
    with open(cnf, "w") as f:
        f.write("[ca]\ndefault_ca = test_ca\n[test_ca]\ndatabase = %s\nnew_certs_dir = %s\n"
                "serial = %s\ndefault_md = sha256\npolicy = any\n[any]\ncommonName = supplied\n"
                % (os.path.join(d, "index.txt"), d, os.path.join(d, "serial")))
    _openssl("ca", "-batch", "-config", cnf, "-cert", c.ca_cert, "-keyfile", c.ca_key, "-in", csr,
             "-out", pem, "-startdate", startdate, "-enddate", enddate, "-extfile", ext, "-notext",
             cwd=d)
    return pem, key


def expired_cert():
    """(cert, key) for 127.0.0.1 signed by the test CA, valid from 2020-01-01 to 2020-02-01."""
    return _signed_cert("expired", "DNS:localhost,IP:127.0.0.1", "20200101000000Z", "20200201000000Z")


def other_name_cert():
    """(cert, key) signed by the test CA for other.example.com only."""
    return _signed_cert("other-name", "DNS:other.example.com")


# --- SRV: a DNS server and a scenario run inside a private network and mount namespace -------

class TinyDns:
    """A UDP DNS server on (host, port) answering from `srv` ({name: [(priority, weight, port,
    target)]}) and `a` ({name: "1.2.3.4"}): SRV and A questions get their records, other types of
    a known name get an empty answer, unknown names NXDOMAIN. Standard library only."""

    def __init__(self, srv, a, host="127.0.0.1", port=53):
        self.srv, self.a = srv, a
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.sock.settimeout(0.2)
        self.queries = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        self.sock.close()

    @staticmethod
    def _name(data, offset):
        labels = []
        while data[offset] != 0:
            n = data[offset]
            labels.append(data[offset + 1:offset + 1 + n].decode("ascii"))
            offset += 1 + n
        return ".".join(labels).lower(), offset + 1

    @staticmethod
    def _encode(name):
        out = b""
        for label in name.split("."):
            out += struct.pack("!B", len(label)) + label.encode("ascii")
        return out + b"\0"

    def answer(self, query):
        """The response to one query message (bytes in, bytes out)."""
        qid, _flags, qdcount = struct.unpack("!HHH", query[:6])
        name, end = self._name(query, 12)
        qtype, _qclass = struct.unpack("!HH", query[end:end + 4])
        question = query[12:end + 4]
        self.queries.append((name, qtype))
        records = []
        if qtype == 33:  # SRV
            for prio, weight, port, target in self.srv.get(name, []):
                rdata = struct.pack("!HHH", prio, weight, port) + self._encode(target)
                records.append((33, rdata))
        elif qtype == 1 and name in self.a:
            records.append((1, socket.inet_aton(self.a[name])))
        known = name in self.srv or name in self.a
        rcode = 0 if known else 3
        out = struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1, len(records), 0, 0) + question
        for rtype, rdata in records:
            out += struct.pack("!HHHIH", 0xC00C, rtype, 1, 60, len(rdata)) + rdata
        return out

    def _serve(self):
        while not self._stop.is_set():
            try:
                query, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                self.sock.sendto(self.answer(query), peer)
            except (IndexError, struct.error, UnicodeDecodeError):
                continue  # not a query we understand: no answer


def srv_scenario(probes):
    """Run inside `unshare -m -n` with lo up and /etc/resolv.conf saying nameserver 127.0.0.1:
    starts `grpcdx serve` on 127.0.0.1:0 and TinyDns on 127.0.0.1:53 with
    _grpc._tcp.svc.test -> a.svc.test (the server, priority 10) and b.svc.test (a closed port,
    priority 20, listed first), then runs `grpcdx probe ARGS` for each ARGS of `probes`.
    Returns {"serve": address, "closed": port, "runs": [{"rc", "out", "err"}...]}."""
    closed = grpcdx_test.free_port()
    with grpcdx_test.serve() as addr:
        port = int(addr.rsplit(":", 1)[1])
        srv = {"_grpc._tcp.svc.test": [(20, 100, closed, "b.svc.test"), (10, 5, port, "a.svc.test")]}
        a = {"a.svc.test": "127.0.0.1", "b.svc.test": "127.0.0.1"}
        with TinyDns(srv, a):
            runs = []
            for args in probes:
                proc = subprocess.run([grpcdx_test.binary(), "probe"] + args, capture_output=True, timeout=60)
                runs.append({"rc": proc.returncode, "out": proc.stdout.decode(), "err": proc.stderr.decode()})
    return {"serve": addr, "closed": closed, "runs": runs}


if __name__ == "__main__":
    import json
    import sys
    print(json.dumps(srv_scenario(json.loads(sys.argv[1]))))
