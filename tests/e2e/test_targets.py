# Target forms and connection flags: unix sockets, IPv6 literals, gRPC URIs, --authority,
# --keepalive, --max-msg-size and --connect-timeout against real servers on loopback.
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpcdx_test as t  # noqa: E402
import probe_fixtures  # noqa: E402

UNARY = "grpc.testing.TestService/UnaryCall"


def ipv6_loopback():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


class TargetsTest(t.TestCase):
    def test_unix_socket(self):
        path = os.path.join(t.tmpdir(), "grpcdx-%d.sock" % os.getpid())
        with t.serve_at("unix:" + path) as address:
            self.assertEqual(address, "unix:" + path)
            out = self.assert_ok(t.run(["call", address, UNARY, "--plaintext", "-d", '{"responseSize": 2}']))
            self.assertIn('"body": "AAA="', out)
            self.assert_ok(t.run(["list", "unix://" + path, "--plaintext"]))

    def test_ipv6_literal(self):
        if not ipv6_loopback():
            self.skipTest("no IPv6 loopback on this machine")
        with t.serve_at("[::1]:0") as address:
            self.assertTrue(address.startswith("[::1]:"), address)
            self.assert_ok(t.run(["call", address, "grpc.testing.TestService/EmptyCall", "--plaintext"]))

    def test_grpc_uris(self):
        with t.serve() as address:
            for target in ("dns:///" + address, "ipv4:" + address):
                with self.subTest(target=target):
                    self.assert_ok(t.run(["call", target, "grpc.testing.TestService/EmptyCall", "--plaintext"]))

    def test_authority_and_keepalive_are_accepted(self):
        with t.serve() as address:
            self.assert_ok(t.run(["call", address, "grpc.testing.TestService/EmptyCall", "--plaintext",
                                  "--authority", "api.example.test", "--keepalive", "10s"]))

    def test_max_msg_size_rejects_a_larger_response(self):
        # The limit applies to every message received on the channel, reflection answers too
        # (as in grpcurl), so it is set above the size of the schema files here.
        with t.serve() as address:
            self.assert_ok(t.run(["call", address, UNARY, "--plaintext", "--max-msg-size", "64KB",
                                  "-d", '{"responseSize": 100}']))
            self.assert_fails(t.run(["call", address, UNARY, "--plaintext", "--max-msg-size", "64KB",
                                     "-d", '{"responseSize": 70000}']), 64 + 8,
                              ["RESOURCE_EXHAUSTED (8)", "larger than max"])

    def test_connect_timeout_bounds_a_connection_that_never_completes(self):
        # A listener whose accept queue is full: the kernel drops the SYN, nothing ever answers.
        with probe_fixtures.FullBacklog() as silent:
            start = time.monotonic()
            self.assert_fails(t.run(["call", silent.address, "grpc.testing.TestService/EmptyCall", "--plaintext",
                                     "--proto", "grpc/testing/test.proto", "-I", t.GRPC_PROTO_DIR,
                                     "--connect-timeout", "700ms"], timeout=30), 78,
                              ["UNAVAILABLE (14)", "could not connect to %s within 700ms" % silent.address])
            self.assertLess(time.monotonic() - start, 10)


if __name__ == "__main__":
    t.main()
