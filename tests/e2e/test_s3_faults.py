"""e2e, S3 faults: hfmirror survives what S3 servers really do, injected by the project's fault
proxy (tests/emulators/s3proxy) in front of the real S3 server (Ceph RGW), which still checks
every signature.

Transient faults are retried and the run succeeds: 503 SlowDown (Retry-After is waited out), 500
InternalError once on every operation a sync makes, 400 RequestTimeout, a connection reset in
the middle of an UploadPart body, a 200 CompleteMultipartUpload whose body is an <Error>,
RequestTimeTooSkewed (the clock is corrected from the server's <ServerTime> or Date), and a
seeded mix of all of them. Credentials that stop working mid-run are re-read from
~/.aws/credentials after the key was rotated there -- an ExpiredToken from the proxy, and a real
InvalidAccessKeyId from RGW after the old key was deleted -- while without a new key the run
stops at once with exit 3. A dead endpoint (connections refused; 503 for every request from the
middle of a run) fails the run in bounded time with exit 1 and a message that names it.

After a run that should succeed: exactly the repo's files and the manifest under the prefix,
each object read back with boto3 and hashed against the Hub emulator, `hfmirror verify --deep`
(straight to RGW) passes, no multipart upload is left. After a run that should fail: no
manifest, no object whose bytes differ from the content id it carries, and a re-run without the
fault completes. Every injected fault is checked to have fired (one that never fires proves
nothing) and every faulted request to have been retried. Faults are chosen by count (after N
matching requests, M times) or, for the mix, by draws keyed by a seed printed on stderr
(HFM_S3_FAULT_SEED replays another).
"""

import calendar
import collections
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(os.environ.get("HFM_SOURCE_DIR") or Path(__file__).resolve().parents[2])
                       / "tests" / "support"))

from hubemu import finish_hfmirror, start_hfmirror  # noqa: E402
from s3e2e import MANIFEST, MIB, S3TestCase, secret_fragments  # noqa: E402
from s3proxy import S3FaultProxy  # noqa: E402

TINY = "acme/tiny"
PREFIX = "models/tiny"
MODEL = "model.safetensors"  # 20,000,000 bytes: 4 UploadParts of 5 MiB
PART_SIZE = "5MiB"
RGW_USER = "test"  # the user scripts/s3-server creates
SEED = int(os.environ.get("HFM_S3_FAULT_SEED") or 20261127)
# A dead endpoint must fail the run well within this (the retry policy gives up after about 8 s
# per request, and the run-wide retry budget bounds the rest).
DEAD_ENDPOINT_BOUND_S = 60

INJECTED = collections.Counter()  # faults that fired, by kind, over the module


def fault_kind(rule):
    action = rule.get("action", "error")
    if action == "error":
        return f"{rule.get('status', 503)} {rule.get('code', 'SlowDown')}"
    if action == "error_in_200":
        return f"200 with <Error>{rule.get('code', 'InternalError')}"
    if action == "reset":
        return "connection reset mid-body"
    if action == "clock_skew":
        return "403 RequestTimeTooSkewed"
    return action


def tearDownModule():
    total = sum(INJECTED.values())
    lines = [f"  {n:4d}  {kind}" for kind, n in sorted(INJECTED.items())]
    print(f"\ntest_s3_faults: {total} faults injected (seed {SEED}):\n" + "\n".join(lines), file=sys.stderr)


