"""e2e, S3: seeded SIGKILL trials on a real S3 server (Ceph RGW) -- nothing lost, nothing
half-written.

The same kind of trials as test_kill_trials.py (whose machinery this module imports: the
repos, the seeded plan -- HFM_KILL_SEED --, the kill loop, the invariant checks and the figures),
with s3://bucket/prefix as the destination, part checks sha256 (auto on RGW) or crc32c, 5 MiB
parts (the large file is a 4-part multipart upload), and S3 kill points besides the delay and
the Hub/CDN request counts: hfmirror talks to RGW through S3Tap, a byte-for-byte relay
that names every request and holds one chosen request -- the n-th UploadPart, upload record
(.hfmirror/uploads/), CompleteMultipartUpload, one-part PutObject, pending marker, the withdrawal
of the old manifest (previous-manifest.json) or the new manifest -- either before it reaches RGW
or after RGW carried it out but before hfmirror hears back. hfmirror is SIGKILLed while the
request is held, so the kill lands exactly there.

After each kill: a manifest, if any, lists exactly its commit's files and each of them is an
object with the right bytes; every object at a file's key is complete and correct (the new
commit's version or, during an update, the old one) and its x-amz-meta-hfmirror-content-id says
what it holds. Multipart uploads and upload records may be left for the resume. After the
re-run without faults (rollback: at c1): exit 0, exactly the Hub's files and the manifest under
the prefix (no upload records, pending markers or previous manifest), no multipart upload left
under the prefix, and `verify --deep` passes.
"""

import json
import os
import socket
import sys
import threading
import unittest
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(os.environ.get("HFM_SOURCE_DIR") or Path(__file__).resolve().parents[2])
                       / "tests" / "support"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import s3env  # noqa: E402
import test_kill_trials as kill  # noqa: E402
from e2ebase import EmulatorTestCase  # noqa: E402
from s3e2e import MANIFEST, META_CONTENT_ID, MIB, S3TestCase  # noqa: E402

STATE = ".hfmirror/"


# --------------------------------------------------------------------------------------------
# S3Tap: a relay that can hold one request
# --------------------------------------------------------------------------------------------

def s3_request_kind(method, key, query):
    """What an S3 request does, in the words of the kill points."""
    if method == "PUT" and "partNumber" in query and "uploadId" in query:
        return "upload_part"
    if method == "POST" and "uploads" in query:
        return "create_upload"
    if method == "POST" and "uploadId" in query:
        return "complete"
    if method == "DELETE" and "uploadId" in query:
        return "abort"
    if method == "POST" and "delete" in query:
        return "delete"
    if method == "PUT":
        if f"/{STATE}uploads/" in key:
            return "record"
        if f"/{STATE}pending/" in key:
            return "pending"
        if key.endswith(f"/{STATE}previous-manifest.json"):
            return "withdraw"
        if key.endswith(f"/{STATE}manifest.json"):
            return "manifest"
        return "put_file"
    return method.lower()


