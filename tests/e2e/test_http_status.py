# A reply without grpc-status (a proxy's HTTP error page) maps to a gRPC status the way gRPC
# does: 401 -> UNAUTHENTICATED, 403 -> PERMISSION_DENIED, 404 -> UNIMPLEMENTED, 503 -> UNAVAILABLE.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpcdx_test as t  # noqa: E402
from raw_h2 import HttpStatusServer  # noqa: E402

PROTO = ["--proto", "grpc/testing/test.proto", "-I", t.GRPC_PROTO_DIR]


class HttpStatusTest(t.TestCase):
    def check(self, http_status, grpc_name, grpc_code):
        with HttpStatusServer(http_status) as server:
            rc, out, err = t.run(["call", server.address, "grpc.testing.TestService/EmptyCall",
                                  "--plaintext", "--timeout", "10s", "-o", "json"] + PROTO)
        self.assertEqual(rc, 64 + grpc_code, err)
        self.assert_error_line(err, grpc_name)
        self.assertIn(str(http_status), err)
        status = [e for e in t.json_lines(out) if e.get("event") == "status"]
        self.assertEqual(len(status), 1, out)
        self.assertEqual(status[0]["code"], grpc_code)
        self.assertEqual(status[0]["code_name"], grpc_name)

    def test_401_is_unauthenticated(self):
        self.check(401, "UNAUTHENTICATED", 16)

    def test_403_is_permission_denied(self):
        self.check(403, "PERMISSION_DENIED", 7)

    def test_404_is_unimplemented(self):
        self.check(404, "UNIMPLEMENTED", 12)

    def test_503_is_unavailable(self):
        self.check(503, "UNAVAILABLE", 14)

    def test_500_is_unknown(self):
        self.check(500, "UNKNOWN", 2)


if __name__ == "__main__":
    t.main()