def radosgw_admin(info, *args):
    """radosgw-admin against the test server (its ceph.conf: CEPH_CONF from s3.env, else the
    state folder holding s3.env). Output is never shown: it holds secret keys."""
    exe = shutil.which("radosgw-admin")
    if exe is None:
        raise RuntimeError("radosgw-admin not found (run scripts/setup)")
    conf = info["env"].get("CEPH_CONF") or str(Path(info["env_file"]).parent / "ceph.conf")
    r = subprocess.run([exe, "-c", conf, "-n", "client.admin", *args], capture_output=True, text=True,
                       timeout=120, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise RuntimeError(f"radosgw-admin {args[0]} {args[1]} failed ({r.returncode}): {r.stderr[-2000:]}")


def new_rgw_key(info):
    """A fresh S3 key pair of the test user: (access key id, secret)."""
    key = ("HFMFAULT" + secrets.token_hex(6)).upper()
    secret = secrets.token_hex(20)
    radosgw_admin(info, "key", "create", f"--uid={RGW_USER}", "--key-type=s3", f"--access-key={key}",
                  f"--secret-key={secret}")
    return key, secret


def remove_rgw_key(info, key):
    radosgw_admin(info, "key", "rm", f"--uid={RGW_USER}", "--key-type=s3", f"--access-key={key}")


class ProxiedS3TestCase(S3TestCase):
    """hfmirror -> fault proxy -> RGW; reads and `verify` go straight to RGW."""

    proxy: S3FaultProxy = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.proxy = S3FaultProxy(cls.s3info["endpoint"]).start()
        cls.addClassCleanup(cls.proxy.stop)

    def setUp(self):
        super().setUp()
        self.proxy.reset()
        self.kinds = {}
        self.addCleanup(self.tally_faults)

    def tally_faults(self):
        self.proxy.release()  # nothing stays parked when a test failed half-way
        for e in self.proxy.requests(fault=True):
            if e["fault"] in self.kinds:
                INJECTED[self.kinds[e["fault"]]] += 1

    def reset_proxy(self):
        """No fault from here on (what fired so far is tallied first)."""
        self.tally_faults()
        self.proxy.reset()

    def inject(self, *rules, seed=None):
        for r in rules:
            if r.get("action") != "hold":
                self.kinds[r["name"]] = fault_kind(r)
        self.proxy.set_rules(rules, seed=seed)

    # -- running -----------------------------------------------------------------------------

    def proxied_args(self, *extra):
        return ["sync", TINY, "--to", self.dest(PREFIX), "--json", "--progress", "none",
                "--s3-endpoint", self.proxy.endpoint, "--part-size", PART_SIZE, *extra]

    def sync_via_proxy(self, *extra, env=None, expect_rc=0, timeout=120):
        return self.sync(TINY, self.dest(PREFIX), "--s3-endpoint", self.proxy.endpoint, "--part-size", PART_SIZE,
                         *extra, env=env if env is not None else self.s3_env(), expect_rc=expect_rc, timeout=timeout)

    def start_sync_via_proxy(self, *extra, env=None):
        p = start_hfmirror(self.proxied_args(*extra), endpoint=self.emu.hub,
                           env=env if env is not None else self.s3_env())
        self.addCleanup(lambda: p.poll() is None and (p.kill(), p.wait(10)))
        return p

    def hold_second_upload_part(self):
        """Parks the second UploadPart of the run until the next set_rules (see wait_held)."""
        return {"name": "hold", "match": {"op": "UploadPart"}, "after": 1, "times": 1, "action": "hold",
                "hold_timeout_s": 60}

    def wait_held(self, p):
        try:
            return self.proxy.wait_for_request(lambda e: e["held_by"] == "hold", timeout=60,
                                               what="the held UploadPart")
        except TimeoutError:
            p.kill()
            r = finish_hfmirror(p)
            self.fail(f"no UploadPart was held: {r.describe()}")

    # -- assertions --------------------------------------------------------------------------

    def assertSucceeded(self, r):
        js = self.assertOneJsonObject(r)
        self.assertEqual(js["result"], "ok", r.describe())
        self.assertEqual(js["files_transferred"], len(self.expected(TINY)["by_path"]), r.describe())

    def assertGoodMirror(self):
        self.assertS3Mirror(PREFIX, TINY)
        v = self.verify_s3(PREFIX, "--deep")
        self.assertEqual(v.rc, 0, f"verify --deep failed after a faulted run: {v.describe()}")
        self.assertNoMultipartUploads()

    def assertFired(self, name, n=None, at_least=1):
        fired = self.proxy.fired(name)
        if n is not None:
            self.assertEqual(fired, n, f"fault {name} fired {fired} times, not {n}")
        else:
            self.assertGreaterEqual(fired, at_least, f"fault {name} fired {fired} times")
        return fired

    @staticmethod
    def later_attempts(log, e, skip=lambda x: False):
        """Entries after e for the same operation, key and part (the same call sent again, or
        another call that looks the same, such as a second DeleteObjects), minus `skip`."""
        return [x for x in log if x["seq"] > e["seq"] and (x["op"], x["key"], x["part_number"]) ==
                (e["op"], e["key"], e["part_number"]) and not skip(x)]

    def assertEachFaultRetried(self, name):
        """Every request fault `name` hit was sent again later (same operation, key and part) and
        eventually answered by the server itself: 2xx, or 404 for an object that does not exist
        yet (the manifest of a first run). Returns [(fault entry, next attempt not hit by it)]."""
        log = self.proxy.requests()
        faults = [e for e in log if e["fault"] == name]
        self.assertTrue(faults, f"fault {name} never fired")
        pairs = []
        for f in faults:
            again = self.later_attempts(log, f, skip=lambda x: x["fault"] == name)
            self.assertTrue(again, f"{f['op']} {f['key']} part {f['part_number']} was not retried after {name}")
            self.assertTrue(any(e["upstream_status"] is not None and (200 <= e["upstream_status"] < 300 or
                                                                      e["upstream_status"] == 404) for e in again),
                            f"{f['op']} {f['key']} never succeeded after {name}: {again}")
            pairs.append((f, again[0]))
        return pairs

    def assertNothingHalfVisible(self):
        """After a failed run: no manifest, and every object there is whole and carries the
        content id of its bytes (nothing partial is visible)."""
        keys = self.keys(PREFIX)
        self.assertNotIn(MANIFEST, keys, "a failed run left a manifest")
        exp = self.expected(TINY)["by_path"]
        for k in keys:
            if k.startswith(".hfmirror/"):
                continue
            self.assertIn(k, exp, f"unexpected object {k}")
            self.assertObjectMatches(f"{PREFIX}/{k}", exp[k])
        v = self.verify_s3(PREFIX)
        self.assertNotEqual(v.rc, 0, "verify passed a mirror without a manifest")

    def assertRerunCompletes(self):
        self.reset_proxy()
        r = self.sync_via_proxy()
        self.assertEqual(r.json["result"], "ok", r.describe())
        self.assertGoodMirror()
        return r


class TransientFaultsTest(ProxiedS3TestCase):
    """Faults a client must retry (or correct): the run succeeds and the mirror is exact."""

    def test_no_fault_is_a_plain_sync(self):
        # The control: through the proxy with no rule, an ordinary sync.
        r = self.sync_via_proxy()
        self.assertSucceeded(r)
        log = self.proxy.requests()
        self.assertFalse([e for e in log if e["fault"]], "a fault fired with no rule set")
        self.assertEqual(len(self.proxy.requests(op="UploadPart")), 4)
        self.assertTrue(all(e["upstream_status"] is not None for e in log))
        self.assertGoodMirror()

    def test_503_slowdown_is_retried_after_retry_after(self):
        self.inject({"name": "slowdown-part", "match": {"op": "UploadPart"}, "after": 1, "times": 3,
                     "status": 503, "code": "SlowDown", "headers": {"Retry-After": "1"}},
                    {"name": "slowdown-put", "match": {"op": "PutObject"}, "times": 2,
                     "status": 503, "code": "SlowDown"})
        r = self.sync_via_proxy()
        self.assertSucceeded(r)
        self.assertFired("slowdown-part", 3)
        self.assertFired("slowdown-put", 2)
        log = self.proxy.requests()
        for fault, _ in self.assertEachFaultRetried("slowdown-part"):
            retry = self.later_attempts(log, fault)[0]  # may be faulted again: it waited all the same
            waited = retry["t_start"] - fault["t_end"]
            self.assertGreaterEqual(waited, 0.95, f"part {fault['part_number']} retried {waited:.2f}s after a "
                                                  "503 with Retry-After: 1")
        self.assertEachFaultRetried("slowdown-put")
        self.assertGoodMirror()

    def test_500_internal_error_once_on_every_operation_of_a_sync(self):
        ops = ["GetObject", "ListObjectsV2", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload",
               "HeadObject", "PutObject", "DeleteObjects", "ListMultipartUploads"]
        self.inject(*[{"name": f"500-{op}", "match": {"op": op}, "times": 1, "status": 500, "code": "InternalError"}
                      for op in ops])
        r = self.sync_via_proxy()
        self.assertSucceeded(r)
        for op in ops:
            self.assertFired(f"500-{op}", 1)  # each operation really happened and was hit once
            self.assertEachFaultRetried(f"500-{op}")
        self.assertGoodMirror()

    def test_400_request_timeout_is_retried(self):
        # S3 answers 400 RequestTimeout (and closes) when a request body stalls; unlike a 5xx its
        # status says nothing retryable -- only the code does.
        self.inject({"name": "timeout-part", "match": {"op": "UploadPart"}, "after": 1, "times": 2,
                     "status": 400, "code": "RequestTimeout", "close": True},
                    {"name": "timeout-put", "match": {"op": "PutObject", "key": "tokenizer.json"}, "times": 1,
                     "status": 400, "code": "RequestTimeout", "close": True})
        r = self.sync_via_proxy()
        self.assertSucceeded(r)
        self.assertFired("timeout-part", 2)
        self.assertFired("timeout-put", 1)
        self.assertEachFaultRetried("timeout-part")
        self.assertEachFaultRetried("timeout-put")
        self.assertGoodMirror()

    def test_connection_reset_in_the_middle_of_an_upload_part(self):
        self.inject({"name": "reset-part", "match": {"op": "UploadPart"}, "after": 1, "times": 2,
                     "action": "reset", "after_body_bytes": MIB},
                    {"name": "reset-put", "match": {"op": "PutObject", "key": "tokenizer.json"}, "times": 1,
                     "action": "reset", "after_body_bytes": 64 * 1024})
        r = self.sync_via_proxy()
        self.assertSucceeded(r)
        self.assertFired("reset-part", 2)
        self.assertFired("reset-put", 1)
        for fault, retry in self.assertEachFaultRetried("reset-part") + self.assertEachFaultRetried("reset-put"):
            # The reset came after some of the body had been read: a real partial upload.
            self.assertEqual(fault["body_bytes"], MIB if fault["op"] == "UploadPart" else 64 * 1024)
            self.assertGreater(fault["content_length"], fault["body_bytes"])
            self.assertIsNone(fault["status"], "the proxy answered instead of resetting")
            self.assertEqual(retry["body_bytes"], retry["content_length"])
        self.assertGoodMirror()

    def test_complete_multipart_upload_answering_200_with_an_error_body_is_retried(self):
        # AWS documents that CompleteMultipartUpload can fail after its 200 status line went out;
        # the upload is then still open and the call is to be retried.
        self.inject({"name": "complete-error-in-200", "match": {"op": "CompleteMultipartUpload"}, "times": 1,
                     "action": "error_in_200", "code": "InternalError"})
        r = self.sync_via_proxy()
        self.assertSucceeded(r)
        self.assertFired("complete-error-in-200", 1)
        completes = self.proxy.requests(op="CompleteMultipartUpload")
        self.assertEqual(len(completes), 2, completes)
        self.assertEqual(completes[0]["upload_id"], completes[1]["upload_id"], "Complete retried another upload")
        self.assertEqual(completes[0]["status"], 200)
        self.assertIsNone(completes[0]["upstream_status"], "the faulted Complete reached the server")
        self.assertEqual(completes[1]["upstream_status"], 200)
        self.assertGoodMirror()

    def test_seeded_mix_of_faults_on_every_operation(self):
        print(f"\n[test_s3_faults] fault mix seed {SEED} (HFM_S3_FAULT_SEED={SEED} replays it)", file=sys.stderr)
        every = {"op": "*"}
        writes = {"op": ["UploadPart", "PutObject", "CompleteMultipartUpload"]}
        self.inject({"name": "mix-500", "match": every, "times": None, "probability": 0.05,
                     "status": 500, "code": "InternalError"},
                    {"name": "mix-503", "match": every, "times": None, "probability": 0.05,
                     "status": 503, "code": "SlowDown"},
                    {"name": "mix-timeout", "match": writes, "times": None, "probability": 0.08,
                     "status": 400, "code": "RequestTimeout", "close": True},
                    {"name": "mix-reset", "match": {"op": ["UploadPart", "PutObject"]}, "times": None,
                     "probability": 0.08, "action": "reset", "after_body_bytes": 4096},
                    seed=SEED)
        r = self.sync_via_proxy()
        self.assertSucceeded(r)
        fired = {n: self.proxy.fired(n) for n in ("mix-500", "mix-503", "mix-timeout", "mix-reset")}
        self.assertGreaterEqual(sum(fired.values()), 3, f"seed {SEED} injected too little to prove anything: {fired}")
        for name, n in fired.items():
            if n:
                self.assertEachFaultRetried(name)
        self.assertGoodMirror()

    # The server's clock is 10 minutes ahead and it allows 5 (RGW behind it allows 15): every
    # request signed with our clock is RequestTimeTooSkewed until hfmirror corrects its clock.
    SKEW_S = 600

    def run_with_skewed_server(self, date_header):
        self.inject({"name": "skew", "match": {"op": "*"}, "times": None, "action": "clock_skew",
                     "server_offset_s": self.SKEW_S, "tolerance_s": 300, "date_header": date_header})
        r = self.sync_via_proxy()
        self.assertSucceeded(r)
        # Corrected once, at the first request (the run starts with one request at a time):
        # every later request is signed with the server's clock.
        self.assertFired("skew", 1)
        log = self.proxy.requests()
        self.assertEqual(log[0]["fault"], "skew")
        forwarded = [e for e in log if e["upstream_status"] is not None]
        self.assertGreater(len(forwarded), 10)
        for e in forwarded:
            signed = calendar.timegm(time.strptime(e["amz_date"], "%Y%m%dT%H%M%SZ"))
            self.assertLess(abs(signed - (e["t_start"] + self.SKEW_S)), 60,
                            f"{e['op']} {e['key']} signed at {e['amz_date']}, not on the server's clock")
        self.assertIn("clock_skew", r.stderr, "the correction is not reported")
        self.assertGoodMirror()

    def test_clock_corrected_from_the_date_header(self):
        self.run_with_skewed_server("server")

    def test_clock_corrected_from_server_time_when_date_is_not_the_servers(self):
        # Date stamped by something in between (the proxy's own clock): only the <ServerTime> of
        # the error body tells the server's time.
        self.run_with_skewed_server("proxy")


class CredentialsTest(ProxiedS3TestCase):
    """Credentials from ~/.aws/credentials (no AWS_* keys in the environment). Key B is a
    second valid key of the RGW user, made for this class."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.key_a, cls.secret_a = cls.s3info["access_key"], cls.s3info["secret_key"]
        cls.key_b, cls.secret_b = new_rgw_key(cls.s3info)
        cls.addClassCleanup(remove_rgw_key, cls.s3info, cls.key_b)

    def setUp(self):
        super().setUp()
        self.home = self.tmp / "home"
        (self.home / ".aws").mkdir(parents=True)

    def write_credentials(self, key, secret):
        """Atomic, as a credentials agent writes it."""
        p = self.home / ".aws" / "credentials"
        tmp = p.with_suffix(".tmp")
        tmp.write_text(f"[default]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n")
        tmp.chmod(0o600)
        os.replace(tmp, p)

    def file_env(self):
        env = {k: None for k in os.environ if k.startswith("AWS_")}
        env.update({"AWS_REGION": self.s3info["region"], "HOME": str(self.home)})
        return env

    def assertNoSecrets(self, r, *secret_keys):
        out = r.stdout + r.stderr
        for s in secret_keys:
            for frag in secret_fragments(s):
                self.assertNotIn(frag, out, "a secret key (or half of it) appears in the output")

    def test_expired_token_mid_run_rereads_the_rotated_credentials_file(self):
        self.write_credentials(self.key_a, self.secret_a)
        self.inject(self.hold_second_upload_part())
        p = self.start_sync_via_proxy("--log-level", "info", env=self.file_env())
        held = self.wait_held(p)
        self.assertTrue(all(e["access_key"] == self.key_a for e in self.proxy.requests()))
        # The key is rotated in the file, then the old one stops working.
        self.write_credentials(self.key_b, self.secret_b)
        self.inject({"name": "expired-a", "match": {"access_key": self.key_a}, "times": None,
                     "status": 400, "code": "ExpiredToken"})
        r = finish_hfmirror(p, timeout=120)
        self.assertEqual(r.rc, 0, r.describe())
        self.assertSucceeded(r)
        fired = self.assertFired("expired-a")
        retried = self.assertEachFaultRetried("expired-a")
        self.assertIn(held["seq"], [f["seq"] for f, _ in retried], "the held UploadPart was not the one expired")
        for _, again in retried:
            self.assertEqual(again["access_key"], self.key_b, "a rejected request was not re-signed with the new key")
        # One reload serves every request: only those already signed with the old key (at most
        # the ones in flight) are rejected; what follows, down to the manifest, uses the new key.
        self.assertLessEqual(fired, 24)
        manifest_puts = [e for e in self.proxy.requests(op="PutObject") if e["key"] == f"{PREFIX}/{MANIFEST}"]
        self.assertEqual([(e["access_key"], e["upstream_status"]) for e in manifest_puts], [(self.key_b, 200)])
        self.assertIn("credentials_reloaded", r.stderr)
        self.assertNoSecrets(r, self.secret_a, self.secret_b)
        self.assertGoodMirror()

    def test_expired_token_without_a_new_key_stops_the_run_with_exit_3(self):
        self.write_credentials(self.key_a, self.secret_a)
        self.inject(self.hold_second_upload_part())
        p = self.start_sync_via_proxy(env=self.file_env())
        self.wait_held(p)
        t0 = time.monotonic()
        self.inject({"name": "expired-a", "match": {"access_key": self.key_a}, "times": None,
                     "status": 400, "code": "ExpiredToken"})
        r = finish_hfmirror(p, timeout=120)
        self.assertEqual(r.rc, 3, r.describe())
        self.assertLess(time.monotonic() - t0, 30, "an expired token was retried for long")
        self.assertIn("ExpiredToken", r.stderr)
        self.assertRegex(r.stderr, "expired")
        self.assertEqual(self.assertOneJsonObject(r)["result"], "error")
        # Credentials are re-read once per rejected call (the same key comes back): no call goes
        # round in a loop, only the calls in flight are rejected.
        self.assertLessEqual(self.assertFired("expired-a"), 24)
        self.assertNoSecrets(r, self.secret_a)
        self.assertNothingHalfVisible()
        self.reset_proxy()
        self.sync_via_proxy(env=self.file_env())
        self.assertGoodMirror()

    def test_key_deleted_on_the_server_mid_run_rereads_the_rotated_credentials_file(self):
        # No proxy fault: RGW itself answers 403 InvalidAccessKeyId once the old key is gone.
        old_key, old_secret = new_rgw_key(self.s3info)
        deleted = []
        self.addCleanup(lambda: deleted or remove_rgw_key(self.s3info, old_key))
        self.write_credentials(old_key, old_secret)
        self.inject(self.hold_second_upload_part())
        p = self.start_sync_via_proxy(env=self.file_env())
        held = self.wait_held(p)
        self.write_credentials(self.key_b, self.secret_b)
        remove_rgw_key(self.s3info, old_key)
        deleted.append(old_key)
        self.proxy.clear_rules()  # releases the held UploadPart, still signed with the old key
        r = finish_hfmirror(p, timeout=120)
        self.assertEqual(r.rc, 0, r.describe())
        self.assertSucceeded(r)
        log = self.proxy.requests()
        rejected = [e for e in log if e["upstream_status"] == 403]
        self.assertIn(held["seq"], [e["seq"] for e in rejected], "RGW did not reject the old key")
        for e in rejected:
            self.assertEqual(e["access_key"], old_key)
            again = self.later_attempts(log, e, skip=lambda x: x["upstream_status"] == 403)
            self.assertTrue(again and again[0]["access_key"] == self.key_b and again[0]["upstream_status"] == 200,
                            f"{e['op']} {e['key']} was not retried with the new key: {again[:1]}")
        self.assertNoSecrets(r, old_secret, self.secret_b)
        self.assertGoodMirror()


class DeadEndpointTest(ProxiedS3TestCase):
    """An S3 endpoint that stays down: the run gives up in bounded time, exit 1, says why."""

    def assertFailedClearly(self, r, t0, *patterns):
        elapsed = time.monotonic() - t0
        self.assertEqual(r.rc, 1, r.describe())
        self.assertLess(elapsed, DEAD_ENDPOINT_BOUND_S, f"a dead endpoint took {elapsed:.1f}s to fail the run")
        js = self.assertOneJsonObject(r)
        self.assertEqual(js["result"], "error", r.describe())
        for pattern in patterns:
            self.assertRegex(r.stderr, pattern, r.describe())

    def test_refused_connections_fail_the_run_in_bounded_time(self):
        self.proxy.listen(False)
        t0 = time.monotonic()
        r = self.sync_via_proxy(expect_rc=None)
        port = self.proxy.endpoint.rsplit(":", 1)[1]
        self.assertFailedClearly(r, t0, f"127\\.0\\.0\\.1.{port}", "(?i)connect")
        self.assertEqual(self.proxy.requests(), [], "a request got through a closed port")
        self.assertNothingWritten()
        self.proxy.listen(True)
        self.assertRerunCompletes()

    def test_503_for_every_request_from_the_middle_of_a_run_fails_in_bounded_time(self):
        self.inject(self.hold_second_upload_part())
        p = self.start_sync_via_proxy()
        held = self.wait_held(p)
        t0 = time.monotonic()
        self.inject({"name": "dead", "match": {"op": "*"}, "times": None, "status": 503,
                     "code": "ServiceUnavailable"})
        r = finish_hfmirror(p, timeout=120)
        self.assertFailedClearly(r, t0, "ServiceUnavailable", re.escape(f"Gave up after 6 attempts at {self.proxy.endpoint}"))
        dead = self.proxy.requests(fault="dead")
        self.assertIn(held["seq"], [e["seq"] for e in dead])
        # Each call is tried 6 times at most (the message above), and all calls together no more
        # than the run-wide retry budget (100) allows on top of their first attempts.
        calls = {(e["op"], e["key"], e["part_number"]) for e in dead}
        self.assertLessEqual(len(dead), 100 + 2 * len(calls), f"{len(dead)} attempts for {len(calls)} calls")
        self.assertNothingHalfVisible()
        self.assertNotIn(MODEL, self.keys(PREFIX), "the file whose upload was cut off is visible")
        r = self.assertRerunCompletes()
        # The interrupted multipart upload was continued, not started over.
        self.assertTrue(self.proxy.requests(op="ListParts"), "the re-run did not look at the open upload")
        self.assertEqual(self.proxy.requests(op="CreateMultipartUpload"), [], "the re-run started a new upload")


if __name__ == "__main__":
    unittest.main(verbosity=2)
