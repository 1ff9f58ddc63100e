# Minimal hand-made HTTP/2 servers for end-to-end tests: peers that answer in ways a real gRPC
# server would not (an HTTP error status without grpc-status, say). Standard library only.
import socket
import ssl
import struct
import threading

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE = 0, 1, 3, 4, 6, 7, 8
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def literal_header(name, value):
    """An HPACK literal header field without indexing, new name, no Huffman coding."""
    name, value = name.encode(), value.encode()
    assert len(name) < 127 and len(value) < 127
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def read_frame(conn):
    head = b""
    while len(head) < 9:
        chunk = conn.recv(9 - len(head))
        if not chunk:
            return None
        head += chunk
    length = struct.unpack(">I", b"\x00" + head[:3])[0]
    kind, flags = head[3], head[4]
    stream = struct.unpack(">I", head[5:9])[0] & 0x7FFFFFFF
    payload = b""
    while len(payload) < length:
        chunk = conn.recv(length - len(payload))
        if not chunk:
            return None
        payload += chunk
    return kind, flags, stream, payload


class Acceptor:
    """Accepts connections on a loopback socket in a thread and hands each to handle(conn).
    Use as a context manager; .address is host:port."""

    def __init__(self, backlog=16, family=socket.AF_INET, host="127.0.0.1"):
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(backlog)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.address = ("[%s]:%d" if family == socket.AF_INET6 else "%s:%d") % (host, self.port)
        self.stopping = False
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping = True
        self.thread.join(5)
        self.sock.close()

    def _loop(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self._guarded, args=(conn,), daemon=True).start()

    def _guarded(self, conn):
        conn.settimeout(10)
        try:
            self.handle(conn)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def handle(self, conn):
        raise NotImplementedError


def serve_h2(conn, on_request, stopping=lambda: False):
    """Runs the server side of one HTTP/2 connection: reads the preface, sends SETTINGS,
    acknowledges SETTINGS and PINGs, and calls on_request(conn, stream) once for each new
    stream's HEADERS. Returns when the peer closes or stopping() is true."""
    got = b""
    while len(got) < len(PREFACE):
        chunk = conn.recv(len(PREFACE) - len(got))
        if not chunk:
            return
        got += chunk
    conn.sendall(frame(SETTINGS, 0, 0))
    seen = set()
    while not stopping():
        f = read_frame(conn)
        if f is None:
            return
        kind, flags, stream, payload = f
        if kind == SETTINGS and not flags & ACK:
            conn.sendall(frame(SETTINGS, ACK, 0))
        elif kind == PING and not flags & ACK:
            conn.sendall(frame(PING, ACK, 0, payload))
        elif kind == HEADERS and stream not in seen:
            seen.add(stream)
            on_request(conn, stream)


class HttpStatusServer(Acceptor):
    """Answers every HTTP/2 request with the given :status and a text body, and no grpc-status,
    as a proxy's error page would."""

    def __init__(self, status, body="upstream connect error"):
        super().__init__()
        self.status = status
        self.body = body.encode()

    def handle(self, conn):
        def answer(conn, stream):
            block = literal_header(":status", str(self.status)) + literal_header("content-type", "text/plain")
            conn.sendall(frame(HEADERS, END_HEADERS, stream, block) + frame(DATA, END_STREAM, stream, self.body))
        serve_h2(conn, answer, lambda: self.stopping)
