#!/usr/bin/env python3
"""S3 fault-injecting proxy for hfmirror's tests. It sits between the client under test and a real
S3 server (Ceph RGW from scripts/s3-server) and forwards every request byte for byte -- request
line, headers (Host included, as signed) and body -- so SigV4 signatures still verify upstream.
Rules set by the test turn chosen requests into S3 faults instead.

What it does
  * Names each request's S3 operation from its method, path and query (see classify()):
    UploadPart = PUT ?partNumber&uploadId, CompleteMultipartUpload = POST ?uploadId,
    CreateMultipartUpload = POST ?uploads, PutObject, GetObject, HeadObject, ListObjectsV2, ...
  * Rules (control API, or --rules FILE at start): `match` (op, a glob or a list of globs; key
    substring; access key id), then `after` matching requests pass, then the rule fires `times`
    times (null: forever). With `probability` < 1 a matching request fires only when a draw
    keyed by (seed, rule, op, key, part number, how often the rule saw that request before)
    says so: the same seed faults the same attempts of the same requests, whatever order
    concurrent requests arrive in (bucket names and upload ids, which differ per run, are not
    part of the key).
    The first rule that fires decides; a request no rule takes is forwarded.
    Actions:
      error         answer `status` with <Error><Code>`code`</Code> (503 SlowDown, 500
                    InternalError, 400 RequestTimeout, 400 ExpiredToken, ...) without forwarding;
                    `headers` adds e.g. Retry-After, `close` adds Connection: close (S3 closes the
                    connection after RequestTimeout).
      error_in_200  answer 200 with an <Error> body (CompleteMultipartUpload's documented failure
                    mode); not forwarded, so the upload is still open.
      reset         read `after_body_bytes` of the request body, forwarding them upstream, then
                    reset the client connection (RST) and drop the upstream one.
      clock_skew    the server's clock runs `server_offset_s` ahead of ours: a request whose
                    X-Amz-Date is more than `tolerance_s` away from it gets 403
                    RequestTimeTooSkewed with <ServerTime>; `date_header` says whether the Date
                    header shows that clock ("server", as S3 does), the real one ("proxy") or is
                    left out ("none"). A request within tolerance is forwarded (and not counted).
      hold          park the request (after reading its body) until POST /release, new rules, or
                    `hold_timeout_s` (default 60), then decide again under the rules of that
                    moment, hold rules skipped: a test can act at an exact point of a run (rotate
                    credentials, kill the endpoint) and have the parked request meet the result.
  * Refusing connections: POST /listen {"accept": false} closes the listening socket and every
    client connection (connects are refused); {"accept": true} listens on the same port again.
  * A request log, one entry per request: seq, op, method, path, query, bucket, key,
    part_number, upload_id, access_key (the key id, never the secret or signature), amz_date,
    content_length, body_bytes (read from the client), status (sent to the client; null after a
    reset), upstream_status (null when not forwarded), fault (the name of the rule that fired),
    action, held_by (the hold rule that parked it), t_start/t_end (epoch seconds).

What it does not do
  * No TLS, no virtual-hosted bucket names (path-style only), no rewriting, no checking: the
    upstream server verifies signatures. Bodies and Authorization headers are never logged.

Control API (JSON, on its own port so it answers while the S3 port refuses connections):
  GET  /health                      {"ok": true, "accepting": bool}
  GET  /rules                       rules with their seen/fired counters
  POST /rules {"rules": [...], "seed": N}      replace all rules (counters start at 0, held
                                    requests are released)
  POST /rules/clear                 no rules; held requests are released
  POST /release {"name": "..."}     release requests held by that rule (all when no name)
  POST /listen {"accept": bool}
  GET  /requests?since=SEQ          log entries with seq > SEQ
  POST /requests/clear
  GET  /stats                       {"faults": {action: n}, "by_rule": {name: n}, "requests": n}

Usage:
  s3_fault_proxy.py --upstream http://127.0.0.1:7480 [--host 127.0.0.1] [--port 0]
                    [--control-port 0] [--rules FILE] [--seed N] [--ready-file FILE]
  The ready file (JSON, written when both ports listen):
    {"endpoint": "http://127.0.0.1:P", "control": "http://127.0.0.1:C", "pid": N}

Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import calendar
import fnmatch
import hashlib
import json
import os
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_HEAD_BYTES = 64 * 1024
CHUNK = 64 * 1024
LOG_CAP = 200_000  # entries kept; the oldest go first

ACTIONS = ("error", "error_in_200", "reset", "clock_skew", "hold")
RULE_KEYS = {"name", "match", "after", "times", "probability", "action", "status", "code", "message",
             "headers", "close", "after_body_bytes", "server_offset_s", "tolerance_s", "date_header",
             "hold_timeout_s"}
MATCH_KEYS = {"op", "key", "access_key", "method"}

REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 408: "Request Timeout",
           429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable", 504: "Gateway Timeout"}

# AWS's own wording, so clients print what they would print against S3.
MESSAGES = {
    "SlowDown": "Please reduce your request rate.",
    "InternalError": "We encountered an internal error. Please try again.",
    "ServiceUnavailable": "Please reduce your request rate.",
    "RequestTimeout": "Your socket connection to the server was not read from or written to within "
                      "the timeout period. Idle connections will be closed.",
    "ExpiredToken": "The provided token has expired.",
    "InvalidAccessKeyId": "The AWS Access Key Id you provided does not exist in our records.",
    "RequestTimeTooSkewed": "The difference between the request time and the current time is too large.",
}


def xml_text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def classify(method: str, bucket: str, key: str, query: dict, headers: dict) -> str:
    """The S3 operation of a path-style request."""
    if not bucket:
        return "ListBuckets" if method == "GET" else f"{method}Service"
    if not key:
        if method == "GET":
            if "uploads" in query:
                return "ListMultipartUploads"
            if query.get("list-type") == ["2"]:
                return "ListObjectsV2"
            if "location" in query:
                return "GetBucketLocation"
            return "ListObjects"
        if method == "POST" and "delete" in query:
            return "DeleteObjects"
        return {"HEAD": "HeadBucket", "PUT": "CreateBucket", "DELETE": "DeleteBucket"}.get(method, f"{method}Bucket")
    if method == "PUT":
        copy = "x-amz-copy-source" in headers
        if "partNumber" in query and "uploadId" in query:
            return "UploadPartCopy" if copy else "UploadPart"
        return "CopyObject" if copy else "PutObject"
    if method == "POST":
        if "uploads" in query:
            return "CreateMultipartUpload"
        if "uploadId" in query:
            return "CompleteMultipartUpload"
        return "PostObject"
    if method == "DELETE":
        return "AbortMultipartUpload" if "uploadId" in query else "DeleteObject"
    if method == "GET":
        return "ListParts" if "uploadId" in query else "GetObject"
    if method == "HEAD":
        return "HeadObject"
    return f"{method}Object"


def access_key_of(headers: dict, query: dict) -> str | None:
    """The access key id of a SigV4 request (header or presigned), else None."""
    auth = headers.get("authorization", "")
    i = auth.find("Credential=")
    if i >= 0:
        return auth[i + len("Credential="):].split("/", 1)[0]
    cred = query.get("X-Amz-Credential")
    return cred[0].split("/", 1)[0] if cred else None


def parse_amz_date(s: str | None) -> float | None:
    try:
        return float(calendar.timegm(time.strptime(s, "%Y%m%dT%H%M%SZ")))
    except (TypeError, ValueError):
        return None


class Request:
    """One request as read from the client: the raw head (forwarded unchanged) and what the
    rules look at."""

    def __init__(self, head: bytes):
        self.head = head
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise ValueError(f"bad request line {lines[0]!r}")
        self.method, self.target, self.version = parts
        self.headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(":")
            if not sep:
                raise ValueError(f"bad header line {line!r}")
            n = name.strip().lower()
            v = value.strip()
            self.headers[n] = f"{self.headers[n]}, {v}" if n in self.headers else v
        path, _, self.query_string = self.target.partition("?")
        self.path = path
        self.query = urllib.parse.parse_qs(self.query_string, keep_blank_values=True)
        segs = path.lstrip("/").split("/", 1)
        self.bucket = urllib.parse.unquote(segs[0])
        self.key = urllib.parse.unquote(segs[1]) if len(segs) > 1 else ""
        self.op = classify(self.method, self.bucket, self.key, self.query, self.headers)
        self.access_key = access_key_of(self.headers, self.query)
        self.amz_date = self.headers.get("x-amz-date") or (self.query.get("X-Amz-Date") or [None])[0]
        self.chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        cl = self.headers.get("content-length", "0").strip()
        if self.chunked:
            self.content_length = None
        elif cl.isdigit():
            self.content_length = int(cl)
        else:
            raise ValueError(f"bad Content-Length {cl!r}")
        self.wants_close = self.headers.get("connection", "").lower() == "close" or self.version == "HTTP/1.0"

    def log_entry(self, seq: int) -> dict:
        part = self.query.get("partNumber", [""])[0]
        return {"seq": seq, "op": self.op, "method": self.method, "path": self.path,
                "query": self.query_string, "bucket": self.bucket, "key": self.key,
                "part_number": int(part) if part.isdigit() else None,
                "upload_id": (self.query.get("uploadId") or [None])[0],
                "access_key": self.access_key, "amz_date": self.amz_date,
                "content_length": self.content_length, "body_bytes": 0, "status": None,
                "upstream_status": None, "fault": None, "action": None, "held_by": None,
                "t_start": time.time(), "t_end": None}


class Rule:
    def __init__(self, spec: dict, index: int):
        unknown = set(spec) - RULE_KEYS
        if unknown:
            raise ValueError(f"rule {index}: unknown fields {sorted(unknown)}")
        self.action = spec.get("action", "error")
        if self.action not in ACTIONS:
            raise ValueError(f"rule {index}: action must be one of {ACTIONS}, not {self.action!r}")
        match = spec.get("match") or {}
        if set(match) - MATCH_KEYS:
            raise ValueError(f"rule {index}: unknown match fields {sorted(set(match) - MATCH_KEYS)}")
        ops = match.get("op", "*")
        self.ops = [ops] if isinstance(ops, str) else list(ops)
        self.key = match.get("key")
        self.access_key = match.get("access_key")
        self.method = match.get("method")
        self.after = int(spec.get("after", 0))
        self.times = spec.get("times", 1)
        if self.times is not None:
            self.times = int(self.times)
        self.probability = float(spec.get("probability", 1.0))
        self.name = spec.get("name") or f"{self.action}#{index}"
        self.spec = dict(spec)
        self.seen = 0
        self.fired = 0
        self.seen_by_identity: dict[str, int] = {}
        self.released = threading.Event()

    def matches(self, r: Request) -> bool:
        if not any(fnmatch.fnmatchcase(r.op, p) for p in self.ops):
            return False
        if self.key is not None and self.key not in r.key:
            return False
        if self.access_key is not None and r.access_key != self.access_key:
            return False
        return self.method is None or r.method == self.method

    def draw(self, seed: int | None, r: Request) -> float:
        """Uniform in [0, 1), a function of the seed and of which attempt of which request this is."""
        identity = f"{r.op}\0{r.key}\0{r.query.get('partNumber', [''])[0]}"
        n = self.seen_by_identity.get(identity, 0)
        self.seen_by_identity[identity] = n + 1
        digest = hashlib.sha256(f"{seed}\0{self.name}\0{identity}\0{n}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2.0**64

    def server_now(self) -> float:
        return time.time() + float(self.spec.get("server_offset_s", 0))

    def is_skewed(self, r: Request) -> bool:
        t = parse_amz_date(r.amz_date)
        return t is None or abs(t - self.server_now()) > float(self.spec.get("tolerance_s", 900))

    def to_json(self) -> dict:
        return {**self.spec, "name": self.name, "seen": self.seen, "fired": self.fired}


class UpstreamConnection:
    def __init__(self, host: str, port: int):
        self.sock = socket.create_connection((host, port), timeout=120)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = self.sock.makefile("rb", buffering=CHUNK)
        self.used = False

    def close(self):
        for c in (self.rfile, self.sock):
            try:
                c.close()
            except OSError:
                pass


class UpstreamError(Exception):
    pass


def read_head(rfile) -> bytes | None:
    """Request or response head up to and including the blank line; None on a clean EOF."""
    raw = b""
    while True:
        line = rfile.readline(MAX_HEAD_BYTES + 1)
        if not line:
            if raw:
                raise ConnectionError("connection closed inside a message head")
            return None
        if not raw and line in (b"\r\n", b"\n"):
            continue  # stray CRLF between messages
        raw += line
        if len(raw) > MAX_HEAD_BYTES:
            raise ValueError("message head too large")
        if line in (b"\r\n", b"\n"):
            return raw


def read_exact(rfile, n: int) -> bytes:
    data = rfile.read(n)
    if len(data) != n:
        raise ConnectionError(f"connection closed after {len(data)} of {n} body bytes")
    return data


def read_chunked_raw(rfile) -> bytes:
    """A chunked body with its framing, exactly as sent (trailers included)."""
    out = bytearray()
    while True:
        line = rfile.readline(MAX_HEAD_BYTES)
        if not line:
            raise ConnectionError("connection closed inside a chunked body")
        out += line
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while True:
                t = rfile.readline(MAX_HEAD_BYTES)
                if not t:
                    raise ConnectionError("connection closed inside chunked trailers")
                out += t
                if t in (b"\r\n", b"\n"):
                    return bytes(out)
        out += read_exact(rfile, size + 2)


def parse_response_head(head: bytes) -> tuple[int, dict]:
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return status, headers


class FaultProxy:
    def __init__(self, upstream: str, host: str = "127.0.0.1", port: int = 0, seed: int | None = None):
        u = urllib.parse.urlsplit(upstream)
        if u.scheme != "http" or not u.hostname:
            raise ValueError(f"--upstream must be an http:// origin, not {upstream!r}")
        self.upstream = (u.hostname, u.port or 80)
        self.host = host
        self.port = port
        self.lock = threading.Lock()  # rules, counters, log
        self.rules: list[Rule] = []
        self.seed = seed
        self.log: list[dict] = []
        self.seq = 0
        self.fault_counts: dict[str, int] = {}
        self.rule_counts: dict[str, int] = {}
        self.state_lock = threading.Lock()  # listener and client sockets
        self.accepting = False
        self.listener: socket.socket | None = None
        self.clients: set[socket.socket] = set()

    # -- listening ----------------------------------------------------------------------------

    def listen(self, accept: bool = True):
        with self.state_lock:
            if accept == self.accepting:
                return
            self.accepting = accept
            if accept:
                s = socket.create_server((self.host, self.port), backlog=256)  # SO_REUSEADDR on POSIX
                self.port = s.getsockname()[1]
                self.listener = s
                threading.Thread(target=self._accept_loop, args=(s,), daemon=True).start()
                return
            s, self.listener = self.listener, None
            clients, self.clients = list(self.clients), set()
        # Outside the lock: wake the accept loop and every reader.
        for c in [s, *clients]:
            if c is None:
                continue
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()

    def _accept_loop(self, s: socket.socket):
        while True:
            try:
                conn, _ = s.accept()
            except OSError:
                return
            conn.settimeout(None)
            with self.state_lock:
                if not self.accepting or s is not self.listener:
                    conn.close()
                    continue
                self.clients.add(conn)
            threading.Thread(target=self._serve_client, args=(conn,), daemon=True).start()

    # -- rules and log ------------------------------------------------------------------------

    def set_rules(self, specs: list[dict], seed: int | None = None):
        rules = [Rule(s, i) for i, s in enumerate(specs)]
        with self.lock:
            old, self.rules = self.rules, rules
            if seed is not None:
                self.seed = seed
        for r in old:
            r.released.set()

    def rules_json(self) -> dict:
        with self.lock:
            return {"seed": self.seed, "rules": [r.to_json() for r in self.rules]}

    def release(self, name: str | None = None) -> int:
        with self.lock:
            rules = [r for r in self.rules if name is None or r.name == name]
        for r in rules:
            r.released.set()
        return len(rules)

    def _decide(self, req: Request, skip_holds: bool) -> Rule | None:
        with self.lock:
            for rule in self.rules:
                if skip_holds and rule.action == "hold":
                    continue
                if not rule.matches(req):
                    continue
                rule.seen += 1
                if rule.seen <= rule.after or (rule.times is not None and rule.fired >= rule.times):
                    continue
                if rule.action == "clock_skew" and not rule.is_skewed(req):
                    continue
                if rule.probability < 1.0 and rule.draw(self.seed, req) >= rule.probability:
                    continue
                rule.fired += 1
                self.fault_counts[rule.action] = self.fault_counts.get(rule.action, 0) + 1
                self.rule_counts[rule.name] = self.rule_counts.get(rule.name, 0) + 1
                return rule
        return None

    def _new_entry(self, req: Request) -> dict:
        with self.lock:
            self.seq += 1
            e = req.log_entry(self.seq)
            self.log.append(e)
            if len(self.log) > LOG_CAP:
                del self.log[: len(self.log) - LOG_CAP]
            return e

    def _update(self, entry: dict, **fields):
        with self.lock:
            entry.update(fields)

    def requests(self, since: int = 0) -> list[dict]:
        with self.lock:
            return [dict(e) for e in self.log if e["seq"] > since]

    def clear_requests(self):
        with self.lock:
            self.log.clear()

    def stats(self) -> dict:
        with self.lock:
            return {"faults": dict(self.fault_counts), "by_rule": dict(self.rule_counts), "requests": self.seq}

    # -- one client connection ----------------------------------------------------------------

    def _serve_client(self, conn: socket.socket):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        rfile = conn.makefile("rb", buffering=CHUNK)
        upstream: list[UpstreamConnection | None] = [None]
        try:
            while True:
                head = read_head(rfile)
                if head is None or not self.accepting:
                    return
                req = Request(head)
                if not self._serve_request(conn, rfile, req, upstream):
                    return
        except (OSError, ConnectionError, ValueError):
            return
        finally:
            if upstream[0] is not None:
                upstream[0].close()
            with self.state_lock:
                self.clients.discard(conn)
            try:
                rfile.close()
                conn.close()
            except OSError:
                pass

    def _serve_request(self, conn, rfile, req: Request, upstream: list) -> bool:
        """Serves one request; False when the client connection must close."""
        entry = self._new_entry(req)
        if req.headers.get("expect", "").lower() == "100-continue":
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        rule = self._decide(req, skip_holds=False)
        if rule is not None and rule.action == "reset":
            return self._reset(conn, rfile, req, entry, rule)
        body = read_chunked_raw(rfile) if req.chunked else read_exact(rfile, req.content_length)
        self._update(entry, body_bytes=len(body))
        if rule is not None and rule.action == "hold":
            self._update(entry, held_by=rule.name)
            rule.released.wait(float(rule.spec.get("hold_timeout_s", 60)))
            rule = self._decide(req, skip_holds=True)
            if rule is not None and rule.action == "reset":
                return self._reset(conn, None, req, entry, rule)
        if rule is not None:
            return self._answer_fault(conn, req, entry, rule)
        return self._forward(conn, req, body, entry, upstream)

    def _reset(self, conn, rfile, req: Request, entry: dict, rule: Rule) -> bool:
        """Reads part of the body (forwarding it upstream), then resets the connection."""
        n = 0
        if rfile is not None:
            want = int(rule.spec.get("after_body_bytes", 0))
            if req.content_length is not None:
                want = min(want, req.content_length)
            partial = rfile.read(want) if want > 0 else b""
            n = len(partial)
            try:  # the server sees a request cut short, as it would behind a broken link
                up = UpstreamConnection(*self.upstream)
                up.sock.sendall(req.head + partial)
                up.close()
            except OSError:
                pass
        else:
            n = entry["body_bytes"]
        self._update(entry, body_bytes=n, fault=rule.name, action="reset", status=None, t_end=time.time())
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return False  # closing with linger 0 sends RST

    def _answer_fault(self, conn, req: Request, entry: dict, rule: Rule) -> bool:
        spec = rule.spec
        request_id = f"hfmproxy-{entry['seq']:08d}"
        date_ts = time.time()
        extra = ""
        if rule.action == "clock_skew":
            status, code = 403, "RequestTimeTooSkewed"
            server = rule.server_now()
            extra = (f"<RequestTime>{xml_text(req.amz_date or '')}</RequestTime>"
                     f"<ServerTime>{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(server))}</ServerTime>"
                     f"<MaxAllowedTime>{int(float(spec.get('tolerance_s', 900)) * 1000)}</MaxAllowedTime>")
            date_ts = {"server": server, "proxy": date_ts, "none": None}[spec.get("date_header", "server")]
        elif rule.action == "error_in_200":
            status, code = 200, spec.get("code", "InternalError")
        else:
            status, code = int(spec.get("status", 503)), spec.get("code", "SlowDown")
        message = spec.get("message", MESSAGES.get(code, ""))
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{xml_text(code)}</Code>'
                f"<Message>{xml_text(message)}</Message>{extra}"
                f"<Resource>{xml_text(req.path)}</Resource><RequestId>{request_id}</RequestId>"
                f"<HostId>hfmirror-s3-fault-proxy</HostId></Error>").encode()
        close = bool(spec.get("close")) or req.wants_close
        lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}",
                 "Content-Type: application/xml", f"Content-Length: {len(body)}",
                 f"x-amz-request-id: {request_id}", "Server: hfmirror-s3-fault-proxy"]
        if date_ts is not None:
            lines.append(f"Date: {formatdate(date_ts, usegmt=True)}")
        for k, v in (spec.get("headers") or {}).items():
            lines.append(f"{k}: {v}")
        lines.append(f"Connection: {'close' if close else 'keep-alive'}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        # Logged before the client sees the answer, so a test that got it finds it in the log.
        self._update(entry, status=status, fault=rule.name, action=rule.action, t_end=time.time())
        conn.sendall(head + (b"" if req.method == "HEAD" else body))
        return not close

    def _forward(self, conn, req: Request, body: bytes, entry: dict, upstream: list) -> bool:
        for attempt in (0, 1):
            up = upstream[0]
            if up is None:
                try:
                    up = upstream[0] = UpstreamConnection(*self.upstream)
                except OSError as e:
                    return self._bad_gateway(conn, req, entry, f"upstream unreachable: {e}")
            reused = up.used
            up.used = True
            try:
                up.sock.sendall(req.head + body)
                while True:
                    head = read_head(up.rfile)
                    if head is None:
                        raise ConnectionError("upstream closed the connection")
                    status, headers = parse_response_head(head)
                    if status >= 200:
                        break  # 1xx (100 Continue) already answered by us
                break
            except (OSError, ConnectionError, ValueError) as e:
                up.close()
                upstream[0] = None
                # A kept-alive upstream connection may have been closed by the server: once more
                # on a fresh one (the whole request is still in hand).
                if reused and attempt == 0:
                    continue
                return self._bad_gateway(conn, req, entry, f"upstream failed: {e}")
        self._update(entry, status=status, upstream_status=status)
        conn.sendall(head)
        upstream_close = headers.get("connection", "").lower() == "close"
        if req.method == "HEAD" or status in (204, 304):
            pass
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            conn.sendall(read_chunked_raw(up.rfile))
        elif "content-length" in headers:
            left = int(headers["content-length"])
            while left > 0:
                data = up.rfile.read(min(CHUNK, left))
                if not data:
                    raise ConnectionError("upstream closed inside a response body")
                conn.sendall(data)
                left -= len(data)
        else:
            while data := up.rfile.read1(CHUNK):
                conn.sendall(data)
            upstream_close = True
        if upstream_close:
            up.close()
            upstream[0] = None
        self._update(entry, t_end=time.time())
        return not (upstream_close or req.wants_close)

    def _bad_gateway(self, conn, req: Request, entry: dict, why: str) -> bool:
        body = f"hfmirror-s3-fault-proxy: {why}\n".encode()
        self._update(entry, status=502, fault="bad_gateway", action="bad_gateway", t_end=time.time())
        conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\n"
                     + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        return False


def control_handler(proxy: FaultProxy):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _send(self, status: int, obj):
            data = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self):
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n) if n else b""
            return json.loads(raw) if raw.strip() else {}

        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            q = urllib.parse.parse_qs(u.query)
            if u.path == "/health":
                return self._send(200, {"ok": True, "accepting": proxy.accepting})
            if u.path == "/rules":
                return self._send(200, proxy.rules_json())
            if u.path == "/requests":
                return self._send(200, proxy.requests(int(q.get("since", ["0"])[0])))
            if u.path == "/stats":
                return self._send(200, proxy.stats())
            return self._send(404, {"error": f"no route GET {u.path}"})

        def do_POST(self):
            u = urllib.parse.urlsplit(self.path)
            try:
                body = self._body()
                if u.path == "/rules":
                    proxy.set_rules(body.get("rules", []), body.get("seed"))
                    return self._send(200, proxy.rules_json())
                if u.path == "/rules/clear":
                    proxy.set_rules([])
                    return self._send(200, proxy.rules_json())
                if u.path == "/release":
                    return self._send(200, {"released_rules": proxy.release(body.get("name"))})
                if u.path == "/listen":
                    proxy.listen(bool(body.get("accept", True)))
                    return self._send(200, {"accepting": proxy.accepting})
                if u.path == "/requests/clear":
                    proxy.clear_requests()
                    return self._send(200, {"ok": True})
            except (ValueError, TypeError, KeyError) as e:
                return self._send(400, {"error": str(e)})
            return self._send(404, {"error": f"no route POST {u.path}"})

    return Handler


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--upstream", required=True, help="origin of the real S3 server, e.g. http://127.0.0.1:7480")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="S3 port (0: a free one)")
    ap.add_argument("--control-port", type=int, default=0)
    ap.add_argument("--rules", help="JSON file: {\"rules\": [...], \"seed\": N}")
    ap.add_argument("--seed", type=int, default=None, help="seed of the draws behind `probability`")
    ap.add_argument("--ready-file", help="written (JSON) once both ports listen")
    a = ap.parse_args(argv)

    proxy = FaultProxy(a.upstream, a.host, a.port, a.seed)
    if a.rules:
        with open(a.rules, encoding="utf-8") as f:
            spec = json.load(f)
        proxy.set_rules(spec.get("rules", []), spec.get("seed", a.seed))
    proxy.listen(True)
    control = ThreadingHTTPServer((a.host, a.control_port), control_handler(proxy))
    control.daemon_threads = True
    info = {"endpoint": f"http://{a.host}:{proxy.port}", "control": f"http://{a.host}:{control.server_port}",
            "pid": os.getpid()}
    if a.ready_file:
        tmp = a.ready_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(info, f)
        os.replace(tmp, a.ready_file)
    else:
        print(json.dumps(info), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        control.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
