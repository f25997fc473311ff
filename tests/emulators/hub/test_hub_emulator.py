"""Self-tests for the Hub emulator (standard library unittest only).

Run from the repo root:  python3 -m unittest tests/emulators/hub/test_hub_emulator.py
They start hub_emulator.py as a subprocess and check the wire protocol it speaks against
hub-protocol.md: statuses, exact headers, pagination, hashes, auth, faults.
"""

import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # run from anywhere (ctest runs it from here, README from the repo root)
from tls_certs import make_test_pki  # noqa: E402

EMULATOR = os.path.join(HERE, "hub_emulator.py")
SPECS = [os.path.join(HERE, "specs", "testrepos.json"), os.path.join(HERE, "specs", "demo.json")]
EXPOSE = ("X-Repo-Commit,X-Request-Id,X-Error-Code,X-Error-Message,X-Total-Count,ETag,Link,"
          "Accept-Ranges,Content-Range,X-Linked-Size,X-Linked-ETag,X-Xet-Hash")
WWW_AUTH = 'Bearer realm="Authentication required", charset="UTF-8"'
READER = {"Authorization": "Bearer hf_reader"}
NOGRANT = {"Authorization": "Bearer hf_nogrant"}


def git_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def pointer(sha256, size):
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


class Emulator:
    """Starts hub_emulator.py and waits for its ready file."""

    def __init__(self, specs, data_dir, *extra):
        tag = time.monotonic_ns()
        self.ready_file = os.path.join(data_dir, f"ready-{tag}.json")
        self.stderr_path = os.path.join(data_dir, f"stderr-{tag}.log")
        cmd = [sys.executable, EMULATOR, "--data-dir", data_dir, "--ready-file", self.ready_file, "--quiet"]
        for s in specs:
            cmd += ["--spec", s]
        # stderr goes to a file: an unread pipe could fill up and stall the server
        self._stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(cmd + list(extra), stdout=subprocess.PIPE, stderr=self._stderr, text=True)
        deadline = time.monotonic() + 120
        while not os.path.exists(self.ready_file):
            if self.proc.poll() is not None:
                raise RuntimeError(f"emulator exited: {self.stderr()}")
            if time.monotonic() > deadline:
                self.proc.kill()
                raise RuntimeError("emulator did not become ready")
            time.sleep(0.02)
        with open(self.ready_file) as f:
            self.ready = json.load(f)
        self.stdout_line = self.proc.stdout.readline()
        self.hub, self.cdn = self.ready["hub"], self.ready["cdn"]

    def stderr(self):
        with open(self.stderr_path) as f:
            return f.read()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(10)
        finally:
            self.proc.stdout.close()
            self._stderr.close()


class Resp:
    def __init__(self, r, body):
        self.status, self.body = r.status, body
        self.header_list = r.getheaders()
        self.h = {k.lower(): v for k, v in self.header_list}

    def json(self):
        return json.loads(self.body)


