# Every command against a grpc-js server whose reflection (@grpc/reflection) describes a
# @grpc/proto-loader package definition (tests/peers/node/server.js): the descriptors it sends
# need repairs (map entry names, relative type names, no imports, proto3 optional), which -v names.
import base64
import json
import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpcdx_test as t  # noqa: E402

PEER_DIR = os.path.join(t.REPO, "tests", "peers", "node")
TEST = "grpc.testing.TestService"
INTEROP_CASES = 14

ITEM = {
    "sku": "A-1",
    "size": {"width": 2.5, "height": 4, "unit": "MM"},
    "labels": {"brand": "acme", "tier": "gold"},
    "variants": {"3": {"width": 1.5, "unit": "INCH"}, "-7": {"height": 9}},
    "colourByRegion": {"eu": "RED", "us": "GREEN"},
    "stock": "0",
    "updated": "2024-01-02T03:04:05Z",
    "colours": ["GREEN", "RED"],
}


def node_server():
    """Context manager: `node tests/peers/node/server.js`; yields its address."""
    node = shutil.which("node")
    if node is None:
        raise AssertionError("node is not installed: run scripts/install-deps")
    if not os.path.isdir(os.path.join(PEER_DIR, "node_modules", "@grpc", "reflection")):
        raise AssertionError("%s/node_modules is missing: run scripts/install-deps "
                             "(or npm ci in that directory)" % PEER_DIR)
    return t._server([node, os.path.join(PEER_DIR, "server.js")], "node server.js")


def body_size(message):
    return len(base64.b64decode(message.get("payload", {}).get("body", "")))


