# `grpcdx channelz` against `grpcdx serve` (which serves channelz from gRPC core's own data):
# servers, sockets and this very connection, one socket in full, a server without channelz, and
# stall reports joined with the server's view of the stalled connection (recv_idle and
# send_blocked). The grpc-go and grpc-js peers are read in test_go_peer.py and test_node_peer.py.
import base64
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpcdx_test as t  # noqa: E402

OUTPUT = "grpc.testing.TestService/StreamingOutputCall"
INPUT = "grpc.testing.TestService/StreamingInputCall"
THREE = '{"responseParameters": [{"size": 1}, {"size": 2}, {"size": 3}]}'


def port_of(address):
    return int(address.rsplit(":", 1)[1])


def tcp_port(address_json):
    return address_json.get("tcpipAddress", {}).get("port")


class ChannelzTest(t.ServedTestCase):
    def channelz(self, *args):
        return t.run(["channelz", self.address, "--plaintext"] + list(args))

    def snapshot(self):
        out = self.assert_ok(self.channelz("-o", "json"))
        return json.loads(out)

    def test_json_lists_the_server_and_its_sockets(self):
        # A call first, so the server has counted one.
        self.assert_ok(t.run(["call", self.address, "grpc.testing.TestService/EmptyCall", "--plaintext"]))
        snap = self.snapshot()
        self.assertEqual(sorted(snap), ["channels", "servers", "sockets", "subchannels"])
        self.assertEqual(len(snap["servers"]), 1, snap)
        data = snap["servers"][0]["data"]
        self.assertGreaterEqual(int(data["callsStarted"]), 1)
        # This very command's connection is one of the server's sockets: local = the server.
        self.assertTrue(snap["sockets"], snap)
        for socket in snap["sockets"]:
            self.assertEqual(tcp_port(socket["local"]), port_of(self.address), socket)
            self.assertIn("remote", socket)
        ours = [s for s in snap["sockets"] if int(s["data"].get("streamsStarted", 0)) >= 1]
        self.assertTrue(ours, snap["sockets"])

    def test_text_tables(self):
        out = self.assert_ok(self.channelz())
        self.assertIn("Servers (1)", out)
        self.assertRegex(out, r"Sockets of server \d+ \(\d+\)")
        self.assertIn("127.0.0.1:%d" % port_of(self.address), out)
        self.assertIn("STREAMS started/ok/failed", out)
        self.assertIn("WINDOW local/remote", out)

    def test_one_socket_in_full(self):
        # A connection that outlives the listing: a health watch held open meanwhile (each
        # grpcdx run's own connection closes when it exits).
        watch = subprocess.Popen([t.binary(), "health", self.address, "--plaintext", "--watch"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        try:
            self.assertEqual(t.read_line(watch, 10), "SERVING\n")
            ids = [s["ref"]["socketId"] for s in self.snapshot()["sockets"]]
            shown = []
            for sid in ids:
                rc, out, err = self.channelz("--socket", sid, "-o", "json")
                if rc == 0:
                    self.assertEqual(json.loads(out)["socket"]["ref"]["socketId"], sid)
                    shown.append(sid)
                else:  # the listing's own connection, gone now
                    self.assertEqual(rc, 64 + 5, out + err)
            self.assertTrue(shown, ids)
            text = self.assert_ok(self.channelz("--socket", shown[0]))
            self.assertRegex(text, r"Streams\s+\d+ started, \d+ succeeded, \d+ failed")
            self.assertRegex(text, r"Messages\s+\d+ sent, \d+ received")
            self.assertIn("127.0.0.1:%d" % port_of(self.address), text)
        finally:
            watch.terminate()
            watch.wait(10)

    def test_unknown_socket_is_not_found(self):
        rc, out, err = self.channelz("--socket", "999999999")
        self.assertEqual(rc, 64 + 5, out + err)
        self.assert_error_line(err, ["GetSocket"])

    def test_bad_socket_id_is_usage(self):
        rc, out, err = self.channelz("--socket", "-3")
        self.assertEqual(rc, 2, out + err)

    def test_server_without_channelz_exits_1_with_a_hint(self):
        with t.python_server() as address:
            rc, out, err = t.run(["channelz", address, "--plaintext"])
        self.assertEqual(rc, 1, out + err)
        self.assertEqual(out, "")
        self.assert_error_line(err, ["does not offer channelz", "UNIMPLEMENTED"])
        self.assertIn("google.golang.org/grpc/channelz/service", err)

    def test_recv_idle_stall_has_the_servers_view(self):
        rc, out, err = t.run(["call", self.address, OUTPUT, "--plaintext", "-o", "json", "-d", THREE,
                              "-H", "x-grpcdx-stall-after: 1", "--stall-timeout", "1s"])
        self.assertEqual(rc, 5, out + err)
        stall = t.events(out, "stall")[0]
        self.assertEqual(stall["kind"], "recv_idle")
        view = stall.get("server_view")
        self.assertIsNotNone(view, stall)
        for key in ("local_flow_control_window", "remote_flow_control_window", "messages_sent",
                    "messages_received", "last_message_sent_ms_ago", "last_message_received_ms_ago"):
            self.assertIn(key, view)
        self.assertIn("the handler is stuck", view["which_side"])
        # The error line says it too.
        self.assert_error_line(err, ["recv_idle", "server's view (channelz)", "the handler is stuck"])

    def test_send_blocked_stall_has_the_servers_view(self):
        body = base64.b64encode(b"\0" * (256 * 1024)).decode()
        path = t.write_file("channelz-big-stream.json", "\n".join(
            json.dumps({"payload": {"body": body}}) for _ in range(48)))
        rc, out, err = t.run(["call", self.address, INPUT, "--plaintext", "-o", "json", "-d", "@" + path,
                              "-H", "x-grpcdx-stop-reading: 0", "--stall-timeout", "1s"], timeout=60)
        self.assertEqual(rc, 5, out + err)
        stall = t.events(out, "stall")[0]
        self.assertEqual(stall["kind"], "send_blocked")
        view = stall.get("server_view")
        self.assertIsNotNone(view, stall)
        self.assertRegex(view["which_side"], "stopped reading")
        self.assert_error_line(err, ["send_blocked", "server's view (channelz)", "stopped reading"])


if __name__ == "__main__":
    t.main()
