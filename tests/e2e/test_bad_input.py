# End-to-end tests of bad input (issue 17): numeric and duration flags out of range (exit 2),
# directories where a file is wanted and request JSON the proto3 mapping forbids (exit 1), `-d @`
# as standard input, the 4 MiB default of --max-msg-size, and "did you mean" for unknown names.
# Each is one `error:` line on stderr, never a hang or a crash.
import json
import os

import grpcdx_test as t

SVC = "grpc.testing.TestService"
UNARY = SVC + "/UnaryCall"


class NumericFlags(t.ServedTestCase):
    def test_counts_out_of_range_are_usage_errors(self):
        a = self.address
        cases = [
            (["bench", a, UNARY, "-n", "-5"], "--total: expected a whole number from 1 to 1000000000000, got '-5'"),
            (["bench", a, UNARY, "-n", "99999999999999999999"],
             "--total: expected a whole number from 1 to 1000000000000, got '99999999999999999999'"),
            (["bench", a, UNARY, "-n", "0"], "--total: expected a whole number from 1"),
            (["bench", a, UNARY, "-n", "0x10"], "--total: expected a whole number from 1"),
            (["bench", a, UNARY, "-c", "1000000000"], "--concurrency: expected a whole number from 1 to 100000"),
            (["bench", a, UNARY, "-c", "0"], "--concurrency: expected a whole number from 1 to 100000"),
            (["bench", a, UNARY, "--connections", "-1"], "--connections: expected a whole number from 1 to 10000"),
            (["bench", a, UNARY, "--rps", "-1"], "--rps: expected a number from 0 to 1000000000, got '-1'"),
            (["bench", a, UNARY, "--rps", "nan"], "--rps: expected a number from 0 to 1000000000, got 'nan'"),
            (["bench", a, UNARY, "--max-error-rate", "101"], "--max-error-rate: expected a number from 0 to 100"),
            (["call", a, UNARY, "--max-messages", "0"], "--max-messages: expected a whole number from 1 to 2147483647"),
            (["call", a, UNARY, "--max-messages", "-3"], "--max-messages: expected a whole number from 1"),
            (["health", a, "--watch", "--count", "-1"], "--count: expected a whole number from 1 to 2147483647"),
            (["probe", a, "--watch", "1s", "--count", "0"], "--count: expected a whole number from 1 to 2147483647"),
            (["chaos", "--listen", "127.0.0.1:0", "--target", a, "--seed", "-1"],
             "--seed: expected a whole number from 0 to 18446744073709551615, got '-1'"),
            (["chaos", "--listen", "127.0.0.1:0", "--target", a, "--max-active", "99999999999999999999"],
             "--max-active: expected a whole number from 1 to 1000000"),
            (["chaos", "--listen", "127.0.0.1:0", "--target", a, "--fault", "drop,limit=0"], "invalid limit '0'"),
            (["chaos", "--listen", "127.0.0.1:0", "--target", a, "--fault", "drop,pct=-1"], "invalid pct '-1'"),
        ]
        for args, contains in cases:
            with self.subTest(args=args):
                self.assert_fails(t.run(args + ["--plaintext"], timeout=15), 2, contains)

    def test_durations_out_of_range_are_usage_errors(self):
        a = self.address
        cases = [
            (["call", a, UNARY, "--connect-timeout", "0"], "invalid --connect-timeout: duration '0' must be positive (up to 100000h)"),
            (["call", a, UNARY, "--keepalive", "0"], "invalid --keepalive: duration '0' must be positive"),
            (["call", a, UNARY, "--timeout", "-1s"], "invalid --timeout: invalid duration '-1s': must not be negative"),
            (["call", a, UNARY, "--timeout", "200000h"], "invalid --timeout: invalid duration '200000h': too large"),
            (["call", a, UNARY, "--stall-timeout", "0"], "invalid --stall-timeout '0'"),
            (["bench", a, UNARY, "-z", "-1s"], "invalid -z: invalid duration '-1s': must not be negative"),
            (["bench", a, UNARY, "--warmup", "-1s"], "invalid --warmup: invalid duration '-1s': must not be negative"),
            (["chaos", "--listen", "127.0.0.1:0", "--target", a, "--duration", "0"],
             "invalid --duration: duration '0' must be positive"),
            (["probe", a, "--watch", "0"], "--watch needs a positive interval"),
            (["replay", a, UNARY, "--in", "/dev/null", "--pace", "-5/s"], "invalid --pace '-5/s'"),
        ]
        for args, contains in cases:
            with self.subTest(args=args):
                self.assert_fails(t.run(args + ["--plaintext"], timeout=15), 2, contains)

    def test_sizes_out_of_range_are_usage_errors(self):
        for size in ("-5", "99999999999GiB", "3GiB", "4XB"):
            with self.subTest(size=size):
                self.assert_fails(t.run(["call", self.address, UNARY, "--plaintext", "--max-msg-size", size]), 2,
                                  "invalid --max-msg-size: invalid size '%s'" % size)


