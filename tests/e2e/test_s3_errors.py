"""e2e, S3: failures leave nothing half-done in the bucket.

A wrong secret (or an unknown access key, or a missing bucket) fails with exit code 3 and a
message that names the problem, writes nothing, and never prints the secret. A corrupted body
fails with exit code 4: the damaged file never becomes an object (nor replaces an older one), no
manifest is written, its multipart upload is aborted, and the next run fetches only that file.
"""

import os
import re
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(os.environ.get("HFM_SOURCE_DIR") or Path(__file__).resolve().parents[2])
                       / "tests" / "support"))

from hubemu import resolve_path_of  # noqa: E402
from s3e2e import MANIFEST, S3TestCase, content_ids, secret_fragments  # noqa: E402

TINY = "acme/tiny"
PREFIX = "models/tiny"
WRONG_SECRET = "WrongSecretKey/0000+0000000000000000000000"


class CredentialsTest(S3TestCase):

    def assertNoSecretIn(self, r, *secrets):
        out = r.stdout + r.stderr
        for s in secrets:
            for frag in secret_fragments(s):
                self.assertNotIn(frag, out, "a secret key (or half of it) appears in the output")

    def test_wrong_secret_exits_3_and_writes_nothing(self):
        r = self.sync_s3(TINY, PREFIX, secret_key=WRONG_SECRET, expect_rc=3)
        self.assertRegex(r.stderr, re.compile(r"SignatureDoesNotMatch|secret", re.I),
                         "the message does not say the secret is wrong")
        js = self.assertOneJsonObject(r)
        self.assertEqual(js["result"], "error")
        self.assertRegex(js["error"]["message"], re.compile(r"SignatureDoesNotMatch|secret", re.I))
        self.assertNoSecretIn(r, WRONG_SECRET, self.s3info["secret_key"])
        self.assertNothingWritten()

    def test_wrong_secret_is_not_logged_even_at_trace_level(self):
        r = self.sync_s3(TINY, PREFIX, "--log-level", "trace", secret_key=WRONG_SECRET, expect_rc=3)
        self.assertNoSecretIn(r, WRONG_SECRET, self.s3info["secret_key"])
        self.assertNothingWritten()

    def test_unknown_access_key_exits_3_and_writes_nothing(self):
        r = self.sync_s3(TINY, PREFIX, access_key="HFMUNKNOWNKEY0000001", expect_rc=3)
        self.assertRegex(r.stderr, re.compile(r"InvalidAccessKeyId|access key", re.I))
        self.assertNoSecretIn(r, self.s3info["secret_key"])
        self.assertNothingWritten()

    def test_right_credentials_work_in_the_same_bucket(self):
        # The control for the tests above: the same command with the right secret succeeds.
        self.sync_s3(TINY, PREFIX, "--include", "*.json")
        self.assertIn(MANIFEST, self.keys(PREFIX))


class DestinationTest(S3TestCase):

    def test_missing_bucket_exits_3_and_creates_nothing(self):
        missing = f"{self.bucket}-missing"
        r = self.sync(TINY, f"s3://{missing}/{PREFIX}", "--s3-endpoint", self.endpoint(),
                      env=self.s3_env(), expect_rc=3)
        self.assertIn("NoSuchBucket", r.stderr)
        self.assertNotIn(missing, [b["Name"] for b in self.s3.list_buckets()["Buckets"]],
                         "hfmirror created the bucket")

    def test_trailing_slash_names_the_same_prefix(self):
        self.sync_s3(TINY, PREFIX + "/", "--include", "*.md")
        self.assertEqual(self.keys(), {f"{PREFIX}/README.md", f"{PREFIX}/{MANIFEST}"})
        r = self.sync_s3(TINY, PREFIX, "--include", "*.md")
        self.assertEqual(r.json["files_transferred"], 0, "the same prefix without '/' is not the same mirror")


