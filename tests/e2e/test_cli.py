# End-to-end tests of the error contract: usage errors exit 2, local failures exit 1, unreachable
# targets exit 78, and every error is one stderr line starting with "error:", never a crash.
import os
import socket
import time

import grpcdx_test as t

SVC = "grpc.testing.TestService"
_servers = {}
_stack = None


def setUpModule():
    global _stack
    import contextlib
    _stack = contextlib.ExitStack()


def tearDownModule():
    _stack.close()


def server(*flags):
    """A `grpcdx serve` shared by the tests of this file, one per set of flags."""
    if flags not in _servers:
        _servers[flags] = _stack.enter_context(t.serve(*flags))
    return _servers[flags]


class Usage(t.TestCase):
    def test_no_arguments_prints_help(self):
        rc, out, err = t.run([])
        self.assertEqual(rc, 2)
        self.assertIn("list", out + err)
        self.assert_clean_stderr(err)

    def test_help_exits_zero(self):
        for args in (["--help"], ["call", "--help"], ["list", "--help"]):
            rc, out, err = t.run(args)
            self.assertEqual(rc, 0, (args, err))
            self.assertIn("--plaintext" if args != ["--help"] else "call", out)

    def test_unknown_command(self):
        self.assert_fails(t.run(["nosuchcommand"]), 2)

    def test_unknown_flag(self):
        self.assert_fails(t.run(["list", "127.0.0.1:1", "--plaintext", "--no-such-flag"]), 2,
                          "--no-such-flag")

    def test_missing_target(self):
        self.assert_fails(t.run(["list", "--plaintext"]), 2)

    def test_header_without_value(self):
        self.assert_fails(t.run(["call", server(), SVC + "/EmptyCall", "--plaintext",
                                 "-H", "novalue"]), 2, "novalue")

    def test_bad_bin_header(self):
        self.assert_fails(t.run(["call", server(), SVC + "/EmptyCall", "--plaintext",
                                 "-H", "x-bin: ***"]), 2, "x-bin")

    def test_bad_duration(self):
        for flag in ("--connect-timeout", "--timeout", "--keepalive"):
            with self.subTest(flag):
                self.assert_fails(t.run(["call", server(), SVC + "/EmptyCall", "--plaintext",
                                         flag, "10"]), 2, "invalid duration '10'")
        self.assert_fails(t.run(["list", server(), "--plaintext", "--timeout", "5parsecs"]), 2,
                          "5parsecs")

    def test_durations_and_rates_that_would_overflow_a_clock(self):
        # now() + 2562047h overflows int64 nanoseconds: such durations are refused up front.
        for argv in (["call", server(), SVC + "/EmptyCall", "--plaintext", "--timeout", "2562047h"],
                     ["health", server(), "--plaintext", "--timeout", "100000h1s"],
                     ["chaos", "--listen", "127.0.0.1:0", "--target", server(), "--duration", "200000h"]):
            with self.subTest(argv[0]):
                self.assert_fails(t.run(argv), 2, "too large (at most 100000h)")
        for rps in ("nan", "inf", "-1"):
            with self.subTest(rps=rps):
                self.assert_fails(t.run(["bench", server(), SVC + "/EmptyCall", "--plaintext", "-n", "1",
                                         "--rps", rps]), 2, "--rps: expected a number from 0 to 1000000000")
        # The longest accepted timeout works like any other.
        rc, out, err = t.run(["call", server(), SVC + "/EmptyCall", "--plaintext", "--timeout", "100000h"])
        self.assertEqual(rc, 0, err)

    def test_bad_target(self):
        for command in (["list"], ["describe"], ["call"]):
            with self.subTest(command[0]):
                args = command + ["nonsense", "--plaintext"]
                args += {"list": [], "describe": [SVC], "call": [SVC + "/EmptyCall"]}[command[0]]
                self.assert_fails(t.run(args), 2, "invalid target 'nonsense'")
        self.assert_fails(t.run(["list", "localhost:99999", "--plaintext"]), 2, "99999")

    def test_bad_output_format(self):
        self.assert_fails(t.run(["list", server(), "--plaintext", "-o", "yaml"]), 2, "yaml")

    def test_bad_max_msg_size(self):
        self.assert_fails(t.run(["list", server(), "--plaintext", "--max-msg-size", "lots"]), 2,
                          "lots")

    def test_plaintext_with_tls_flags(self):
        self.assert_fails(t.run(["list", server(), "--plaintext", "--insecure"]), 2, "--plaintext")

    def test_cert_without_key(self):
        c = t.certs()
        self.assert_fails(t.run(["list", server(), "--cacert", c.ca_cert, "--cert",
                                 c.client_cert]), 2, "--key")


