# Cross-checks `grpcdx compat` against `buf breaking` (npm @bufbuild/buf, tests/peers/node): for each
# schema pair of compat_pairs.py, both ways round, with buf's WIRE rules and with WIRE_JSON (grpcdx's
# --json), every rule buf reports must be reported by grpcdx too. buf's answers do not depend on how
# grpcdx is built, so scripts/test-all runs this test (label `crosscheck`) in the Release pass only.
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpcdx_test as t  # noqa: E402
from compat_pairs import PAIRS, CompatCase, protoset  # noqa: E402

BUF = os.path.join(t.REPO, "tests", "peers", "node", "node_modules", ".bin", "buf")

# buf's rules whose finding grpcdx reports under another of buf's names (docs/compat.md): deletions
# are reported whether or not the number or name is reserved (the data is dropped either way), and a
# change between optional and required is a change of the required fields.
BUF_TO_GRPCDX = {
    "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED": {"FIELD_NO_DELETE"},
    "FIELD_NO_DELETE_UNLESS_NAME_RESERVED": {"FIELD_NO_DELETE"},
    "ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED": {"ENUM_VALUE_NO_DELETE"},
    "ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED": {"ENUM_VALUE_NO_DELETE"},
    "FIELD_WIRE_COMPATIBLE_CARDINALITY": {"FIELD_SAME_CARDINALITY", "MESSAGE_SAME_REQUIRED_FIELDS"},
    "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY": {"FIELD_SAME_CARDINALITY", "MESSAGE_SAME_REQUIRED_FIELDS"},
}

_buf_results = {}


def buf_rules(new, old, category):
    """The rule IDs `buf breaking NEW --against OLD` reports with the category's rules (memoized)."""
    key = (new, old, category)
    if key not in _buf_results:
        _buf_results[key] = _run_buf(new, old, category)
    return _buf_results[key]


def prefetch_buf():
    """Runs every buf comparison the pair tests need, four at a time (buf takes most of the time)."""
    from concurrent.futures import ThreadPoolExecutor
    keys = [(protoset(p, server), protoset(p, client), category) for p in PAIRS
            for client, server in (("v1", "v2"), ("v2", "v1")) for category in ("WIRE", "WIRE_JSON")]
    keys = [k for k in keys if k not in _buf_results]
    with ThreadPoolExecutor(4) as pool:
        for key, rules in zip(keys, pool.map(lambda k: _run_buf(*k), keys)):
            _buf_results[key] = rules


def _run_buf(new, old, category):
    if not os.path.exists(BUF):
        raise AssertionError("%s is missing: run scripts/install-deps (npm ci in tests/peers/node)" % BUF)
    config = "version: v2\nbreaking:\n  use:\n    - %s\n" % category
    proc = subprocess.run([BUF, "breaking", new, "--against", old, "--config", config, "--error-format", "json"],
                          capture_output=True, text=True, timeout=120, env=dict(os.environ, BUF_CACHE_DIR=os.path.join(t.tmpdir(), "buf-cache")))
    if proc.returncode not in (0, 100):
        raise AssertionError("buf breaking failed (%d): %s" % (proc.returncode, proc.stderr))
    return {json.loads(line)["type"] for line in proc.stdout.splitlines() if line.strip()}


class CompatBuf(CompatCase):
    """The pairs: test_PAIR__buf_both_ways, added below."""

    @classmethod
    def setUpClass(cls):
        prefetch_buf()

    def assert_covers_buf(self, report, buf, what):
        ours = {f["rule"] for f in report["findings"]}
        for rule in buf:
            wanted = BUF_TO_GRPCDX.get(rule, {rule})
            self.assertTrue(wanted & ours, "%s: buf reports %s, grpcdx only %s" % (what, rule, sorted(ours)))


def add_pair_tests():
    for pair in PAIRS:
        def both_ways_with_buf(self, pair=pair):
            for client, server in (("v1", "v2"), ("v2", "v1")):
                for category, extra in (("WIRE", []), ("WIRE_JSON", ["--json"])):
                    _, report = self.compat_json(["--server-protoset", protoset(pair, server),
                                                  "--protoset", protoset(pair, client)] + extra)
                    buf = buf_rules(protoset(pair, server), protoset(pair, client), category)
                    self.assert_covers_buf(report, buf, "%s, client %s, server %s (%s)" % (pair, client, server, category))

        both_ways_with_buf.__name__ = "test_%s__buf_both_ways" % pair
        setattr(CompatBuf, both_ways_with_buf.__name__, both_ways_with_buf)


add_pair_tests()


if __name__ == "__main__":
    t.main()