def fetch(url, method="GET", headers=None, body=None, conn=None, context=None):
    """One request, no redirect following. Reuses `conn` (keep-alive) when given; https URLs
    are checked against `context`."""
    u = urllib.parse.urlsplit(url)
    if conn is not None:
        c = conn
    elif u.scheme == "https":
        c = http.client.HTTPSConnection(u.hostname, u.port, timeout=30, context=context)
    else:
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    target = u.path + ("?" + u.query if u.query else "")
    c.request(method, target, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    if conn is None:
        c.close()
    return Resp(r, data)


class HubEmulatorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hub-emulator-test-")
        cls.emu = Emulator(SPECS, cls.tmp)
        cls.hub, cls.cdn = cls.emu.hub, cls.emu.cdn
        cls.tiny = cls.files("acme/tiny")
        cls.tiny_c1 = cls.files("acme/tiny", rev="c1")

    @classmethod
    def tearDownClass(cls):
        rc = cls.emu.stop()
        err = cls.emu.stderr()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert rc == 0, f"emulator exit code {rc}"
        assert "Traceback" not in err, f"emulator stderr:\n{err}"

    def setUp(self):
        self.ctl("POST", "faults/clear")

    # -- helpers ----------------------------------------------------------------------------

    @classmethod
    def ctl(cls, method, route, obj=None):
        body = json.dumps(obj).encode() if obj is not None else None
        r = fetch(f"{cls.hub}/_emulator/{route}", method, {"Content-Type": "application/json"}, body)
        assert r.status == 200, (route, r.status, r.body)
        return r.json()

    @classmethod
    def files(cls, repo, rtype="model", rev="main"):
        out = cls.ctl("GET", f"repos/{rtype}/{repo}/files?rev={urllib.parse.quote(rev, safe='')}")
        out["by_path"] = {f["path"]: f for f in out["files"]}
        return out

    def get(self, path, method="GET", headers=None, body=None, conn=None):
        return fetch(self.hub + path, method, headers, body, conn)

    def assert_hub_headers(self, r, bucket):
        self.assertRegex(r.h["ratelimit"], rf'^"{bucket}";r=\d+;t=\d+$')
        q = 1000 if bucket == "api" else 5000
        self.assertEqual(r.h["ratelimit-policy"], f'"fixed window";"{bucket}";q={q};w=300')
        self.assertTrue(r.h["x-request-id"].startswith("Root=1-"))
        self.assertEqual(r.h["access-control-expose-headers"], EXPOSE)

    def assert_401_plain(self, r, api):
        self.assertEqual(r.status, 401)
        self.assertEqual(r.h["x-error-message"], "Invalid username or password.")
        self.assertEqual(r.h["www-authenticate"], WWW_AUTH)
        self.assertNotIn("x-error-code", r.h)
        if api:
            self.assertEqual(r.json(), {"error": "Invalid username or password."})
        else:
            self.assertEqual(r.body, b"Invalid username or password.")

    def follow_to_bytes(self, path, headers=None):
        """Client-style download: resolve, follow a relative 307 with the token, a CDN 302 without."""
        r = self.get(path, headers=headers)
        if r.status == 307:
            r = self.get(r.h["location"], headers=headers)
        elif r.status == 302:
            self.assertTrue(r.h["location"].startswith(self.cdn + "/"))
            r = fetch(r.h["location"])
        self.assertIn(r.status, (200,), r.body[:200])
        return r

    # -- startup ----------------------------------------------------------------------------

    def test_ready_file_and_hosts(self):
        self.assertEqual(set(self.emu.ready), {"hub", "cdn", "pid"})
        self.assertEqual(self.emu.ready["pid"], self.emu.proc.pid)
        self.assertEqual(json.loads(self.emu.stdout_line), self.emu.ready)
        self.assertRegex(self.hub, r"^http://localhost:\d+$")
        self.assertRegex(self.cdn, r"^http://127\.0\.0\.1:\d+$")

    # -- metadata ---------------------------------------------------------------------------

    def test_model_info(self):
        r = self.get("/api/models/acme/tiny")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.h["content-type"], "application/json; charset=utf-8")
        self.assertTrue(r.h["etag"].startswith('W/"'))
        self.assert_hub_headers(r, "api")
        info = r.json()
        for k in ("_id", "id", "modelId", "author", "sha", "private", "gated", "disabled", "lastModified",
                  "siblings", "tags"):
            self.assertIn(k, info)
        self.assertEqual((info["id"], info["modelId"], info["author"]), ("acme/tiny", "acme/tiny", "acme"))
        self.assertRegex(info["_id"], r"^[0-9a-f]{24}$")
        self.assertEqual(info["sha"], self.tiny["commit"])
        self.assertEqual((info["private"], info["gated"], info["disabled"]), (False, False, False))
        self.assertRegex(info["lastModified"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$")
        self.assertEqual([s["rfilename"] for s in info["siblings"]], sorted(self.tiny["by_path"]))
        self.assertEqual(set(info["siblings"][0]), {"rfilename"})

        r = self.get("/api/models/acme/tiny/revision/main?expand=sha")
        self.assertEqual(r.json(), {"_id": info["_id"], "id": "acme/tiny", "sha": self.tiny["commit"]})
        r = self.get("/api/models/acme/tiny?expand=sha&expand=private")
        self.assertEqual(set(r.json()), {"_id", "id", "sha", "private"})
        self.assertEqual(self.get("/api/models/acme/tiny?expand=bogus").status, 400)

        sib = {s["rfilename"]: s for s in self.get("/api/models/acme/tiny/revision/main?blobs=true").json()["siblings"]}
        st, cfg = self.tiny["by_path"]["model.safetensors"], self.tiny["by_path"]["config.json"]
        self.assertEqual(sib["model.safetensors"]["lfs"], {"sha256": st["sha256"], "size": st["size"],
                                                            "pointerSize": len(pointer(st["sha256"], st["size"]))})
        self.assertEqual(sib["model.safetensors"]["blobId"], git_sha1(pointer(st["sha256"], st["size"])))
        self.assertEqual(sib["config.json"], {"rfilename": "config.json", "blobId": cfg["git_sha1"], "size": cfg["size"]})

    def test_revision_forms(self):
        c1, c2 = self.tiny_c1["commit"], self.tiny["commit"]
        self.assertNotEqual(c1, c2)
        for rev, want in [("main", c2), ("v1.0", c1), ("dev", c1), ("feature%2Fx", c1), ("refs%2Fheads%2Fmain", c2),
                          (c1, c1), (c1[:7], c1), (c2[:12], c2)]:
            r = self.get(f"/api/models/acme/tiny/revision/{rev}?expand=sha")
            self.assertEqual((r.status, r.json().get("sha")), (200, want), rev)
        r = self.get("/api/models/acme/tiny/revision/nope")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.h["x-error-code"], "RevisionNotFound")
        self.assertEqual(r.h["x-error-message"], "Invalid rev id: nope")
        self.assertEqual(r.body, b'{"error":"Invalid rev id: nope"}')

    def test_refs_and_commits(self):
        refs = self.get("/api/models/acme/tiny/refs").json()
        c1, c2 = self.tiny_c1["commit"], self.tiny["commit"]
        self.assertEqual(refs["converts"], [])
        self.assertIn({"name": "main", "ref": "refs/heads/main", "targetCommit": c2}, refs["branches"])
        self.assertIn({"name": "feature/x", "ref": "refs/heads/feature/x", "targetCommit": c1}, refs["branches"])
        self.assertEqual(refs["tags"], [{"name": "v1.0", "ref": "refs/tags/v1.0", "targetCommit": c1}])
        self.assertNotIn("pullRequests", refs)
        self.assertEqual(self.get("/api/models/acme/tiny/refs?include_prs=1").json()["pullRequests"], [])
        commits = self.get("/api/models/acme/tiny/commits/main").json()
        self.assertEqual([c["id"] for c in commits], [c2, c1])

    # -- tree -------------------------------------------------------------------------------

    def test_tree_entries_and_hashes(self):
        r = self.get("/api/models/acme/tiny/tree/main?recursive=true&expand=false")
        self.assertEqual(r.status, 200)
        self.assertNotIn("link", r.h)
        entries = r.json()
        dirs = {e["path"] for e in entries if e["type"] == "directory"}
        self.assertTrue({"a", "a/b/c/d/e/f/g/h", "special", "unicode"} <= dirs)
        files = {e["path"]: e for e in entries if e["type"] == "file"}
        self.assertEqual(set(files), set(self.tiny["by_path"]))
        for e in entries:
            if e["type"] == "directory":
                self.assertEqual(e["size"], 0)
                self.assertRegex(e["oid"], r"^[0-9a-f]{40}$")
        for path, want in self.tiny["by_path"].items():
            e = files[path]
            self.assertEqual(e["size"], want["size"])
            if want["lfs"]:
                p = pointer(want["sha256"], want["size"])
                self.assertEqual(e["oid"], git_sha1(p))
                self.assertEqual(e["lfs"], {"oid": want["sha256"], "size": want["size"], "pointerSize": len(p)})
                self.assertRegex(e["xetHash"], r"^[0-9a-f]{64}$")
                self.assertNotEqual(e["xetHash"], want["sha256"])
            else:
                self.assertEqual(e["oid"], want["git_sha1"])
                self.assertNotIn("lfs", e)
                self.assertNotIn("xetHash", e)
        # The emulator's expectations match the bytes on disk.
        with open(self.tiny["by_path"]["model.safetensors"]["blob_path"], "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), self.tiny["by_path"]["model.safetensors"]["sha256"])
        self.assertEqual(len(pointer("0" * 64, 1048576)), 132)  # hub-protocol.md §7.2

        top = [e["path"] for e in self.get("/api/models/acme/tiny/tree/main").json()]
        self.assertIn("special", top)
        self.assertFalse([p for p in top if "/" in p])
        sub = self.get("/api/models/acme/tiny/tree/main/special").json()
        self.assertEqual(len(sub), 4)
        self.assertTrue(all(e["path"].startswith("special/") for e in sub))
        enc = self.get("/api/models/acme/tiny/tree/main/a%2Fb%2Fc").json()
        self.assertEqual([(e["type"], e["path"]) for e in enc], [("directory", "a/b/c/d")])
        for bad in ("config.json", "nope"):
            r = self.get(f"/api/models/acme/tiny/tree/main/{bad}")
            self.assertEqual((r.status, r.h["x-error-code"]), (404, "EntryNotFound"))

        ex = {e["path"]: e for e in self.get("/api/models/acme/tiny/tree/main?recursive=true&expand=true").json()}
        self.assertEqual(ex["config.json"]["lastCommit"]["id"], self.tiny["commit"])
        self.assertEqual(ex["README.md"]["lastCommit"]["id"], self.tiny_c1["commit"])
        old = {e["path"] for e in self.get("/api/models/acme/tiny/tree/v1.0?recursive=true").json()}
        self.assertIn("notes-old.txt", old)
        self.assertNotIn("added-in-c2.txt", old)
        # Unchanged files keep identical content across commits, changed ones do not.
        self.assertEqual(self.tiny_c1["by_path"]["tokenizer.json"]["sha256"], self.tiny["by_path"]["tokenizer.json"]["sha256"])
        self.assertNotEqual(self.tiny_c1["by_path"]["model.safetensors"]["sha256"],
                            self.tiny["by_path"]["model.safetensors"]["sha256"])

    def test_tree_pagination(self):
        url = self.hub + "/api/models/acme/many-files/tree/main?recursive=true&expand=false"
        pages, paths = 0, []
        while url:
            r = fetch(url)
            self.assertEqual(r.status, 200)
            pages += 1
            paths += [e["path"] for e in r.json()]
            link = r.h.get("link")
            if link:
                m = re.fullmatch(r'<([^>]+)>; rel="next"', link)
                self.assertIsNotNone(m, link)
                url = m.group(1)
                self.assertTrue(url.startswith(self.hub + "/api/models/acme/many-files/tree/main?"))
                q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
                self.assertEqual((q["recursive"], q["expand"], q["limit"]), ("true", "false", "1000"))
                self.assertIn("cursor", q)
            else:
                url = None
        self.assertEqual(pages, 3)
        self.assertEqual(len(paths), 2501)  # 2,500 files + the data/ directory
        self.assertEqual(len(set(paths)), 2501)

        r = self.get("/api/models/acme/many-files/tree/main?recursive=true&expand=true")
        self.assertEqual(len(r.json()), 50)
        self.assertIn("lastCommit", r.json()[1])
        self.assertIn("link", r.h)
        n, url = 0, self.hub + "/api/models/acme/many-files/tree/main?recursive=1&limit=300"
        while url:
            r = fetch(url)
            n += 1
            url = re.fullmatch(r'<([^>]+)>; rel="next"', r.h["link"]).group(1) if "link" in r.h else None
        self.assertEqual(n, 9)
        self.assertEqual(self.get("/api/models/acme/many-files/tree/main?cursor=garbage!").status, 400)

    def test_paths_info(self):
        body = urllib.parse.urlencode([("paths", "config.json"), ("paths", "nope"), ("paths", "special"),
                                       ("expand", "true")]).encode()
        r = self.get("/api/models/acme/tiny/paths-info/main", "POST",
                     {"Content-Type": "application/x-www-form-urlencoded"}, body)
        self.assertEqual(r.status, 200)
        got = r.json()
        self.assertEqual([(e["type"], e["path"]) for e in got], [("file", "config.json"), ("directory", "special")])
        self.assertEqual(got[0]["oid"], self.tiny["by_path"]["config.json"]["git_sha1"])
        self.assertEqual(got[0]["lastCommit"]["id"], self.tiny["commit"])

    # -- resolve ----------------------------------------------------------------------------

    def test_resolve_public_regular_307(self):
        f, commit = self.tiny["by_path"]["config.json"], self.tiny["commit"]
        want_loc = (f"/api/resolve-cache/models/acme/tiny/{commit}/config.json"
                    f"?%2Facme%2Ftiny%2Fresolve%2Fmain%2Fconfig.json=&etag=%22{f['git_sha1']}%22")
        for method in ("HEAD", "GET"):
            r = self.get("/acme/tiny/resolve/main/config.json", method)
            self.assertEqual(r.status, 307)
            self.assertEqual(r.h["location"], want_loc)
            self.assertEqual(r.h["x-repo-commit"], commit)
            self.assertEqual(r.h["x-linked-etag"], f'"{f["git_sha1"]}"')
            self.assertEqual(r.h["x-linked-size"], str(f["size"]))
            self.assertEqual(r.h["accept-ranges"], "bytes")
            self.assertEqual(r.h["content-disposition"],
                             "inline; filename*=UTF-8''config.json; filename=\"config.json\";")
            self.assert_hub_headers(r, "resolvers")
            self.assertNotEqual(int(r.h["content-length"]), f["size"])
            self.assertEqual(len(r.body), 0 if method == "HEAD" else int(r.h["content-length"]))
        r = self.get(want_loc)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.h["etag"], f'"{f["git_sha1"]}"')
        self.assertEqual(r.h["x-repo-commit"], commit)
        self.assertEqual(int(r.h["content-length"]), f["size"])
        self.assertEqual(git_sha1(r.body), f["git_sha1"])
        r2 = self.get(want_loc, headers={"Range": "bytes=2-5"})
        self.assertEqual((r2.status, r2.h["content-range"], r2.body), (206, f"bytes 2-5/{f['size']}", r.body[2:6]))
        r3 = self.get(want_loc, headers={"If-None-Match": f'"{f["git_sha1"]}"'})
        self.assertEqual((r3.status, r3.body), (304, b""))

    def test_resolve_lfs_302_and_cdn(self):
        f, commit = self.tiny["by_path"]["model.safetensors"], self.tiny["commit"]
        tree = {e["path"]: e for e in self.get("/api/models/acme/tiny/tree/main").json()}
        for method in ("HEAD", "GET"):
            r = self.get("/acme/tiny/resolve/main/model.safetensors", method)
            self.assertEqual(r.status, 302)
            loc = r.h["location"]
            self.assertRegex(loc, rf"^{re.escape(self.cdn)}/xet-bridge-us/[0-9a-f]{{24}}/{f['sha256']}\?")
            q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
            self.assertEqual((q["X-Amz-Algorithm"], q["X-Amz-Expires"]), ("AWS4-HMAC-SHA256", "3600"))
            self.assertRegex(q["X-Amz-Date"], r"^\d{8}T\d{6}Z$")
            self.assertRegex(q["X-Amz-Signature"], r"^[0-9a-f]{64}$")
            self.assertIn("model.safetensors", q["response-content-disposition"])
            self.assertEqual(r.h["x-linked-etag"], f'"{f["sha256"]}"')
            self.assertEqual(r.h["x-linked-size"], str(f["size"]))
            self.assertEqual(r.h["x-repo-commit"], commit)
            self.assertEqual(r.h["x-xet-hash"], tree["model.safetensors"]["xetHash"])
            self.assertEqual(r.h["link"], f'<{self.hub}/api/models/acme/tiny/xet-read-token/{commit}>; rel="xet-auth", '
                                          f'<{self.cdn}/v1/reconstructions/{f["xet_hash"]}>; rel="xet-reconstruction-info"')
            self.assertEqual((r.h["cache-control"], r.h["vary"]), ("no-store", "Origin, Accept"))
            self.assert_hub_headers(r, "resolvers")
            if method == "GET":
                self.assertEqual(r.body.decode(), f"Found. Redirecting to {loc}")
        full = fetch(loc)
        self.assertEqual(full.status, 200)
        self.assertNotIn("ratelimit", full.h)
        self.assertEqual(full.h["etag"], f'"{f["xet_hash"]}"')  # xet hash, not sha256
        self.assertEqual(full.h["accept-ranges"], "bytes")
        self.assertEqual(int(full.h["content-length"]), f["size"])
        self.assertEqual(hashlib.sha256(full.body).hexdigest(), f["sha256"])
        n = f["size"]
        for rng, status, cr, body in [
                ("bytes=0-99", 206, f"bytes 0-99/{n}", full.body[:100]),
                ("bytes=10-", 206, f"bytes 10-{n - 1}/{n}", full.body[10:]),
                ("bytes=-100", 206, f"bytes {n - 100}-{n - 1}/{n}", full.body[-100:]),
                (f"bytes={n - 5}-{n + 50}", 206, f"bytes {n - 5}-{n - 1}/{n}", full.body[-5:]),
                (f"bytes={n}-", 416, f"bytes */{n}", None),
                ("bytes=5-1", 200, None, full.body),         # invalid: ignored
                ("bytes=0-1,4-5", 200, None, full.body)]:    # multi-range: ignored
            r = fetch(loc, headers={"Range": rng})
            self.assertEqual(r.status, status, rng)
            self.assertEqual(r.h.get("content-range"), cr, rng)
            if body is not None:
                self.assertEqual(r.body, body, rng)
                self.assertEqual(int(r.h["content-length"]), len(body))
        r = fetch(loc, "HEAD")
        self.assertEqual((r.status, r.h["content-length"], r.body), (200, str(n), b""))

    def test_cdn_rejects_authorization(self):
        loc = self.get("/acme/tiny/resolve/main/model.safetensors", "HEAD").h["location"]
        before = self.ctl("GET", "stats")["cdn_authorization_rejected"]
        self.ctl("POST", "requests/clear")
        r = fetch(loc, headers=READER)
        self.assertEqual(r.status, 400)
        self.assertIn(b"InvalidArgument", r.body)
        self.assertEqual(self.ctl("GET", "stats")["cdn_authorization_rejected"], before + 1)
        log = self.ctl("GET", "requests?listener=cdn")
        self.assertEqual(len(log), 1)
        self.assertEqual((log[0]["status"], log[0]["headers"]["authorization"]), (400, "Bearer hf_reader"))
        self.assertEqual(fetch(loc).status, 200)

    def test_cdn_signature_checks(self):
        loc = self.get("/acme/tiny/resolve/main/model.safetensors", "HEAD").h["location"]
        sig = re.search(r"X-Amz-Signature=([0-9a-f]+)", loc).group(1)
        r = fetch(loc.replace(sig, "0" * 64))
        self.assertEqual(r.status, 403)
        self.assertIn(b"SignatureDoesNotMatch", r.body)
        r = fetch(re.sub(r"X-Amz-Date=\d{8}T\d{6}Z", "X-Amz-Date=20200101T000000Z", loc))
        self.assertEqual(r.status, 403)  # the date is signed
        self.assertEqual(fetch(loc.split("?")[0]).status, 403)
        other = loc.replace(self.tiny["by_path"]["model.safetensors"]["sha256"], "f" * 64)
        self.assertEqual(fetch(other).status, 403)  # the path is signed too

    def test_zero_byte_file(self):
        r = self.follow_to_bytes("/acme/tiny/resolve/main/empty.txt")
        self.assertEqual((r.h["content-length"], r.body), ("0", b""))
        self.assertNotIn("content-range", r.h)
        self.assertEqual(r.h["etag"], f'"{git_sha1(b"")}"')

    def test_every_file_roundtrip_on_keepalive_connections(self):
        """The whole client flow for acme/tiny at main and c1, with special and unicode names."""
        hub_u, cdn_u = urllib.parse.urlsplit(self.hub), urllib.parse.urlsplit(self.cdn)
        hub_c = http.client.HTTPConnection(hub_u.hostname, hub_u.port, timeout=30)
        cdn_c = http.client.HTTPConnection(cdn_u.hostname, cdn_u.port, timeout=30)
        try:
            for expect in (self.tiny, self.tiny_c1):
                commit = expect["commit"]
                for path, f in expect["by_path"].items():
                    r = fetch(f"{self.hub}/acme/tiny/resolve/{commit}/{urllib.parse.quote(path)}", "HEAD", conn=hub_c)
                    self.assertEqual(r.status, 302 if f["lfs"] else 307, path)
                    self.assertEqual(r.h["x-repo-commit"], commit)
                    if f["lfs"]:
                        r = fetch(r.h["location"], conn=cdn_c)
                        self.assertEqual(hashlib.sha256(r.body).hexdigest(), f["sha256"], path)
                    else:
                        r = fetch(self.hub + r.h["location"], conn=hub_c)
                        self.assertEqual(git_sha1(r.body), f["git_sha1"], path)
                    self.assertEqual(r.status, 200)
            sock = hub_c.sock
            # errors and HEADs do not break the connection
            for path, method, status in [("/acme/tiny/resolve/main/nope", "GET", 404),
                                         ("/acme/private-model/resolve/main/config.json", "HEAD", 401),
                                         ("/api/models/acme/tiny/revision/zzz", "GET", 404),
                                         ("/api/models/acme/tiny", "HEAD", 200),
                                         ("/api/models/acme/tiny", "GET", 200)]:
                self.assertEqual(fetch(self.hub + path, method, conn=hub_c).status, status)
            self.assertIs(hub_c.sock, sock)
        finally:
            hub_c.close()
            cdn_c.close()

    def test_special_names_encoding(self):
        commit = self.tiny["commit"]
        path = "special/a+b=c&d.txt"
        r = self.get(f"/acme/tiny/resolve/main/{urllib.parse.quote(path)}")
        self.assertEqual(r.h["location"],
                         f"/api/resolve-cache/models/acme/tiny/{commit}/special/a%2Bb%3Dc%26d.txt"
                         "?%2Facme%2Ftiny%2Fresolve%2Fmain%2Fspecial%2Fa%2Bb%3Dc%26d.txt="
                         f"&etag=%22{self.tiny['by_path'][path]['git_sha1']}%22")
        r = self.get("/acme/tiny/resolve/main/" + urllib.parse.quote("unicode/模型-ü.json"))
        self.assertEqual(r.status, 307)
        self.assertIn("filename*=UTF-8''%E6%A8%A1%E5%9E%8B-%C3%BC.json", r.h["content-disposition"])
        r = self.get("/acme/tiny/resolve/feature%2Fx/config.json", "HEAD")
        self.assertEqual(r.h["x-repo-commit"], self.tiny_c1["commit"])
        self.assertIn("%2Facme%2Ftiny%2Fresolve%2Ffeature%2Fx%2Fconfig.json=", r.h["location"])

    # -- errors and auth --------------------------------------------------------------------

    def test_not_found_errors(self):
        commit = self.tiny["commit"]
        for method in ("GET", "HEAD"):
            r = self.get("/acme/tiny/resolve/main/does-not-exist.bin", method)
            self.assertEqual(r.status, 404)
            self.assertEqual((r.h["x-error-code"], r.h["x-error-message"]), ("EntryNotFound", "Entry not found"))
            self.assertEqual(r.h["x-repo-commit"], commit)
            self.assertEqual(r.body, b"" if method == "HEAD" else b"Entry not found")
            self.assert_hub_headers(r, "resolvers")
        r = self.get("/acme/tiny/resolve/nope/config.json")
        self.assertEqual((r.status, r.h["x-error-code"], r.h["x-error-message"]),
                         (404, "RevisionNotFound", "Invalid rev id: nope"))
        self.assertEqual(r.json(), {"error": "Invalid rev id: nope"})
        self.assertEqual(self.get("/api/agent-harnesses").status, 404)

    def test_private_repo(self):
        self.assert_401_plain(self.get("/api/models/acme/private-model"), api=True)
        self.assert_401_plain(self.get("/acme/private-model/resolve/main/config.json"), api=False)
        self.assert_401_plain(self.get("/api/models/acme/private-model/tree/main"), api=True)
        r = self.get("/api/models/acme/private-model", headers=NOGRANT)
        self.assertEqual((r.status, r.h["x-error-code"]), (404, "RepoNotFound"))
        r = self.get("/acme/private-model/resolve/main/config.json", headers=NOGRANT)
        self.assertEqual((r.status, r.h["x-error-code"]), (404, "RepoNotFound"))
        self.assertTrue(self.get("/api/models/acme/private-model", headers=READER).json()["private"])

        files = self.files("acme/private-model")
        f = files["by_path"]["config.json"]
        r = self.get("/acme/private-model/resolve/main/config.json", headers=READER)
        self.assertEqual(r.status, 200)  # private: bytes directly, no 307
        self.assertEqual((r.h["etag"], r.h["x-repo-commit"], r.h["accept-ranges"]),
                         (f'"{f["git_sha1"]}"', files["commit"], "bytes"))
        self.assertEqual(int(r.h["content-length"]), f["size"])
        self.assertNotIn("x-linked-etag", r.h)
        self.assertEqual(git_sha1(r.body), f["git_sha1"])
        r = self.get("/acme/private-model/resolve/main/config.json", headers={**READER, "Range": "bytes=-3"})
        self.assertEqual((r.status, r.h["content-range"]), (206, f"bytes {f['size'] - 3}-{f['size'] - 1}/{f['size']}"))
        r = self.get("/acme/private-model/resolve/main/config.json", headers={**READER, "Range": f"bytes={f['size']}-"})
        self.assertEqual((r.status, r.h["content-range"]), (416, f"bytes */{f['size']}"))
        self.assertEqual(r.h["x-repo-commit"], files["commit"])
        r = self.get("/acme/private-model/resolve/main/model.safetensors", headers=READER)
        self.assertEqual(r.status, 302)
        lfs = files["by_path"]["model.safetensors"]
        self.assertEqual(hashlib.sha256(fetch(r.h["location"]).body).hexdigest(), lfs["sha256"])
        cache = f"/api/resolve-cache/models/acme/private-model/{files['commit']}/config.json"
        self.assert_401_plain(self.get(cache), api=True)
        self.assertEqual(self.get(cache, headers=READER).status, 200)

    def test_nonexistent_repo_and_tokens(self):
        self.assert_401_plain(self.get("/api/models/acme/nope"), api=True)
        self.assert_401_plain(self.get("/acme/nope/resolve/main/config.json"), api=False)
        r = self.get("/api/models/acme/nope", headers=READER)
        self.assertEqual((r.status, r.h["x-error-code"]), (404, "RepoNotFound"))
        self.assertEqual(self.get("/acme/nope/resolve/main/x", headers=READER).h["x-error-code"], "RepoNotFound")
        self.assert_401_plain(self.get("/api/models/acme/tiny", headers={"Authorization": "Bearer hf_unknown"}), api=True)
        self.assertEqual(self.get("/api/models/acme/tiny", headers=READER).status, 200)
        self.assertEqual(self.get("/api/whoami-v2", headers=READER).json()["name"], "reader")
        self.assertEqual(self.get("/api/whoami-v2").status, 401)
        self.assertEqual(self.get("/api/models/acme/tiny-dataset").status, 401)  # a dataset, not a model

    def test_gated_repo(self):
        info = self.get("/api/models/acme/gated-model").json()
        self.assertEqual(info["gated"], "manual")
        self.assertEqual(self.get("/api/models/acme/gated-model/tree/main").status, 200)
        r = self.get("/acme/gated-model/resolve/main/config.json")
        msg = ("Access to model acme/gated-model is restricted. You must have access to it and be "
               "authenticated to access it. Please log in.")
        self.assertEqual((r.status, r.h["x-error-code"], r.h["x-error-message"]), (401, "GatedRepo", msg))
        r = self.get("/acme/gated-model/resolve/main/model.safetensors", headers=NOGRANT)
        self.assertEqual((r.status, r.h["x-error-code"]), (403, "GatedRepo"))
        self.assertIn("not in the authorized list", r.h["x-error-message"])
        f = self.files("acme/gated-model")["by_path"]
        r = self.get("/acme/gated-model/resolve/main/config.json", headers=READER)
        self.assertEqual((r.status, git_sha1(r.body)), (200, f["config.json"]["git_sha1"]))
        self.assertEqual(self.get("/acme/gated-model/resolve/main/model.safetensors", headers=READER).status, 302)

    def test_renamed_and_case_redirects(self):
        cases = [("/api/models/acme/old-name?expand=sha", "/api/models/acme/renamed-model?expand=sha"),
                 ("/api/models/ACME/Old-Name/revision/main", "/api/models/acme/renamed-model/revision/main"),
                 ("/acme/old-name/resolve/main/config.json", "/acme/renamed-model/resolve/main/config.json"),
                 ("/api/models/ACME/Tiny/tree/main?recursive=true", "/api/models/acme/tiny/tree/main?recursive=true"),
                 ("/datasets/Acme/Tiny-Dataset/resolve/main/README.md", "/datasets/acme/tiny-dataset/resolve/main/README.md")]
        for src, dst in cases:
            r = self.get(src, "HEAD")
            self.assertEqual((r.status, r.h["location"]), (307, dst), src)
            self.assertIn("ratelimit", r.h)
        self.assertEqual(self.get("/api/models/acme/renamed-model?expand=sha").status, 200)

    def test_dataset_routes(self):
        files = self.files("acme/tiny-dataset", "dataset")
        info = self.get("/api/datasets/acme/tiny-dataset").json()
        self.assertNotIn("modelId", info)
        self.assertEqual((info["id"], info["sha"]), ("acme/tiny-dataset", files["commit"]))
        r = self.get("/datasets/acme/tiny-dataset/resolve/main/README.md")
        self.assertEqual(r.status, 307)
        self.assertTrue(r.h["location"].startswith(
            f"/api/resolve-cache/datasets/acme/tiny-dataset/{files['commit']}/README.md?%2Fdatasets%2Facme%2Ftiny-dataset%2Fresolve%2Fmain%2FREADME.md="))
        pq = files["by_path"]["data/train-00000-of-00001.parquet"]
        r = self.follow_to_bytes("/datasets/acme/tiny-dataset/resolve/main/data/train-00000-of-00001.parquet")
        self.assertEqual(hashlib.sha256(r.body).hexdigest(), pq["sha256"])
        tree = self.get("/api/datasets/acme/tiny-dataset/tree/main?recursive=true").json()
        self.assertEqual({e["path"] for e in tree if e["type"] == "file"}, set(files["by_path"]))

    def test_hostile_tree_entries(self):
        paths = [e["path"] for e in self.get("/api/models/acme/hostile/tree/main?recursive=true").json()]
        for p in ("../../escape.txt", "/abs/path.txt", "ok/../../x.txt"):
            self.assertIn(p, paths)
        r = self.follow_to_bytes("/acme/hostile/resolve/main/..%2F..%2Fescape.txt")
        self.assertEqual(r.body, b"escaped!\n")

    def test_xet_read_token(self):
        r = self.get(f"/api/models/acme/tiny/xet-read-token/{self.tiny['commit']}")
        self.assertEqual(r.status, 200)
        self.assertEqual(set(r.json()), {"accessToken", "casUrl", "exp"})
        self.assertEqual(r.h["x-xet-cas-url"], self.cdn)

    def test_ratelimit_headers(self):
        r1, r2 = self.get("/api/models/acme/tiny"), self.get("/api/models/acme/tiny")
        n1 = int(re.search(r";r=(\d+);", r1.h["ratelimit"]).group(1))
        n2 = int(re.search(r";r=(\d+);", r2.h["ratelimit"]).group(1))
        self.assertLess(n2, n1)
        for path, bucket in [("/api/models/acme/nope", "api"), ("/acme/tiny/resolve/main/README.md", "resolvers"),
                             ("/acme/tiny/resolve/main/model.safetensors", "resolvers"),
                             ("/acme/private-model/resolve/main/config.json", "resolvers"), ("/nothing-here", "api")]:
            self.assert_hub_headers(self.get(path, "HEAD"), bucket)

    # -- faults -----------------------------------------------------------------------------

    def test_fault_rate_limit_header_choices(self):
        # RateLimit's reset apart from Retry-After, and RateLimit alone.
        self.ctl("POST", "faults", {"rate_limit": {"count": 1, "retry_after": 1, "ratelimit_reset": 4}})
        r = self.get("/api/models/acme/tiny/revision/main")
        self.assertEqual((r.status, r.h["retry-after"], r.h["ratelimit"]), (429, "1", '"api";r=0;t=4'))
        self.ctl("POST", "faults", {"rate_limit": {"count": 1, "retry_after": None, "ratelimit_reset": 3}})
        r = self.get("/acme/tiny/resolve/main/config.json", "HEAD")
        self.assertEqual((r.status, r.h["ratelimit"]), (429, '"resolvers";r=0;t=3'))
        self.assertNotIn("retry-after", r.h)
        self.assertEqual(self.get("/api/models/acme/tiny").status, 200)

    def test_fault_hub_delay(self):
        self.ctl("POST", "faults", {"hub_delay": {"count": 1, "seconds": 0.5, "paths": "/tree/"}})
        t0 = time.monotonic()
        self.assertEqual(self.get("/api/models/acme/tiny").status, 200)  # filtered out: not slow
        self.assertLess(time.monotonic() - t0, 0.4)
        t0 = time.monotonic()
        self.assertEqual(self.get("/api/models/acme/tiny/tree/main").status, 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.5)
        self.assertEqual(self.ctl("GET", "faults"), {})

    def test_fault_cdn_stall(self):
        loc = self.get("/acme/tiny/resolve/main/model.safetensors", "HEAD").h["location"]
        u = urllib.parse.urlsplit(loc)
        # Held for hold_seconds, then closed: the client sees a short body after the pause.
        self.ctl("POST", "requests/clear")
        self.ctl("POST", "faults", {"cdn_stall": {"count": 1, "after_bytes": 5000, "hold_seconds": 0.6}})
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        t0 = time.monotonic()
        c.request("GET", f"{u.path}?{u.query}", headers={"Range": "bytes=0-99999"})
        resp = c.getresponse()
        self.assertEqual(resp.status, 206)
        with self.assertRaises(http.client.IncompleteRead) as cm:
            resp.read()
        self.assertEqual(len(cm.exception.partial), 5000)
        self.assertGreaterEqual(time.monotonic() - t0, 0.6)
        c.close()
        entry = self.ctl("GET", "requests?listener=cdn")[-1]
        self.assertEqual((entry["fault"], entry["stall_end"]), ("cdn_stall", "hold_expired"))
        # A client that gives up (closes) ends the stall at once, and it is logged so.
        self.ctl("POST", "requests/clear")
        self.ctl("POST", "faults", {"cdn_stall": {"count": 1, "after_bytes": 1000}})  # hold: 300 s
        with socket.create_connection((u.hostname, u.port), timeout=30) as sock:
            sock.sendall(f"GET {u.path}?{u.query} HTTP/1.1\r\nHost: {u.netloc}\r\n\r\n".encode())
            got = b""
            while b"\r\n\r\n" not in got or len(got.split(b"\r\n\r\n", 1)[1]) < 1000:
                chunk = sock.recv(65536)
                self.assertTrue(chunk, "closed before the stall")
                got += chunk
            sock.settimeout(0.3)
            with self.assertRaises(socket.timeout):  # silence, not EOF
                sock.recv(1)
        deadline = time.monotonic() + 10
        while True:
            entry = self.ctl("GET", "requests?listener=cdn")[-1]
            if "stall_end" in entry or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(entry.get("stall_end"), "client_closed")
        self.assertLess(entry["stall_seconds"], 10)
        self.assertEqual(self.ctl("GET", "faults"), {})

    def test_fault_rate_limit(self):
        self.ctl("POST", "faults", {"rate_limit": {"count": 2, "retry_after": 7, "paths": "/tree/"}})
        r = self.get("/api/models/acme/tiny/tree/main")
        self.assertEqual((r.status, r.h["retry-after"], r.h["ratelimit"]), (429, "7", '"api";r=0;t=7'))
        self.assertEqual(self.get("/api/models/acme/tiny").status, 200)  # filtered out
        self.assertEqual(self.get("/api/models/acme/tiny/tree/main").status, 429)
        self.assertEqual(self.get("/api/models/acme/tiny/tree/main").status, 200)
        self.assertEqual(self.ctl("GET", "faults"), {})
        self.ctl("POST", "faults", {"rate_limit": {"count": 1, "retry_after": 2}})
        r = self.get("/acme/tiny/resolve/main/config.json", "HEAD")
        self.assertEqual((r.status, r.h["ratelimit"]), (429, '"resolvers";r=0;t=2'))

    def test_fault_server_errors(self):
        self.ctl("POST", "faults", {"server_error": {"count": 1, "status": 502}})
        self.assertEqual(self.get("/api/models/acme/tiny").status, 502)
        self.assertEqual(self.get("/api/models/acme/tiny").status, 200)
        loc = self.get("/acme/tiny/resolve/main/model.safetensors", "HEAD").h["location"]
        self.ctl("POST", "faults", {"cdn_server_error": {"count": 2}})
        self.assertEqual([fetch(loc, "HEAD").status for _ in range(3)], [503, 503, 200])

    def test_fault_corrupt(self):
        f = self.tiny["by_path"]["model.safetensors"]
        loc = self.get("/acme/tiny/resolve/main/model.safetensors", "HEAD").h["location"]
        self.ctl("POST", "faults", {"corrupt": {"path": "model.safetensors", "count": 1}})
        # a range that misses the flipped byte (the middle) does not use the fault up
        self.assertEqual(fetch(loc, headers={"Range": "bytes=0-99"}).status, 206)
        bad = fetch(loc)
        self.assertEqual((bad.status, len(bad.body), bad.h["etag"]), (200, f["size"], f'"{f["xet_hash"]}"'))
        self.assertNotEqual(hashlib.sha256(bad.body).hexdigest(), f["sha256"])
        self.assertEqual(hashlib.sha256(fetch(loc).body).hexdigest(), f["sha256"])
        # direct (private) serving too, limited to one repo
        self.ctl("POST", "faults", {"corrupt": {"path": "config.json", "repo": "acme/private-model"}})
        good = self.get("/acme/tiny/resolve/main/config.json")  # other repo: untouched
        self.assertEqual(git_sha1(self.get(good.h["location"]).body), self.tiny["by_path"]["config.json"]["git_sha1"])
        want = self.files("acme/private-model")["by_path"]["config.json"]["git_sha1"]
        for _ in range(2):  # no count: forever
            r = self.get("/acme/private-model/resolve/main/config.json", headers=READER)
            self.assertEqual(r.h["etag"], f'"{want}"')
            self.assertNotEqual(git_sha1(r.body), want)
        self.ctl("POST", "faults/clear")
        self.assertEqual(git_sha1(self.get("/acme/private-model/resolve/main/config.json", headers=READER).body), want)

    def test_fault_cdn_ignore_range_reset_expire(self):
        f = self.tiny["by_path"]["model.safetensors"]
        loc = self.get("/acme/tiny/resolve/main/model.safetensors", "HEAD").h["location"]
        self.ctl("POST", "faults", {"cdn_ignore_range": {"count": 1}})
        r = fetch(loc, headers={"Range": "bytes=100-199"})
        self.assertEqual((r.status, len(r.body)), (200, f["size"]))
        self.assertNotIn("content-range", r.h)
        self.assertEqual(fetch(loc, headers={"Range": "bytes=100-199"}).status, 206)

        self.ctl("POST", "faults", {"cdn_reset": {"count": 1, "after_bytes": 1000}})
        u = urllib.parse.urlsplit(loc)
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        c.request("GET", f"{u.path}?{u.query}")
        resp = c.getresponse()
        self.assertEqual(resp.status, 200)
        with self.assertRaises(http.client.IncompleteRead) as cm:
            resp.read()
        self.assertEqual(len(cm.exception.partial), 1000)
        c.close()
        r = fetch(loc, headers={"Range": "bytes=1000-"})
        self.assertEqual((r.status, len(r.body)), (206, f["size"] - 1000))

        self.ctl("POST", "faults", {"cdn_expire": {"count": 1}})
        r = fetch(loc)
        self.assertEqual(r.status, 403)
        self.assertIn(b"Request has expired", r.body)
        self.assertEqual(fetch(loc, "HEAD").status, 200)
        self.assertEqual(self.ctl("GET", "faults"), {})

    # -- control API ------------------------------------------------------------------------

    def test_branch_move(self):
        c1, c2 = self.tiny_c1["commit"], self.tiny["commit"]
        try:
            self.ctl("POST", "branch", {"repo": "acme/tiny", "type": "model", "branch": "main", "commit": "c1"})
            self.assertEqual(self.get("/api/models/acme/tiny?expand=sha").json()["sha"], c1)
            self.assertEqual(self.get("/acme/tiny/resolve/main/config.json", "HEAD").h["x-repo-commit"], c1)
            self.ctl("POST", "branch", {"repo": "acme/tiny", "branch": "tmp", "commit": c2[:10]})
            self.assertEqual(self.get("/api/models/acme/tiny/revision/tmp?expand=sha").json()["sha"], c2)
        finally:
            self.ctl("POST", "branch", {"repo": "acme/tiny", "branch": "main", "commit": c2})
            self.ctl("POST", "branch", {"repo": "acme/tiny", "branch": "tmp", "commit": None})
        self.assertEqual(self.get("/api/models/acme/tiny?expand=sha").json()["sha"], c2)

    def test_request_log(self):
        self.ctl("POST", "requests/clear")
        self.get("/api/models/acme/tiny?expand=sha", headers={"X-Test": "yes"})
        loc = self.get("/acme/tiny/resolve/main/model.safetensors", "HEAD").h["location"]
        fetch(loc, headers={"Range": "bytes=0-0"})
        self.ctl("GET", "faults")  # control requests are not recorded
        log = self.ctl("GET", "requests")
        self.assertEqual([(e["listener"], e["method"], e["status"]) for e in log],
                         [("hub", "GET", 200), ("hub", "HEAD", 302), ("cdn", "GET", 206)])
        hub_port = urllib.parse.urlsplit(self.hub).port
        self.assertEqual((log[0]["host"], log[0]["path"], log[0]["query"]),
                         (f"localhost:{hub_port}", "/api/models/acme/tiny", "expand=sha"))
        self.assertEqual(log[0]["headers"]["x-test"], "yes")
        self.assertEqual({e["tls"] for e in log}, {False})
        self.assertTrue(log[2]["host"].startswith("127.0.0.1:"))
        self.assertEqual((log[2]["range"], log[0]["range"]), ("bytes=0-0", None))
        self.assertNotIn("authorization", log[2]["headers"])

    def test_demo_repo_and_throughput(self):
        files = self.files("hfmirror-demo/tiny-gpt2")
        self.assertTrue({"config.json", "generation_config.json", "tokenizer.json", "vocab.txt", "README.md",
                         "model.safetensors", "onnx/model.onnx"} <= set(files["by_path"]))
        st = files["by_path"]["model.safetensors"]
        self.assertTrue(st["lfs"] and st["size"] % (8 << 20) != 0 and st["size"] > 48 << 20)
        r = self.get("/hfmirror-demo/tiny-gpt2/resolve/main/tokenizer.json")
        json.loads(self.get(r.h["location"]).body)  # the generated tokenizer is valid JSON
        vocab = self.follow_to_bytes("/hfmirror-demo/tiny-gpt2/resolve/main/vocab.txt").body
        self.assertTrue(vocab.isascii() and all(32 <= c < 127 or c == 10 for c in vocab) and vocab.endswith(b"\n"))
        loc = self.get("/hfmirror-demo/tiny-gpt2/resolve/main/model.safetensors", "HEAD").h["location"]
        t0 = time.monotonic()
        body = fetch(loc).body
        rate = len(body) / (time.monotonic() - t0) / 1e6
        self.assertEqual(hashlib.sha256(body).hexdigest(), st["sha256"])
        self.assertGreater(rate, 50, f"CDN throughput {rate:.0f} MB/s")

    def test_parallel_range_download(self):
        """16 workers x keep-alive connections fetch 4 MiB ranges of the demo weights concurrently."""
        st = self.files("hfmirror-demo/tiny-gpt2")["by_path"]["onnx/model.onnx"]
        loc = self.get("/hfmirror-demo/tiny-gpt2/resolve/main/onnx/model.onnx", "HEAD").h["location"]
        size, chunk = st["size"], 4 << 20
        ranges = [(a, min(size, a + chunk) - 1) for a in range(0, size, chunk)]
        parts, errors = {}, []
        u = urllib.parse.urlsplit(loc)

        def worker(mine):
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
            try:
                for a, b in mine:
                    r = fetch(loc, headers={"Range": f"bytes={a}-{b}"}, conn=c)
                    if r.status != 206 or r.h["content-range"] != f"bytes {a}-{b}/{size}":
                        errors.append((a, r.status))
                    parts[a] = r.body
            except Exception as e:  # reported below
                errors.append(e)
            finally:
                c.close()

        threads = [threading.Thread(target=worker, args=(ranges[i::16],)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        data = b"".join(parts[a] for a, _ in ranges)
        self.assertEqual(hashlib.sha256(data).hexdigest(), st["sha256"])

    def test_second_instance_cache_expiry_and_sigterm(self):
        """Same data dir: blobs are reused, not regenerated. --cdn-expires 0: signed URLs are born expired."""
        spec = os.path.join(self.tmp, "one.json")
        with open(spec, "w") as f:
            json.dump({"repos": [{"id": "x/one", "commits": [{"name": "c1", "files": [
                {"path": "w.safetensors", "size": 20000000, "lfs": True, "seed": 7}]}]}]}, f)
        blob = self.tiny_c1["by_path"]["model.safetensors"]
        mtime = os.stat(blob["blob_path"]).st_mtime_ns
        emu = Emulator([spec], self.tmp, "--cdn-expires", "0")
        try:
            got = fetch(f"{emu.hub}/_emulator/repos/model/x/one/files").json()["files"][0]
            self.assertEqual((got["blob_path"], got["sha256"]), (blob["blob_path"], blob["sha256"]))
            self.assertEqual(os.stat(blob["blob_path"]).st_mtime_ns, mtime)
            loc = fetch(f"{emu.hub}/x/one/resolve/main/w.safetensors", "HEAD").h["location"]
            time.sleep(0.01)
            r = fetch(loc)
            self.assertEqual(r.status, 403)
            self.assertIn(b"<Message>Request has expired</Message>", r.body)
        finally:
            self.assertEqual(emu.stop(), 0)


class HttpsModeTest(unittest.TestCase):
    """--tls-cert/--tls-key: both listeners speak TLS with https:// URLs, plain HTTP still works on
    the same ports (control API), and a client that refuses the certificate is counted."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hub-emulator-tls-")
        cls.pki = make_test_pki(os.path.join(cls.tmp, "pki"))
        spec = os.path.join(HERE, "specs", "testrepos.json")
        cls.emu = Emulator([spec], cls.tmp, "--tls-cert", cls.pki.server_pem, "--tls-key", cls.pki.server_key)
        cls.ctx = ssl.create_default_context(cafile=cls.pki.ca_pem)

    @classmethod
    def tearDownClass(cls):
        rc = cls.emu.stop()
        err = cls.emu.stderr()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert rc == 0, f"emulator exit code {rc}"
        assert "Traceback" not in err, f"emulator stderr:\n{err}"

    def plain(self, url):
        return url.replace("https://", "http://", 1)

    def test_https_urls_and_downloads(self):
        hub, cdn = self.emu.hub, self.emu.cdn
        self.assertRegex(hub, r"^https://localhost:\d+$")
        self.assertRegex(cdn, r"^https://127\.0\.0\.1:\d+$")
        files = fetch(f"{self.plain(hub)}/_emulator/repos/model/acme/tiny/files").json()["files"]
        want = {f["path"]: f for f in files}
        r = fetch(f"{hub}/acme/tiny/resolve/main/model.safetensors", "HEAD", context=self.ctx)
        self.assertEqual(r.status, 302)
        self.assertTrue(r.h["location"].startswith(cdn + "/xet-bridge-us/"), r.h["location"])
        self.assertIn(f"<{hub}/api/models/acme/tiny/xet-read-token/", r.h["link"])
        body = fetch(r.h["location"], context=self.ctx).body
        self.assertEqual(hashlib.sha256(body).hexdigest(), want["model.safetensors"]["sha256"])
        r = fetch(f"{hub}/acme/tiny/resolve/main/config.json", context=self.ctx)
        self.assertEqual(r.status, 307)
        body = fetch(hub + r.h["location"], context=self.ctx).body
        self.assertEqual(git_sha1(body), want["config.json"]["git_sha1"])
        log = fetch(f"{self.plain(hub)}/_emulator/requests").json()
        self.assertTrue(log and all(e["tls"] for e in log), log)

    def test_plain_http_on_the_same_port(self):
        r = fetch(f"{self.plain(self.emu.hub)}/api/models/acme/tiny")
        self.assertEqual(r.status, 200)

    def test_untrusted_certificate_is_refused_and_counted(self):
        before = fetch(f"{self.plain(self.emu.hub)}/_emulator/stats").json()["tls_handshake_failures"]
        for ca in (None, self.pki.other_ca_pem):
            with self.assertRaises(ssl.SSLCertVerificationError):
                fetch(f"{self.emu.hub}/api/models/acme/tiny", context=ssl.create_default_context(cafile=ca))
        deadline = time.monotonic() + 5
        while True:  # the server side notices the alert a moment later
            stats = fetch(f"{self.plain(self.emu.hub)}/_emulator/stats").json()
            if stats["tls_handshake_failures"] >= before + 2 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(stats["tls_handshake_failures"], before + 2)
        self.assertTrue(any("unknown ca" in e.lower() for e in stats["tls_errors"]), stats["tls_errors"])


if __name__ == "__main__":
    unittest.main()