class FileFlags(t.ServedTestCase):
    def test_a_directory_is_not_a_file(self):
        d = t.tmpdir()
        a = self.address
        cases = [
            (["call", a, UNARY, "--plaintext", "-d", "@" + d], "cannot read request file '%s': it is a directory" % d),
            (["bench", a, UNARY, "--plaintext", "-d", "@" + d], "it is a directory"),
            (["replay", a, UNARY, "--plaintext", "--in", d], "cannot read replay file '%s': it is a directory" % d),
            (["list", a, "--plaintext", "--protoset", d], "it is a directory"),
            (["list", a, "--proto", d], "cannot read proto file '%s': it is a directory" % d),
            (["list", a, "--cacert", d], "cannot read CA bundle '%s': it is a directory" % d),
            (["call", a, UNARY, "--cert", d, "--key", d], "it is a directory"),
            (["chaos", "--listen", "127.0.0.1:0", "--target", a, "--plaintext", "--rules", d],
             "cannot read rules file '%s': it is a directory" % d),
            (["serve", "--listen", "127.0.0.1:0", "--tls-cert", d, "--tls-key", d], "it is a directory"),
        ]
        for args, contains in cases:
            with self.subTest(args=args):
                self.assert_fails(t.run(args, timeout=15), 1, contains)

    def test_data_at_alone_reads_stdin(self):
        out = self.assert_ok(t.run(["call", self.address, UNARY, "--plaintext", "-d", "@", "-o", "json"],
                                   input='{"responseSize": 3}'))
        self.assertEqual(t.events(out, "message")[0]["message"]["payload"]["body"], "AAAA")
        # A client stream reads it message by message, as with @-.
        out = self.assert_ok(t.run(["call", self.address, SVC + "/StreamingInputCall", "--plaintext", "-d", "@",
                                    "-o", "json"],
                                   input='{"payload": {"body": "AAAA"}}\n{"payload": {"body": "AA=="}}\n'))
        self.assertEqual(t.events(out, "message")[0]["message"]["aggregatedPayloadSize"], 4)
        # Errors name standard input.
        self.assert_fails(t.run(["call", self.address, UNARY, "--plaintext", "-d", "@"], input="{"), 1,
                          "standard input")