class FlagOrder(t.TestCase):
    """SPEC: flags may come before or after positional arguments, repeatable ones included."""

    def test_repeatable_flags_before_positionals(self):
        addr = server("--reflection", "none")
        schema = ["--proto", "grpc/testing/test.proto", "-I", t.GRPC_PROTO_DIR]
        cases = {
            "call: -I before METHOD": ["call", addr, "--plaintext"] + schema +
                                      [SVC + "/EmptyCall", "-o", "json"],
            "call: -H before METHOD": ["call", addr, "--plaintext", "-H", "a: b",
                                       SVC + "/EmptyCall", "-o", "json"] + schema,
            "call: everything before TARGET": ["call", "--plaintext", "-H", "a: b"] + schema +
                                              [addr, SVC + "/EmptyCall"],
            "describe: --proto before SYMBOL": ["describe", addr, "--plaintext", "--proto",
                                                "grpc/testing/test.proto", "-I", t.GRPC_PROTO_DIR,
                                                SVC, "-o", "json"],
            "list: --protoset before SERVICE": ["list", addr, "--plaintext", "--protoset",
                                                t.make_protoset(), SVC, "-o", "json"],
        }
        for name, args in cases.items():
            with self.subTest(name):
                self.assert_ok(t.run(args))


class NamedFlagsOnly(t.TestCase):
    """list, describe and call declare only the flags their command line names (start-up, issue 2):
    every spelling of a flag, help and errors must come out as with the whole definition."""

    def test_spellings_of_one_flag_parse_alike(self):
        addr = server()
        unary = [SVC + "/UnaryCall", "--plaintext"]
        for spelling in (["-o", "json"], ["-ojson"], ["--output", "json"], ["--output=json"]):
            with self.subTest(spelling=spelling):
                out = self.assert_ok(t.run(["list", addr, "--plaintext"] + spelling))
                self.assertIn('"grpc.testing.TestService"', out)
                out = self.assert_ok(t.run(["call", addr] + unary + spelling + ["--data={}"]))
                self.assertIn('"event":"status"', out)
        # A cluster of short flags: -v and -o json.
        rc, out, err = t.run(["call", addr] + unary + ["-vo", "json", "-d", "{}"])
        self.assertEqual(rc, 0, err)
        self.assertIn('"timing"', out)
        self.assertIn('"AAA="', self.assert_ok(t.run(["call", addr] + unary + ["-d", '{"responseSize": 2}'])))
        rc, out, err = t.run(["call", addr] + unary + ["--data", "@-", "-o", "json"],
                             input=b'{"responseSize": 2}')
        self.assertEqual(rc, 0, err)
        self.assertIn('"AAA="', out)

    def test_help_names_every_flag(self):
        for args in (["call", "--help"], ["call", server(), SVC + "/UnaryCall", "--plaintext", "-h"]):
            with self.subTest(args=args):
                rc, out, err = t.run(args)
                self.assertEqual(rc, 0, err)
                for flag in ("--connect-timeout", "--record", "--on-stall", "--protoset", "--emit-defaults",
                             "--max-msg-size", "--show-secrets", "--output"):
                    self.assertIn(flag, out)
        rc, out, err = t.run(["list", server(), "--plaintext", "--help"])
        self.assertEqual(rc, 0, err)
        self.assertIn("--import-path", out)

    def test_errors_are_the_whole_definitions(self):
        self.assert_fails(t.run(["list", server(), "--plaintext", "--no-such-flag"]), 2,
                          "error: The following argument was not expected: --no-such-flag (see 'grpcdx list --help')")
        self.assert_fails(t.run(["call", server(), SVC + "/UnaryCall", "--plaintext", "--on-stall", "never"]), 2,
                          "--on-stall")
        self.assert_fails(t.run(["call", server(), SVC + "/UnaryCall", "--plaintext", "--max-messages", "-1"]), 2,
                          "--max-messages")
        # After "--" everything is positional, as with the whole definition.
        self.assert_fails(t.run(["list", server(), "--plaintext", "--", "--bogus"]), 1,
                          "service '--bogus' not found")