class S3Tap:
    """Relays hfmirror's connections to the S3 server byte for byte (SigV4 signs the Host header
    hfmirror sent, which RGW checks as received), parsing only request heads. arm(kind, n, mode)
    holds the n-th request of that kind: `before` it is sent on, or `after` RGW answered it (the
    answer is kept from hfmirror). `held` is set once it is held; disarm() lets go (the held
    connection is closed: its client is dead by then)."""

    def __init__(self, upstream):
        u = urllib.parse.urlsplit(upstream)
        self.upstream = (u.hostname, u.port or 80)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.held = threading.Event()
        self._lock = threading.Lock()
        self._rule = None
        self._counts = {}
        self._release = threading.Event()
        self.events = []
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, kind, n, mode):
        with self._lock:
            self._release.set()
            self._release = threading.Event()
            self._rule = (kind, n, mode)
            self._counts = {}
            self.events = []
            self.held.clear()

    def disarm(self):
        with self._lock:
            self._rule = None
            self._release.set()

    def close(self):
        self.disarm()
        self.listener.close()

    def _match(self, method, target):
        """None, or (mode, release event) when this request is the one to hold."""
        path, _, qs = target.partition("?")
        query = urllib.parse.parse_qs(qs, keep_blank_values=True)
        kind = s3_request_kind(method, urllib.parse.unquote(path), query)
        with self._lock:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            self.events.append((kind, method, urllib.parse.unquote(path)))
            if self._rule and self._rule[0] == kind and self._rule[1] == self._counts[kind]:
                rule, self._rule = self._rule, None
                return rule[2], self._release
        return None

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    @staticmethod
    def _close(*socks):
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _serve(self, client):
        try:
            upstream = socket.create_connection(self.upstream, timeout=30)
            upstream.settimeout(None)
        except OSError:
            self._close(client)
            return
        gate = {"hold": None}  # the release event while the next answer must be held
        threading.Thread(target=self._answers, args=(upstream, client, gate), daemon=True).start()
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = client.recv(1 << 16)
                    if not chunk:
                        return
                    buf += chunk
                head, _, buf = buf.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target = lines[0].split(" ")[:2]
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                hold = self._match(method, target)
                if hold and hold[0] == "before":
                    self.held.set()
                    hold[1].wait()
                    return
                if hold:
                    gate["hold"] = hold[1]
                upstream.sendall(head + b"\r\n\r\n")
                body, buf = buf[:length], buf[length:]
                upstream.sendall(body)
                remaining = length - len(body)
                while remaining > 0:
                    chunk = client.recv(min(remaining, 1 << 20))
                    if not chunk:
                        return
                    upstream.sendall(chunk)
                    remaining -= len(chunk)
        except (OSError, ValueError):
            pass
        finally:
            self._close(client, upstream)

    def _answers(self, upstream, client, gate):
        try:
            while True:
                data = upstream.recv(1 << 16)
                if not data:
                    return
                if gate["hold"] is not None:
                    self.held.set()  # RGW has carried the request out
                    gate["hold"].wait()
                    return
                client.sendall(data)
        except OSError:
            pass
        finally:
            self._close(client, upstream)


# --------------------------------------------------------------------------------------------
# The trials
# --------------------------------------------------------------------------------------------

S3_POINTS = kill.COMMON_POINTS + ("upload_part", "record", "complete", "put_file", "pending", "withdraw",
                                  "manifest")


def s3_compatible(point, kind, family):
    if point in ("upload_part", "record", "complete"):
        return kind in ("large", "mix")  # multipart uploads
    if point in ("pending", "withdraw"):
        return family in ("update", "rollback")  # replacing a complete mirror
    return True