class NodePeerTest(t.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._server = node_server()
        cls.address = cls._server.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls._server.__exit__(None, None, None)

    def grpcdx(self, *args, timeout=30):
        return t.run([args[0], self.address, "--plaintext"] + list(args[1:]), timeout=timeout)

    def call(self, method, data, *extra):
        out = self.assert_ok(self.grpcdx("call", method, "-d", data, "-o", "json", *extra))
        self.assertEqual(t.events(out, "status")[0]["code"], 0, out)
        return [e["message"] for e in t.events(out, "message")]

    def test_compat_with_the_protos_it_serves(self):
        # grpc-js's reflection needs repairs (map entry names, relative type names); after them the
        # schema it describes is the one its protos define.
        out = self.assert_ok(self.grpcdx("compat", "--proto", "grpc/testing/test.proto", "-I", t.GRPC_PROTO_DIR,
                                         "--service", TEST))
        self.assertTrue(out.endswith("\ncompatible: 0 errors, 0 warnings (1 service, 8 methods, 14 messages, "
                                     "2 enums checked)\n"), out)

    def test_list(self):
        out = self.assert_ok(self.grpcdx("list"))
        services = out.split()
        for name in (TEST, "grpc.health.v1.Health", "peer.v1.Catalog"):
            self.assertIn(name, services)
        out = self.assert_ok(self.grpcdx("list", TEST))
        self.assertIn("%s.FullDuplexCall" % TEST, out.split())

    def test_describe_prints_map_fields_as_maps(self):
        out = self.assert_ok(self.grpcdx("describe", "grpc.testing.LoadBalancerStatsResponse"))
        self.assertIn("map<string, int32> rpcs_by_peer = 1;", out)
        self.assertIn("map<string, grpc.testing.LoadBalancerStatsResponse.RpcsByPeer> rpcs_by_method = 3;", out)
        self.assertNotIn("Entry", out)
        out = self.assert_ok(self.grpcdx("describe", "peer.v1.Item"))
        for line in ("map<string, string> labels = 3;",
                     "map<int32, peer.v1.Item.Dimensions> variants = 4;",
                     "map<string, peer.v1.Colour> colour_by_region = 5;",
                     "optional int64 stock = 6;",
                     "google.protobuf.Timestamp updated = 7;",
                     "peer.v1.Item.Dimensions.Unit unit = 3;"):
            self.assertIn(line, out)
        self.assertNotIn("oneof", out)
        out = self.assert_ok(self.grpcdx("describe", "%s.StreamingOutputCall" % TEST))
        self.assertIn("rpc StreamingOutputCall(grpc.testing.StreamingOutputCallRequest)"
                      " returns (stream grpc.testing.StreamingOutputCallResponse)", out)

    def test_verbose_names_the_repairs(self):
        rc, out, err = self.grpcdx("describe", "peer.v1.Item", "-v")
        self.assertEqual(rc, 0, err)
        self.assertIn("reflection: peer_v1.proto: renamed 6 map entry messages to the <Field>Entry names protobuf "
                      "requires: peer.v1.Item.Labels -> LabelsEntry", err)
        self.assertIn("reflection: peer_v1.proto: marked 1 field sent as a one-field oneof _<field> as proto3 "
                      "optional: peer.v1.Item.stock\n", err)
        self.assertIn("reflection: peer_v1.proto: made 8 relative type names fully qualified: "
                      "Dimensions -> .peer.v1.Item.Dimensions", err)
        self.assertIn("reflection: peer_v1.proto: added the missing import of google_protobuf.proto\n", err)
        rc, out, err = self.grpcdx("call", "%s/UnaryCall" % TEST, "-d", "{}", "-v")
        self.assertEqual(rc, 0, err)
        self.assertIn("reflection: grpc_testing.proto: renamed 10 map entry messages", err + out)
        # Without -v, nothing on stderr.
        rc, out, err = self.grpcdx("call", "%s/UnaryCall" % TEST, "-d", "{}")
        self.assertEqual((rc, err), (0, ""))

    def test_call_unary(self):
        [reply] = self.call("%s/UnaryCall" % TEST, '{"response_size": 7}')
        self.assertEqual(body_size(reply), 7)
        [reply] = self.call("%s/EmptyCall" % TEST, "{}")
        self.assertEqual(reply, {})

    def test_call_server_streaming(self):
        replies = self.call("%s/StreamingOutputCall" % TEST,
                            '{"response_parameters": [{"size": 1}, {"size": 5, "interval_us": 2000}, {"size": 3}]}')
        self.assertEqual([body_size(r) for r in replies], [1, 5, 3])

    def test_call_client_streaming(self):
        [reply] = self.call("%s/StreamingInputCall" % TEST,
                            '{"payload": {"body": "AAAA"}} {"payload": {"body": "AAAAAAAA"}} {}')
        self.assertEqual(reply, {"aggregatedPayloadSize": 9})

    def test_call_bidi_streaming(self):
        replies = self.call("%s/FullDuplexCall" % TEST,
                            '{"response_parameters": [{"size": 2}]} '
                            '{"response_parameters": [{"size": 4}, {"size": 6}]}')
        self.assertEqual([body_size(r) for r in replies], [2, 4, 6])

    def test_call_status_is_data(self):
        rc, out, err = self.grpcdx("call", "%s/UnaryCall" % TEST, "-o", "json", "-d",
                                   '{"response_status": {"code": 9, "message": "not now"}}')
        self.assertEqual(rc, 64 + 9, err)
        status = t.events(out, "status")[0]
        self.assertEqual((status["code"], status["message"]), (9, "not now"))

    def test_map_fields_round_trip(self):
        request = {"itemsBySku": {"A-1": ITEM, "B-2": {"sku": "B-2"}}, "flags": {"7": True, "18446744073709551615": False}}
        [reply] = self.call("peer.v1.Catalog/PutItems", json.dumps(request))
        self.assertEqual(reply["count"], 2)
        self.assertEqual(reply["itemsBySku"]["A-1"], ITEM)
        self.assertEqual(reply["itemsBySku"]["B-2"]["sku"], "B-2")
        [echo] = self.call("peer.v1.Catalog/GetItem", json.dumps(ITEM))
        self.assertEqual(echo, ITEM)
        # proto field names too, and an unknown enum name is a local error naming the field.
        [echo] = self.call("peer.v1.Catalog/GetItem", '{"colour_by_region": {"x": "GREEN"}}', "--proto-names")
        self.assertEqual(echo, {"colour_by_region": {"x": "GREEN"}})
        self.assert_fails(self.grpcdx("call", "peer.v1.Catalog/GetItem", "-d", '{"colourByRegion": {"x": "BLUE"}}'),
                          1, "BLUE")

    def test_health(self):
        out = self.assert_ok(self.grpcdx("call", "grpc.health.v1.Health/Check", "-d", '{"service": ""}',
                                         "-o", "json"))
        self.assertEqual(t.events(out, "message")[0]["message"], {"status": "SERVING"})

    def test_bench(self):
        out = self.assert_ok(self.grpcdx("bench", "%s/UnaryCall" % TEST, "-n", "200", "-d",
                                         '{"response_size": 16}', "-o", "json", timeout=60))
        report = t.json_lines(out)[-1]
        self.assertEqual(report["count"], 200)
        self.assertEqual(report["ok"], 200)
        self.assertEqual(report["status"], {"OK": 200})

    def test_replay_of_a_recorded_stream(self):
        path = os.path.join(t.tmpdir(), "node-bidi-%d.jsonl" % os.getpid())
        self.call("%s/FullDuplexCall" % TEST,
                  '{"response_parameters": [{"size": 1}]} {"response_parameters": [{"size": 2}]} '
                  '{"response_parameters": [{"size": 3}]}', "--record", path)
        out = self.assert_ok(self.grpcdx("replay", "%s/FullDuplexCall" % TEST, "--in", path, "--compare",
                                         "-o", "json"))
        self.assertEqual([body_size(e["message"]) for e in t.events(out, "message")], [1, 2, 3])
        self.assertEqual(t.events(out, "compare"), [{"event": "compare", "recorded": 3, "received": 3,
                                                     "differences": 0}])
        self.assertEqual(t.events(out, "status")[0]["code"], 0)

    def test_interop_all_cases_pass(self):
        out = self.assert_ok(self.grpcdx("interop", "-o", "json", timeout=60))
        report = t.json_lines(out)[0]
        self.assertEqual(report["failed"], 0, [c for c in report["cases"] if not c["passed"]])
        self.assertEqual(report["passed"], INTEROP_CASES)

    def test_protoset_out_of_the_repaired_schema_serves_a_later_call(self):
        path = os.path.join(t.tmpdir(), "node-%d.protoset" % os.getpid())
        self.assert_ok(self.grpcdx("describe", "peer.v1.Catalog", "--protoset-out", path))
        [echo] = self.call("peer.v1.Catalog/GetItem", json.dumps(ITEM), "--protoset", path)
        self.assertEqual(echo, ITEM)

    def test_channelz_and_a_stall_seen_from_the_server(self):
        t.check_channelz_peer(self, self.address)


if __name__ == "__main__":
    t.main()