class LocalFailures(t.TestCase):
    def call(self, method, *args, input=None):
        return t.run(["call", server(), method, "--plaintext"] + list(args), input=input)

    def test_malformed_json(self):
        self.assert_fails(self.call(SVC + "/UnaryCall", "-d", '{"responseSize": '), 1)
        self.assert_fails(self.call(SVC + "/UnaryCall", "-d", "not json"), 1)

    def test_unknown_field(self):
        self.assert_fails(self.call(SVC + "/UnaryCall", "-d", '{"noSuchField": 1}'), 1,
                          "noSuchField")

    def test_wrong_field_type(self):
        self.assert_fails(self.call(SVC + "/UnaryCall", "-d", '{"responseSize": "ten"}'), 1)

    def test_unknown_method(self):
        self.assert_fails(self.call(SVC + "/NoSuchMethod"), 1, "NoSuchMethod")

    def test_unknown_service(self):
        self.assert_fails(self.call("grpc.testing.NoSuchService/EmptyCall"), 1,
                          "grpc.testing.NoSuchService")

    def test_missing_data_file(self):
        missing = os.path.join(t.tmpdir(), "does-not-exist.json")
        self.assert_fails(self.call(SVC + "/UnaryCall", "-d", "@" + missing), 1, missing)

    def test_several_messages_to_unary(self):
        self.assert_fails(self.call(SVC + "/UnaryCall", "-d", '{"responseSize": 1} {"responseSize": 2}'), 1)
        self.assert_fails(self.call(SVC + "/StreamingOutputCall", "-d", "{}\n{}\n"), 1)
        self.assert_fails(self.call(SVC + "/UnaryCall", "-d", "@-", input="{}\n{}\n"), 1)

    def test_no_reflection_without_schema(self):
        addr = server("--reflection", "none")
        for args in (["list", addr], ["describe", addr, SVC], ["call", addr, SVC + "/EmptyCall"]):
            with self.subTest(args[0]):
                self.assert_fails(t.run(args + ["--plaintext"]), 1, "--proto")

    def test_unreadable_proto(self):
        missing = os.path.join(t.tmpdir(), "missing.proto")
        self.assert_fails(t.run(["list", server(), "--plaintext", "--proto", missing]), 1)

    def test_bad_protoset(self):
        bogus = t.write_file("bogus.protoset", b"\xff\xfe this is not a FileDescriptorSet")
        self.assert_fails(t.run(["list", server(), "--plaintext", "--protoset", bogus]), 1)


class Unreachable(t.TestCase):
    def test_nothing_listening(self):
        port = t.free_port()
        target = "127.0.0.1:%d" % port
        with self.subTest("call"):
            line = self.assert_fails(t.run(["call", target, SVC + "/EmptyCall", "--plaintext",
                                            "--proto", "grpc/testing/test.proto",
                                            "-I", t.GRPC_PROTO_DIR]), 78, "UNAVAILABLE")
            self.assertRegex(line.lower(), r"refused|failed to connect")
        with self.subTest("list"):
            line = self.assert_fails(t.run(["list", target, "--plaintext"]), 78)
            self.assertRegex(line.lower(), r"refused|failed to connect")

    def test_unix_socket_missing(self):
        path = os.path.join(t.tmpdir(), "no-such.sock")
        self.assert_fails(t.run(["list", "unix:" + path, "--plaintext"]), 78)

    def test_connect_timeout(self):
        """A peer that accepts TCP but never speaks TLS: --connect-timeout bounds the wait."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)  # the kernel completes handshakes; nobody ever reads
        try:
            target = "127.0.0.1:%d" % listener.getsockname()[1]
            started = time.monotonic()
            rc, out, err = t.run(["list", target, "--connect-timeout", "300ms"], timeout=20)
            elapsed = time.monotonic() - started
            self.assertEqual(rc, 78, err)
            self.assert_error_line(err)
            # Without the timeout the wait never ends (run() gives up at 20 s); 15 s leaves room
            # for a loaded machine's start-up.
            self.assertLess(elapsed, 15, "a 300ms connect timeout took %.1fs" % elapsed)
        finally:
            listener.close()


class Serve(t.TestCase):
    def test_serve_prints_address_and_answers(self):
        with t.serve() as addr:
            self.assertRegex(addr, r"^127\.0\.0\.1:\d+$")
            self.assertNotEqual(addr, "127.0.0.1:0")
            rc, out, err = t.run(["call", addr, SVC + "/EmptyCall", "--plaintext"])
            self.assertEqual(rc, 0, err)

    def test_serve_bad_listen_address(self):
        self.assert_fails(t.run(["serve", "--listen", "nonsense"], timeout=20), 2)


class Version(t.TestCase):
    def test_version(self):
        out = self.assert_ok(t.run(["version"]))
        self.assertRegex(out, r"(?m)^grpcdx \d+\.\d+\.\d+$")
        self.assertRegex(out, r"(?m)^grpc \d+\.\d+\.\d+")
        self.assertRegex(out, r"(?m)^protobuf \d+\.\d+\.\d+")


if __name__ == "__main__":
    t.main()
