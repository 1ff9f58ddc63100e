# Hostile HTTP/2 peers for the reliability tests (test_hostile.py): servers that break the
# protocol in the ways a misbehaving server or middlebox does. Built on raw_h2's Acceptor and
# serve_h2; standard library only. Each keeps its connections bounded in time.
import socket
import struct
import time

from raw_h2 import (DATA, END_HEADERS, GOAWAY, HEADERS, PING, PREFACE, RST_STREAM, SETTINGS,
                    WINDOW_UPDATE, Acceptor, frame, literal_header, read_frame, serve_h2)

GRPC_HEADERS = literal_header(":status", "200") + literal_header("content-type", "application/grpc")
INTERNAL_ERROR = 2


def read_preface(conn):
    """Reads the client's connection preface; False when the client went away first."""
    got = b""
    while len(got) < len(PREFACE):
        chunk = conn.recv(len(PREFACE) - len(got))
        if not chunk:
            return False
        got += chunk
    return True


def drain(conn, seconds, stopping):
    """Reads and discards what the client sends until it closes, `seconds` pass, or stopping()."""
    deadline = time.monotonic() + seconds
    conn.settimeout(0.2)
    while not stopping() and time.monotonic() < deadline:
        try:
            if not conn.recv(65536):
                return
        except socket.timeout:
            continue


class GarbageAfterPreface(Acceptor):
    """Sends a valid SETTINGS frame, then bytes that are not HTTP/2 (a frame header claiming a
    frame far above the maximum size)."""

    def handle(self, conn):
        if not read_preface(conn):
            return
        conn.sendall(frame(SETTINGS, 0, 0) + b"\xde\xad\xbe\xef" * 64)
        drain(conn, 10, lambda: self.stopping)


class NoSettings(Acceptor):
    """Accepts the connection and the preface, then never sends a byte (no SETTINGS at all)."""

    def handle(self, conn):
        if read_preface(conn):
            drain(conn, 30, lambda: self.stopping)


class ResetEveryStream(Acceptor):
    """A correct HTTP/2 server that answers every new stream with RST_STREAM(INTERNAL_ERROR)."""

    def __init__(self):
        super().__init__()
        self.resets = 0

    def handle(self, conn):
        def reset(conn, stream):
            self.resets += 1
            conn.sendall(frame(RST_STREAM, 0, stream, struct.pack(">I", INTERNAL_ERROR)))
        serve_h2(conn, reset, lambda: self.stopping)


class CloseMidMessage(Acceptor):
    """Answers a call with gRPC response headers and the first 100 bytes of a message whose
    length prefix says 1000, then closes the connection."""

    def handle(self, conn):
        def answer(conn, stream):
            message = b"\x00" + struct.pack(">I", 1000) + b"\x0a" * 100
            conn.sendall(frame(HEADERS, END_HEADERS, stream, GRPC_HEADERS) + frame(DATA, 0, stream, message))
            conn.shutdown(socket.SHUT_RDWR)
            raise OSError("closed on purpose")
        serve_h2(conn, answer, lambda: self.stopping)


class HugeMessage(Acceptor):
    """Answers a call with gRPC response headers and one message whose length prefix says
    `size` bytes (100 MB by default), then sends all of it as fast as the client's HTTP/2 flow
    control allows, until the client resets the stream or `size` bytes are out. `sent` counts
    the message bytes sent."""

    def __init__(self, size=100 * 1000 * 1000):
        super().__init__()
        self.size = size
        self.sent = 0

    def handle(self, conn):
        if not read_preface(conn):
            return
        conn.sendall(frame(SETTINGS, 0, 0))
        conn_window, initial_window = 65535, 65535
        windows, pending = {}, {}  # stream -> flow-control window, message bytes still to send
        chunk = b"\x0a" * 16384
        while not self.stopping:
            for stream in list(pending):
                while pending[stream] and conn_window > 0 and windows[stream] > 0:
                    n = min(16384, pending[stream], conn_window, windows[stream])
                    conn.sendall(frame(DATA, 0, stream, chunk[:n]))
                    pending[stream] -= n
                    conn_window -= n
                    windows[stream] -= n
                    self.sent += n
                if not pending[stream]:
                    del pending[stream]
            f = read_frame(conn)
            if f is None:
                return
            kind, flags, stream, payload = f
            if kind == SETTINGS and not flags & 1:
                for i in range(0, len(payload) - 5, 6):
                    key, value = struct.unpack(">HI", payload[i:i + 6])
                    if key == 4:  # SETTINGS_INITIAL_WINDOW_SIZE applies to open streams too
                        for s in windows:
                            windows[s] += value - initial_window
                        initial_window = value
                conn.sendall(frame(SETTINGS, 1, 0))
            elif kind == PING and not flags & 1:
                conn.sendall(frame(PING, 1, 0, payload))
            elif kind == WINDOW_UPDATE:
                increment = struct.unpack(">I", payload)[0] & 0x7FFFFFFF
                if stream == 0:
                    conn_window += increment
                elif stream in windows:
                    windows[stream] += increment
            elif kind == HEADERS and stream not in windows:
                windows[stream] = initial_window
                prefix = b"\x00" + struct.pack(">I", self.size)
                conn.sendall(frame(HEADERS, END_HEADERS, stream, GRPC_HEADERS) + frame(DATA, 0, stream, prefix))
                conn_window -= len(prefix)
                windows[stream] -= len(prefix)
                pending[stream] = self.size
            elif kind == RST_STREAM:
                pending.pop(stream, None)
            elif kind == GOAWAY:
                return