class CorruptBodyTest(S3TestCase):
    """The emulator flips one byte of model.safetensors (20,000,000 bytes, LFS, from the CDN) or
    tokenizer.json (300,000 bytes, a one-part file served by the Hub) in every response."""

    def assertCorruptRunLeavesNoTrace(self, path, *extra):
        self.emu.set_faults({"corrupt": {"path": path}})
        r = self.sync_s3(TINY, PREFIX, *extra, expect_rc=4)
        self.assertIn(path, r.stderr, "the failing file is not named")
        js = self.assertOneJsonObject(r)
        self.assertEqual(js["result"], "error")
        self.assertEqual([f["path"] for f in js.get("failures", [])], [path], r.describe())
        self.assertTrue(any(e.get("fault") for e in self.emu.requests()), "the fault never fired")
        keys = self.keys(PREFIX)
        self.assertNotIn(path, keys, f"the corrupt {path} became an object")
        self.assertNotIn(MANIFEST, keys, "a manifest was written by a failed run")
        self.assertNoMultipartUploads("the corrupt file's multipart upload was not aborted")
        # Whatever did arrive is intact (no other file was damaged or truncated).
        exp = self.expected(TINY)["by_path"]
        for k in keys:
            if k in exp:
                self.assertObjectMatches(f"{PREFIX}/{k}", exp[k])
        return r

    def test_corrupt_large_file_exits_4_and_aborts_its_upload(self):
        # 5 MiB parts: 4 UploadParts; the flipped byte (offset 10,000,000) is in part 2, so
        # parts are already on the server when the whole-file hash fails.
        self.assertCorruptRunLeavesNoTrace("model.safetensors", "--part-size", "5MiB")

    def test_corrupt_single_part_file_exits_4_and_is_not_put(self):
        self.assertCorruptRunLeavesNoTrace("tokenizer.json")

    def test_failed_replacement_keeps_the_old_object(self):
        # A c1 mirror; main moves to c2 (config.json, model.safetensors changed, one file
        # added, one deleted) and c2's model.safetensors arrives corrupt.
        self.addCleanup(self.emu.move_branch, TINY, "c2")
        self.emu.move_branch(TINY, "c1")
        self.sync_s3(TINY, PREFIX)
        c1 = self.expected(TINY, "c1")["by_path"]
        self.emu.move_branch(TINY, "c2")
        self.emu.set_faults({"corrupt": {"path": "model.safetensors"}})
        self.sync_s3(TINY, PREFIX, expect_rc=4)
        # The c1 object is still there, whole, with its own content id.
        self.assertObjectMatches(f"{PREFIX}/model.safetensors", c1["model.safetensors"])
        # No manifest: neither c1's (config.json may already be c2's) nor c2's is true now.
        self.assertNotIn(MANIFEST, self.keys(PREFIX), "a manifest describes a half-replaced mirror")
        # Every object that is there is consistent with the content id it carries.
        for k in self.keys(PREFIX):
            if k.startswith(".hfmirror/"):
                continue
            data = self.read(f"{PREFIX}/{k}")
            cid = self.head(f"{PREFIX}/{k}")["Metadata"].get("hfmirror-content-id")
            self.assertIn(cid, content_ids(data), f"{k}: stored content id does not match its bytes")
        self.assertNoMultipartUploads()
        v = self.verify_s3(PREFIX)
        self.assertNotEqual(v.rc, 0, "verify passed a mirror without a manifest")

        # Without the fault, the re-run fetches only the file that failed.
        self.emu.clear_faults()
        self.emu.clear_requests()
        r = self.sync_s3(TINY, PREFIX)
        fetched = {resolve_path_of(e, TINY) for e in self.emu.requests("hub")} - {None}
        self.assertEqual(fetched, {"model.safetensors"}, "files already replaced were fetched again")
        self.assertEqual(r.json["files_transferred"], 1)
        self.assertS3Mirror(PREFIX, TINY, "c2")
        self.assertNoMultipartUploads()

    def test_rerun_after_the_fault_is_gone_completes(self):
        self.assertCorruptRunLeavesNoTrace("model.safetensors", "--part-size", "5MiB")
        self.emu.clear_faults()
        self.sync_s3(TINY, PREFIX, "--part-size", "5MiB")
        self.assertS3Mirror(PREFIX, TINY)
        self.assertNoMultipartUploads()


if __name__ == "__main__":
    unittest.main(verbosity=2)