class S3KillTrialsTest(kill.KillTrials, S3TestCase):
    MODULE = "test_s3_kill_trials"
    PART_SIZE = 5 * MIB  # RGW's smallest non-last part
    RUN_ARGS = ["--part-size", "5MiB", "--parallel", "2"]
    SLOW_BYTES_PER_SEC = {"small": 500_000, "large": 4_000_000, "mix": 4_000_000}
    EXPECTED_SECONDS = {"small": 2.6, "large": 2.8, "mix": 3.2}

    @classmethod
    def setUpClass(cls):
        cls.s3info = s3env.ensure_server()
        super(EmulatorTestCase, cls).setUpClass()  # not EmulatorTestCase's: the kill-trial repos
        kill.start_emulator(cls)
        cls.s3 = s3env.client(cls.s3info)
        cls.bucket = s3env.new_bucket("hfm-e2e-kill-trials", s3=cls.s3)
        cls.addClassCleanup(s3env.delete_bucket, cls.bucket, s3=cls.s3)
        cls.tap = S3Tap(cls.s3info["endpoint"])
        cls.addClassCleanup(cls.tap.close)
        cls.begin_trials()

    # -- hooks -----------------------------------------------------------------------------

    def make_dest(self, trial):
        self.objects = {}  # (key, size, ETag, LastModified) -> (Seen, stored content id): read once
        return f"t{trial.index:02d}"

    def sync_args(self, trial, dest, killed):
        endpoint = self.tap.endpoint if killed else self.endpoint()
        args = ["sync", kill.REPOS[trial.kind], "--to", self.dest(dest), "--json", "--progress", "none",
                "--s3-endpoint", endpoint, *self.RUN_ARGS]
        return args + (["--part-checksum", "crc32c"] if trial.dest == "s3-crc32c" else [])

    def run_env(self):
        return self.s3_env()

    def on_killed(self):
        self.tap.disarm()

    def dest_point(self, kind, rng, trial, ctx, dest):
        exp = ctx["exp"]["by_path"]
        changed = ctx["changed"]
        multipart = [p for p in changed if exp[p]["size"] > self.PART_SIZE]
        parts = sum(-(-exp[p]["size"] // self.PART_SIZE) for p in multipart)
        count = {"upload_part": parts, "record": parts, "complete": len(multipart),
                 "put_file": len(changed) - len(multipart),
                 "pending": len(changed & set(ctx["old"]["by_path"])) if ctx["old"] else 0,
                 "withdraw": 1, "manifest": 1}[kind]
        n = rng.randint(1, max(1, count))
        mode = rng.choice(("before", "after"))
        label = f"S3 {kind} #{n} of {count}, held {mode} RGW"
        return label, self.tap.held.is_set, lambda: self.tap.arm(kind, n, mode)

    def observe(self, trial, prefix, exps, target):
        obs = kill.Observation(self.known)
        listing = self.snapshot(prefix)  # {key: (size, ETag, LastModified)}
        keys = {k[len(prefix) + 1:] for k in listing}
        visible = {}
        for k in sorted(keys):
            if k.startswith(STATE):
                continue
            ident = (k, *listing[f"{prefix}/{k}"])
            if ident not in self.objects:
                try:
                    r = self.s3.get_object(Bucket=self.bucket, Key=f"{prefix}/{k}")
                except self.s3.exceptions.NoSuchKey:
                    obs.lost(f"{k!r} is listed but cannot be read", k)
                    continue
                self.objects[ident] = (kill.seen_bytes(r["Body"].read()), r.get("Metadata", {}).get(META_CONTENT_ID))
            seen, stored = self.objects[ident]
            visible[k] = seen
            if stored not in (seen.sha256, seen.git_sha1):
                obs.lost(f"{k!r}: x-amz-meta-{META_CONTENT_ID} {stored} is not the content id of its bytes", k)
        kill.check_visible(obs, visible, exps, target)
        m = json.loads(self.read(f"{prefix}/{MANIFEST}")) if MANIFEST in keys else None
        if m is not None and m.get("repo_id") != kill.REPOS[trial.kind]:
            obs.lost(f"the manifest is of {m.get('repo_id')}")
        kill.check_manifest(obs, m, exps, lambda path, mf: visible.get(path))
        return obs

    def check_final(self, trial, prefix, exp, problems):
        """After observe() read every object against the final commit: exactly its files and the
        manifest under the prefix, no multipart upload, and verify --deep passes."""
        keys = self.keys(prefix)
        want = set(exp["by_path"]) | {MANIFEST}
        if keys != want:
            problems.append(kill.Problem(False, f"after the re-run, objects under {prefix}/ that should not be "
                                         f"there: {sorted(keys - want)}, missing: {sorted(want - keys)}"))
        uploads = self.uploads(f"{prefix}/")
        counts = {"multipart uploads": len(uploads),
                  "upload records": sum(k.startswith(f"{STATE}uploads/") for k in keys),
                  "other state objects": sum(k.startswith(STATE) and k != MANIFEST and
                                             not k.startswith(f"{STATE}uploads/") for k in keys)}
        for name, n in counts.items():
            self.figures.leftover[name] += n
        if uploads:
            problems.append(kill.Problem(False, f"after the re-run, multipart uploads left under {prefix}/: "
                                         f"{sorted(u['Key'] for u in uploads)}"))
        v = self.verify_s3(prefix, "--deep")
        if v.rc != 0:
            problems.append(kill.Problem(False, "verify --deep failed after the re-run: " + v.describe()))


kill.add_trial_tests(S3KillTrialsTest, kill.plan_trials(
    kill.SEED, "s3", families={"cold": 5, "double": 4, "update": 4, "rollback": 3},
    dests={"s3": 2, "s3-crc32c": 1}, points=S3_POINTS, compatible=s3_compatible))


if __name__ == "__main__":
    unittest.main(verbosity=2)
