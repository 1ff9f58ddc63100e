#!/usr/bin/python3
"""docs/from-grpcurl.md cannot drift: every grpcdx flag it names exists on the commands of its
section, and every flag of grpcurl and grpc_health_probe (and ghz's common ones) has a row."""
import os
import re

import grpcdx_test as t

DOC = os.path.join(t.REPO, "docs", "from-grpcurl.md")

# grpcurl 1.8.7's and 1.9.1's flags, and grpc_health_probe 0.4's.
GRPCURL_FLAGS = """plaintext insecure cacert cert key servername authority H rpc-header reflect-header
expand-headers user-agent d format format-error emit-defaults allow-unknown-fields connect-timeout
max-time keepalive-time max-msg-sz proto import-path protoset protoset-out proto-out-dir
use-reflection msg-template unix v vv version help alts alts-handshaker-service
alts-target-service-account""".split()
HEALTH_PROBE_FLAGS = """addr service connect-timeout rpc-timeout tls tls-no-verify tls-ca-cert
tls-client-cert tls-client-key tls-server-name user-agent rpc-header v alts spiffe gzip""".split()
GHZ_FLAGS = """call insecure skipTLS cacert cert key cname authority proto protoset i d D m
reflect-metadata c n z r t connections connect-timeout keepalive skipFirst O o load-schedule load-start
load-end load-step load-step-duration load-max-duration concurrency-schedule concurrency-start
concurrency-end concurrency-step concurrency-step-duration concurrency-max-duration""".split()

SECTIONS = {"grpcurl": (["list", "describe", "call"], GRPCURL_FLAGS),
            "ghz": (["bench"], GHZ_FLAGS),
            "grpc_health_probe": (["health"], HEALTH_PROBE_FLAGS)}


def sections():
    """{tool: [(their cell, grpcdx cell)]} from the doc's tables, keyed by the heading's first word."""
    out, tool = {}, None
    with open(DOC) as f:
        for line in f:
            if line.startswith("## "):
                tool = line[3:].split()[0]
                out[tool] = []
            elif tool and line.startswith("| ") and not line.startswith("|---"):
                cells = [c.strip() for c in line.strip().strip("|").split("|")]
                if cells[0] in ("grpcurl", "ghz", "grpc_health_probe"):
                    continue  # the header row
                out[tool].append((cells[0], cells[1]))
    return out


def help_flags(command):
    rc, out, err = t.run([command, "--help"])
    assert rc == 0, err
    return set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", out))


class FromGrpcurlDoc(t.TestCase):
    def test_every_grpcdx_flag_exists(self):
        tables = sections()
        self.assertEqual(set(tables), set(SECTIONS))
        rc, out, err = t.run(["--version"])  # the one root flag the tables name
        self.assertEqual(rc, 0, err)
        for tool, (commands, _) in SECTIONS.items():
            known = {"--version"}
            for command in commands:
                known |= help_flags(command)
            for theirs, ours in tables[tool]:
                for code in re.findall(r"`([^`]*)`", ours):
                    for flag in re.findall(r"(?:^|\s)(--?[A-Za-z][\w-]*)", code):
                        self.assertIn(flag, known, "%s row %r names %s, which `grpcdx %s --help` lacks"
                                      % (tool, theirs, flag, "/".join(commands)))
                    words = code.split()
                    if len(words) >= 2 and words[0] == "grpcdx":
                        self.assertIn(words[1], commands + ["health"], code)

    def test_every_flag_of_theirs_has_a_row(self):
        tables = sections()
        for tool, (_, flags) in SECTIONS.items():
            covered = set()
            for theirs, _ in tables[tool]:
                for code in re.findall(r"`([^`]*)`", theirs):
                    covered |= set(re.findall(r"(?:^|[\s,])--?([A-Za-z][\w-]*)", code))
            missing = [f for f in flags if f not in covered]
            self.assertEqual(missing, [], "%s flags without a row in docs/from-grpcurl.md" % tool)


if __name__ == "__main__":
    t.main()
