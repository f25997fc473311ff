"""Self-test of the S3 fault proxy (s3_fault_proxy.py), against a fake upstream that records the
raw bytes it receives -- no S3 server needed.

It proves what the e2e fault tests rely on: requests reach the upstream byte for byte (request
line, header order and case, Host, body) and answers come back unchanged, kept alive, chunked
or not; operations are named right; a rule fires exactly after `after` matching requests and
`times` times; each action does what it says (error with headers and close, <Error> in a 200,
a reset after exactly N body bytes with those N bytes forwarded, RequestTimeTooSkewed with
<ServerTime> and the chosen Date, hold until released); `probability` draws depend on the seed
and the request, not on arrival order; refusing connections really refuses them; and the
command line writes its ready file and serves the control API.

Python 3.11 standard library only.
"""

import calendar
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import s3_fault_proxy as sfp  # noqa: E402

SIGV4 = ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE0000001/20240101/us-east-1/s3/aws4_request, "
         "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=0123456789abcdef")


class FakeUpstream:
    """Records every request's raw bytes; answers 200 with `ok:<sha256 of body>` (chunked for
    paths ending in /chunked, no body for HEAD)."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received = []  # raw bytes of complete requests
        self.partial = []  # raw bytes of connections closed inside a request
        self.connections = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.sock.close()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        rfile = conn.makefile("rb")
        try:
            while True:
                head = sfp.read_head(rfile)
                if head is None:
                    return
                req = sfp.Request(head)
                body = rfile.read(req.content_length)
                if len(body) != req.content_length:
                    with self.lock:
                        self.partial.append(head + body)
                    return
                with self.lock:
                    self.received.append(head + body)
                payload = f"ok:{hashlib.sha256(body).hexdigest()}".encode()
                if req.path.endswith("/chunked"):
                    half = len(payload) // 2
                    out = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Odd-Case: Yes\r\n\r\n"
                           + b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (half, payload[:half], len(payload) - half,
                                                                    payload[half:]))
                else:
                    out = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nETag: \"e\"\r\n\r\n" % len(payload)
                    if req.method != "HEAD":
                        out += payload
                conn.sendall(out)
        except (OSError, ValueError, ConnectionError):
            return
        finally:
            conn.close()


def read_response(f, method="GET"):
    """(status, headers, body, raw) of one response from a file object."""
    head = sfp.read_head(f)
    if head is None:
        raise ConnectionError("closed")
    status, headers = sfp.parse_response_head(head)
    if "chunked" in headers.get("transfer-encoding", ""):
        raw_body = sfp.read_chunked_raw(f)
        body = b""
        rest = raw_body
        while True:
            line, _, rest = rest.partition(b"\r\n")
            n = int(line, 16)
            if n == 0:
                break
            body += rest[:n]
            rest = rest[n + 2:]
        return status, headers, body, head + raw_body
    n = 0 if method == "HEAD" else int(headers.get("content-length", "0"))
    body = f.read(n)
    return status, headers, body, head + body


def request(method, target, body=b"", headers=()):
    h = [("Host", "127.0.0.1:9"), ("X-Amz-Date", time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())),
         ("Authorization", SIGV4), *headers]
    if body or method in ("PUT", "POST"):
        h.append(("Content-Length", str(len(body))))
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h) + "\r\n"
    return head.encode("latin-1") + body


class ProxyTestCase(unittest.TestCase):
    def setUp(self):
        self.up = FakeUpstream()
        self.addCleanup(self.up.close)
        self.proxy = sfp.FaultProxy(f"http://127.0.0.1:{self.up.port}", seed=7)
        self.proxy.listen(True)
        self.addCleanup(self.proxy.listen, False)

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.proxy.port), timeout=10)
        self.addCleanup(s.close)
        return s, s.makefile("rb")

    def roundtrip(self, raw):
        s, f = self.connect()
        s.sendall(raw)
        return read_response(f)


class ForwardingTest(ProxyTestCase):

    def test_request_and_answer_go_through_byte_for_byte(self):
        body = os.urandom(300_000)
        raw = request("PUT", "/bkt/dir/a%20b%2Bc.bin?partNumber=3&uploadId=u%2F1", body,
                      [("x-amz-meta-Odd", "  spaced  value "), ("X-AMZ-CONTENT-SHA256", "UNSIGNED-PAYLOAD")])
        status, headers, got, _ = self.roundtrip(raw)
        self.assertEqual(status, 200)
        self.assertEqual(got, f"ok:{hashlib.sha256(body).hexdigest()}".encode())
        self.assertEqual(self.up.received, [raw], "the upstream did not get the exact bytes")
        e = self.proxy.requests()[0]
        self.assertEqual((e["op"], e["bucket"], e["key"], e["part_number"], e["upload_id"]),
                         ("UploadPart", "bkt", "dir/a b+c.bin", 3, "u/1"))
        self.assertEqual((e["access_key"], e["body_bytes"], e["status"], e["upstream_status"], e["fault"]),
                         ("AKIDEXAMPLE0000001", len(body), 200, 200, None))

    def test_keep_alive_chunked_answers_and_head(self):
        s, f = self.connect()
        for raw in (request("GET", "/bkt/x/chunked"), request("HEAD", "/bkt/k"), request("GET", "/bkt/k")):
            s.sendall(raw)
            status, headers, body, relayed = read_response(f, raw.split(b" ", 1)[0].decode())
            self.assertEqual(status, 200)
            if raw.startswith(b"GET /bkt/x/chunked"):
                self.assertIn(b"Transfer-Encoding: chunked\r\nX-Odd-Case: Yes\r\n", relayed)
                self.assertTrue(body.startswith(b"ok:"))
            if raw.startswith(b"HEAD"):
                self.assertEqual(body, b"")
        self.assertEqual(len(self.up.received), 3)
        self.assertEqual(self.up.connections, 1, "the upstream connection was not kept alive")

    def test_operations_are_named_from_method_path_and_query(self):
        cases = [("GET", "/", {}, "ListBuckets"), ("GET", "/b?list-type=2&prefix=p", {}, "ListObjectsV2"),
                 ("GET", "/b?uploads&prefix=p", {}, "ListMultipartUploads"), ("GET", "/b", {}, "ListObjects"),
                 ("POST", "/b?delete", {}, "DeleteObjects"), ("PUT", "/b", {}, "CreateBucket"),
                 ("HEAD", "/b", {}, "HeadBucket"), ("PUT", "/b/k", {}, "PutObject"),
                 ("PUT", "/b/k", {"x-amz-copy-source": "/b/j"}, "CopyObject"),
                 ("PUT", "/b/k?partNumber=1&uploadId=u", {}, "UploadPart"),
                 ("POST", "/b/k?uploads", {}, "CreateMultipartUpload"),
                 ("POST", "/b/k?uploadId=u", {}, "CompleteMultipartUpload"),
                 ("DELETE", "/b/k?uploadId=u", {}, "AbortMultipartUpload"), ("DELETE", "/b/k", {}, "DeleteObject"),
                 ("GET", "/b/k?uploadId=u", {}, "ListParts"), ("GET", "/b/k", {}, "GetObject"),
                 ("HEAD", "/b/k", {}, "HeadObject")]
        for method, target, headers, op in cases:
            head = (f"{method} {target} HTTP/1.1\r\nHost: h\r\n"
                    + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()
            self.assertEqual(sfp.Request(head).op, op, f"{method} {target}")


class RuleTest(ProxyTestCase):

    def test_after_and_times_count_matching_requests_only(self):
        self.proxy.set_rules([{"name": "slow", "match": {"op": "PutObject", "key": "data/"}, "after": 1, "times": 2,
                               "status": 503, "code": "SlowDown", "headers": {"Retry-After": "3"}}])
        statuses = []
        for key in ["data/1", "other", "data/2", "data/3", "data/4"]:
            status, headers, body, _ = self.roundtrip(request("PUT", f"/b/{key}", b"x"))
            statuses.append(status)
            if status == 503:
                self.assertEqual(headers["retry-after"], "3")
                self.assertIn(b"<Code>SlowDown</Code>", body)
                self.assertIn(b"<Message>Please reduce your request rate.</Message>", body)
        self.assertEqual(statuses, [200, 200, 503, 503, 200])
        self.assertEqual({k: v for k, v in self.proxy.rules_json()["rules"][0].items() if k in ("seen", "fired")},
                         {"seen": 4, "fired": 2})
        self.assertEqual(len(self.up.received), 3, "a faulted request reached the upstream")
        self.assertEqual(self.proxy.stats()["by_rule"], {"slow": 2})

    def test_error_with_close_closes_and_access_key_matches(self):
        self.proxy.set_rules([{"name": "expired", "match": {"access_key": "AKIDEXAMPLE0000001"}, "times": None,
                               "status": 400, "code": "ExpiredToken", "close": True}])
        s, f = self.connect()
        s.sendall(request("GET", "/b/k"))
        status, headers, body, _ = read_response(f)
        self.assertEqual((status, headers["connection"]), (400, "close"))
        self.assertIn(b"<Code>ExpiredToken</Code>", body)
        self.assertEqual(f.read(1), b"", "the connection stayed open after Connection: close")
        other = request("GET", "/b/k").replace(b"AKIDEXAMPLE0000001", b"AKIDOTHER000000002")
        self.assertEqual(self.roundtrip(other)[0], 200)

    def test_error_inside_a_200(self):
        self.proxy.set_rules([{"name": "c", "match": {"op": "CompleteMultipartUpload"}, "action": "error_in_200"}])
        status, _, body, _ = self.roundtrip(request("POST", "/b/k?uploadId=u", b"<CompleteMultipartUpload/>"))
        self.assertEqual(status, 200)
        self.assertIn(b"<Error><Code>InternalError</Code>", body)
        self.assertEqual(self.up.received, [])

    def test_reset_after_n_body_bytes_forwards_exactly_those(self):
        self.proxy.set_rules([{"name": "r", "match": {"op": "UploadPart"}, "action": "reset",
                               "after_body_bytes": 100_000}])
        body = os.urandom(1_000_000)
        raw = request("PUT", "/b/k?partNumber=1&uploadId=u", body)
        s, f = self.connect()
        with self.assertRaises((ConnectionError, OSError)):
            s.sendall(raw)
            if not f.read(1):
                raise ConnectionError("closed without an answer")
        e = self.proxy.requests()[0]
        self.assertEqual((e["fault"], e["action"], e["body_bytes"], e["status"]), ("r", "reset", 100_000, None))
        deadline = time.monotonic() + 5
        while not self.up.partial and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(self.up.partial, [raw[: len(raw) - len(body) + 100_000]])

    def test_clock_skew_answers_with_server_time_and_forwards_corrected_requests(self):
        offset = 600
        for date_header in ("server", "proxy", "none"):
            self.proxy.set_rules([{"name": "skew", "action": "clock_skew", "times": None, "server_offset_s": offset,
                                   "tolerance_s": 300, "date_header": date_header}])
            status, headers, body, _ = self.roundtrip(request("GET", "/b/k"))
            self.assertEqual(status, 403)
            self.assertIn(b"<Code>RequestTimeTooSkewed</Code>", body)
            server_time = body.split(b"<ServerTime>")[1].split(b"</ServerTime>")[0].decode()
            t = calendar.timegm(time.strptime(server_time, "%Y-%m-%dT%H:%M:%SZ"))
            self.assertAlmostEqual(t, time.time() + offset, delta=5)
            if date_header == "none":
                self.assertNotIn("date", headers)
            else:
                date = calendar.timegm(time.strptime(headers["date"], "%a, %d %b %Y %H:%M:%S GMT"))
                self.assertAlmostEqual(date, time.time() + (offset if date_header == "server" else 0), delta=5)
        corrected = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() + offset))
        raw = request("GET", "/b/k").replace(b"X-Amz-Date: ", b"X-Amz-Date: " + corrected.encode() + b"\r\nX-Old: ")
        self.assertEqual(self.roundtrip(raw)[0], 200)
        self.assertEqual(self.proxy.rules_json()["rules"][0]["fired"], 1)

    def test_hold_parks_the_request_until_released(self):
        self.proxy.set_rules([{"name": "hold", "match": {"op": "UploadPart"}, "action": "hold"}])
        s, f = self.connect()
        s.sendall(request("PUT", "/b/k?partNumber=1&uploadId=u", b"abc"))
        deadline = time.monotonic() + 5
        while not any(e["held_by"] == "hold" for e in self.proxy.requests()):
            self.assertLess(time.monotonic(), deadline, "never held")
            time.sleep(0.01)
        self.assertEqual(self.up.received, [])
        # New rules release it, and it is decided again under them.
        self.proxy.set_rules([{"name": "after", "match": {"op": "UploadPart"}, "status": 500, "code": "InternalError"}])
        self.assertEqual(read_response(f)[0], 500)
        self.assertEqual(self.proxy.requests()[0]["fault"], "after")

    def test_probability_draws_depend_on_seed_and_request_not_on_order(self):
        rule = {"name": "p", "match": {"op": "UploadPart"}, "times": None, "probability": 0.5,
                "status": 500, "code": "InternalError"}

        def pattern(seed, order):
            self.proxy.set_rules([rule], seed=seed)
            out = {}
            for part in order:
                for attempt in range(3):
                    s = self.roundtrip(request("PUT", f"/b{seed}/k?partNumber={part}&uploadId=x{attempt}", b"z"))[0]
                    out[(part, attempt)] = s
            return out

        a = pattern(1, [1, 2, 3, 4, 5, 6])
        b = pattern(1, [6, 5, 4, 3, 2, 1])
        c = pattern(2, [1, 2, 3, 4, 5, 6])
        self.assertEqual(a, b, "the same seed gave other faults in another order")
        self.assertNotEqual(a, c, "another seed gave the same faults")
        self.assertIn(500, a.values())
        self.assertIn(200, a.values())


class ListenTest(ProxyTestCase):

    def test_refusing_connections_and_listening_again_on_the_same_port(self):
        port = self.proxy.port
        s, f = self.connect()
        s.sendall(request("GET", "/b/k"))
        self.assertEqual(read_response(f)[0], 200)
        self.proxy.listen(False)
        self.assertEqual(f.read(1), b"", "a kept-alive client connection survived")
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5)
        self.proxy.listen(True)
        self.assertEqual(self.proxy.port, port)
        self.assertEqual(self.roundtrip(request("GET", "/b/k"))[0], 200)


class CommandLineTest(unittest.TestCase):

    def test_ready_file_and_control_api(self):
        up = FakeUpstream()
        self.addCleanup(up.close)
        tmp = tempfile.mkdtemp(prefix="hfm-s3proxy-selftest-")
        ready = os.path.join(tmp, "ready.json")
        rules = os.path.join(tmp, "rules.json")
        with open(rules, "w") as f:
            json.dump({"rules": [{"name": "boot", "match": {"op": "GetObject"}, "status": 500,
                                  "code": "InternalError"}]}, f)
        p = subprocess.Popen([sys.executable, str(HERE / "s3_fault_proxy.py"), "--upstream",
                              f"http://127.0.0.1:{up.port}", "--rules", rules, "--ready-file", ready],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.addCleanup(p.wait, 10)
        self.addCleanup(p.terminate)
        deadline = time.monotonic() + 20
        while not os.path.exists(ready):
            self.assertIsNone(p.poll(), p.stderr.read() if p.poll() is not None else "")
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.02)
        info = json.load(open(ready))

        def call(method, route, body=None):
            data = None if body is None else json.dumps(body).encode()
            with urllib.request.urlopen(urllib.request.Request(f"{info['control']}/{route}", data=data,
                                                               method=method), timeout=10) as r:
                return json.loads(r.read())

        port = int(info["endpoint"].rsplit(":", 1)[1])
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.addCleanup(s.close)
        f = s.makefile("rb")
        s.sendall(request("GET", "/b/k"))
        self.assertEqual(read_response(f)[0], 500)
        s.sendall(request("GET", "/b/k"))
        self.assertEqual(read_response(f)[0], 200)
        self.assertEqual(call("GET", "health"), {"ok": True, "accepting": True})
        self.assertEqual([e["status"] for e in call("GET", "requests")], [500, 200])
        self.assertEqual(call("GET", "requests?since=1")[0]["seq"], 2)
        self.assertEqual(call("GET", "stats")["faults"], {"error": 1})
        self.assertEqual(call("POST", "rules/clear", {})["rules"], [])
        call("POST", "requests/clear", {})
        self.assertEqual(call("GET", "requests"), [])
        self.assertEqual(call("POST", "listen", {"accept": False}), {"accepting": False})
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5)
        with self.assertRaises(urllib.error.HTTPError):
            call("POST", "rules", {"rules": [{"action": "explode"}]})


if __name__ == "__main__":
    unittest.main(verbosity=2)