class RequestJson(t.ServedTestCase):
    def test_json_the_mapping_forbids_is_refused_before_the_call(self):
        cases = [
            ('{"responseParameters": {"size": 1}}',
             "field 'response_parameters' is repeated: it needs a JSON array, not an object"),
            ('{"responseParameters": [{"size": 1}, null]}', "'response_parameters[1]' is null"),
            ('{"responseType": "COMPRESSABLE", "responseType": "COMPRESSABLE"}', "key 'responseType' is given twice"),
            ('{"response_type": "COMPRESSABLE", "responseType": "COMPRESSABLE"}',
             "field 'response_type' is given twice (as 'response_type' and 'responseType')"),
        ]
        for data, contains in cases:
            with self.subTest(data=data):
                err = self.assert_fails(t.run(["call", self.address, SVC + "/StreamingOutputCall", "--plaintext",
                                               "-d", data]), 1, contains)
                self.assertIn("invalid JSON for grpc.testing.StreamingOutputCallRequest", err)
        self.assert_fails(t.run(["bench", self.address, SVC + "/StreamingOutputCall", "--plaintext", "-n", "1",
                                 "-d", cases[0][0]]), 1, cases[0][1])

    def test_spec_legal_forms_still_work(self):
        self.assert_ok(t.run(["call", self.address, SVC + "/StreamingOutputCall", "--plaintext", "-d",
                              '{"responseParameters": [{"size": "2"}], "responseType": 0, "payload": null}']))


class MaxMessageSize(t.ServedTestCase):
    BIG = json.dumps({"responseSize": 5 * 1024 * 1024})

    def test_default_is_4_mib_with_a_hint(self):
        err = self.assert_fails(t.run(["call", self.address, UNARY, "--plaintext", "-d", self.BIG]), 72,
                                "RESOURCE_EXHAUSTED")
        self.assertIn("--max-msg-size", err)

    def test_zero_is_no_limit_and_a_larger_limit_passes(self):
        for size in ("0", "8MiB"):
            with self.subTest(size=size):
                out = self.assert_ok(t.run(["call", self.address, UNARY, "--plaintext", "-d", self.BIG,
                                            "--max-msg-size", size, "-o", "json"]))
                self.assertIn('"event":"status"', out.replace(" ", ""))

    def test_bench_counts_resource_exhausted(self):
        out = self.assert_ok(t.run(["bench", self.address, UNARY, "--plaintext", "-d", self.BIG, "-n", "2",
                                    "-c", "1", "-o", "json"]))
        self.assertEqual(json.loads(out)["status"], {"RESOURCE_EXHAUSTED": 2})


class DidYouMean(t.ServedTestCase):
    def test_unknown_names_list_the_closest(self):
        a = self.address
        replay_file = t.write_file("empty.jsonl", "")
        cases = [
            (["call", a, SVC + "/UnaryCal"], "method 'UnaryCal' not found in service 'grpc.testing.TestService'; "
                                             "did you mean grpc.testing.TestService/UnaryCall?"),
            (["call", a, "grpc.testing.TestServic/UnaryCall"],
             "service 'grpc.testing.TestServic' not found; did you mean grpc.testing.TestService/UnaryCall?"),
            (["call", a, "TestService/UnaryCall"],
             "service 'TestService' not found; did you mean grpc.testing.TestService/UnaryCall?"),
            (["bench", a, SVC + "/unarycall", "-n", "1"], "did you mean grpc.testing.TestService/UnaryCall?"),
            (["replay", a, SVC + "/EmptyCal", "--in", replay_file], "did you mean grpc.testing.TestService/EmptyCall?"),
            (["list", a, "grpc.testing.TestServices"],
             "service 'grpc.testing.TestServices' not found; did you mean grpc.testing.TestService?"),
            (["describe", a, "grpc.testing.SimpleRequst"],
             "symbol 'grpc.testing.SimpleRequst' not found; did you mean grpc.testing.SimpleRequest?"),
            (["describe", a, "grpc.health.v1.Health.Chek"], "did you mean grpc.health.v1.Health/Check?"),
        ]
        for args, contains in cases:
            with self.subTest(args=args):
                self.assert_fails(t.run(args + ["--plaintext"]), 1, contains)

    def test_nothing_close_keeps_the_plain_error(self):
        err = self.assert_fails(t.run(["call", self.address, "foo.Bar/Baz", "--plaintext"]), 1,
                                "service 'foo.Bar' not found")
        self.assertNotIn("did you mean", err)


if __name__ == "__main__":
    t.main()
