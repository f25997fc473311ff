"""e2e, S3: re-runs. An unchanged commit costs one Hub request and rewrites nothing; a moved
branch re-uploads only the changed files and deletes the removed one, and nothing outside the
prefix; a run SIGKILLed (or SIGINTed) in the middle of the large file resumes its multipart upload
(from `.hfmirror/uploads/`) and downloads only what was not yet recorded as uploaded and hashed,
while an upload that cannot be continued (other part size, abandoned commit) is aborted.
"""

import json
import os
import signal
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(os.environ.get("HFM_SOURCE_DIR") or Path(__file__).resolve().parents[2])
                       / "tests" / "support"))

import s3env  # noqa: E402
from hubemu import (cdn_sha256_of, finish_hfmirror, resolve_path_of, start_hfmirror,  # noqa: E402
                    wait_until)
from s3e2e import MANIFEST, MIB, S3TestCase, cdn_bytes_for  # noqa: E402

TINY = "acme/tiny"
PREFIX = "models/tiny"
UPLOADS = ".hfmirror/uploads/"


def fetched_paths(requests, repo=TINY):
    """Repo paths that were resolved or downloaded from the Hub."""
    return {resolve_path_of(e, repo) for e in requests} - {None}


class RerunTest(S3TestCase):

    def setUp(self):
        super().setUp()
        self.addCleanup(self.emu.move_branch, TINY, "c2")  # the spec's main

    def test_unchanged_rerun_is_one_hub_request_and_no_upload(self):
        self.sync_s3(TINY, PREFIX)
        before = self.snapshot()
        self.emu.clear_requests()
        r = self.sync_s3(TINY, PREFIX)
        js = self.assertOneJsonObject(r)
        hub = self.emu.requests("hub")
        self.assertEqual(len(hub), 1, [e["method"] + " " + e["path"] for e in hub])
        self.assertEqual(self.emu.requests("cdn"), [])
        self.assertEqual(js["bytes_downloaded"], 0)
        self.assertEqual(js["files_transferred"], 0)
        self.assertLessEqual(js["http_requests"], 3, "requests of an unchanged re-run (Hub + S3)")
        self.assertEqual(self.snapshot(), before, "an object (or the manifest) was rewritten")
        self.assertS3Mirror(PREFIX, TINY)
        self.assertNoMultipartUploads()

    def test_moved_branch_reuploads_only_changed_files(self):
        self.emu.move_branch(TINY, "c1")
        self.sync_s3(TINY, PREFIX)
        self.assertS3Mirror(PREFIX, TINY, "c1")
        self.assertIn("notes-old.txt", self.keys(PREFIX))
        before = self.snapshot(PREFIX)
        c1 = self.expected(TINY, "c1")["by_path"]
        c2 = self.expected(TINY, "c2")
        changed = {p for p, f in c2["by_path"].items() if p not in c1 or c1[p]["etag"] != f["etag"]}
        self.assertEqual(changed, {"config.json", "model.safetensors", "added-in-c2.txt"}, "the spec changed")
        unchanged = set(c2["by_path"]) - changed

        self.emu.move_branch(TINY, "c2")
        self.emu.clear_requests()
        r = self.sync_s3(TINY, PREFIX)
        js = self.assertOneJsonObject(r)
        # The Hub and the CDN were asked only for the changed files.
        self.assertEqual(fetched_paths(self.emu.requests("hub")), changed)
        self.assertEqual({cdn_sha256_of(e) for e in self.emu.requests("cdn")},
                         {c2["by_path"]["model.safetensors"]["sha256"]})
        # Unchanged objects were not rewritten; changed ones were.
        after = self.snapshot(PREFIX)
        for p in unchanged:
            self.assertEqual(after[f"{PREFIX}/{p}"], before[f"{PREFIX}/{p}"], f"unchanged {p} was rewritten")
        for p in changed & set(c1):
            self.assertGreater(after[f"{PREFIX}/{p}"][2], before[f"{PREFIX}/{p}"][2], f"{p} was not replaced")
        self.assertNotIn("notes-old.txt", self.keys(PREFIX), "the file deleted in c2 is still an object")
        self.assertEqual(js["files_transferred"], 3)
        self.assertEqual(js["files_removed"], 1)
        self.assertS3Mirror(PREFIX, TINY, "c2")  # exact keys: no previous-manifest or pending left
        self.assertEqual(self.s3_manifest(PREFIX)["commit"], c2["commit"])
        self.assertNoMultipartUploads()
        v = self.verify_s3(PREFIX)
        self.assertEqual(v.rc, 0, v.describe())

    def test_keep_removed_keeps_the_deleted_files_object(self):
        self.emu.move_branch(TINY, "c1")
        self.sync_s3(TINY, PREFIX, "--include", "*.txt")
        old = self.read(f"{PREFIX}/notes-old.txt")
        self.emu.move_branch(TINY, "c2")
        r = self.sync_s3(TINY, PREFIX, "--include", "*.txt", "--keep-removed")
        self.assertEqual(r.json["files_removed"], 0)
        self.assertEqual(self.read(f"{PREFIX}/notes-old.txt"), old)
        self.assertEqual(self.s3_manifest(PREFIX)["commit"], self.expected(TINY, "c2")["commit"])


class PrefixScopeTest(S3TestCase):
    """A sync owns s3://bucket/prefix/ and nothing else: objects and uploads under neighbouring
    keys that merely start with the same characters (models/tiny-2/, models/tinyx.bin) survive
    a sync that removes files, while stray multipart uploads inside the prefix are aborted."""

    NEIGHBOURS = ["models/tiny-2/keep.txt", "models/tinyx.bin", "models/tiny-2/notes-old.txt",
                  "other/models/tiny/notes-old.txt"]

    def setUp(self):
        super().setUp()
        self.addCleanup(self.emu.move_branch, TINY, "c2")

    def test_neighbouring_keys_are_untouched(self):
        for k in self.NEIGHBOURS:
            self.s3.put_object(Bucket=self.bucket, Key=k, Body=b"not hfmirror's")
        outside = self.s3.create_multipart_upload(Bucket=self.bucket, Key="models/tiny-2/big.bin")["UploadId"]
        inside = self.s3.create_multipart_upload(Bucket=self.bucket, Key=f"{PREFIX}/model.safetensors")["UploadId"]
        self.emu.move_branch(TINY, "c1")
        self.sync_s3(TINY, PREFIX)
        self.emu.move_branch(TINY, "c2")
        r = self.sync_s3(TINY, PREFIX)  # removes notes-old.txt
        self.assertEqual(r.json["files_removed"], 1)
        self.assertNotIn("notes-old.txt", self.keys(PREFIX))
        for k in self.NEIGHBOURS:
            self.assertEqual(self.read(k), b"not hfmirror's", f"{k} (outside the prefix) was changed")
        left = {(u["Key"], u["UploadId"]) for u in self.uploads()}
        self.assertEqual(left, {("models/tiny-2/big.bin", outside)},
                         f"expected only the upload outside the prefix to survive (inside: {inside})")
        self.assertS3Mirror(PREFIX, TINY, "c2")


class KillResumeTest(S3TestCase):
    """SIGKILL (or SIGINT) while model.safetensors (20,000,000 bytes = 4 parts of 5 MiB) is
    uploading, then a plain re-run: the multipart upload recorded in .hfmirror/uploads/ is
    continued. A re-run that cannot continue it (other part size, other commit) aborts it."""

    ARGS = ["--part-size", "5MiB", "--parallel", "2"]
    PART = 5 * MIB
    # About 2.6 s per 5 MiB part (2 at a time), so the kill lands while parts 3-4 are in
    # flight, with over 2 s to spare after the first record shows a hashed part.
    SLOW = {"cdn_slow": {"count": 100, "after_bytes": 0, "bytes_per_sec": 2_000_000}}

    def _model_record(self):
        """The upload record of model.safetensors under .hfmirror/uploads/, or None."""
        for k in s3env.list_keys(self.bucket, f"{PREFIX}/{UPLOADS}", s3=self.s3):
            if not k.endswith(".json"):
                continue
            try:
                rec = json.loads(self.read(k))
            except (ValueError, self.s3.exceptions.NoSuchKey):
                continue  # being replaced right now: the next poll sees it
            if rec.get("key") == f"{PREFIX}/model.safetensors":
                return rec
        return None

    def _hashed_record(self, p):
        """The model's upload record once it shows a hashed part; fails if the run ended."""
        if p.poll() is not None:
            res = finish_hfmirror(p, timeout=10)
            self.fail(f"hfmirror ended before a part was recorded as hashed: {res.describe()}")
        rec = self._model_record()
        return rec if rec and rec.get("hashed_parts", 0) >= 1 else None

    def _model(self, rev=None):
        model = self.expected(TINY, rev)["by_path"]["model.safetensors"]
        self.assertEqual(-(-model["size"] // self.PART), 4, "the emulator spec changed")
        return model

    def _interrupted_run(self, sig, model):
        """Start a slow sync, wait until the model's upload record shows a hashed part, send
        sig, check what is left, clear faults and log; returns (result, hashed parts recorded)."""
        self.emu.set_faults(self.SLOW)
        p = start_hfmirror(self.sync_args(TINY, PREFIX, *self.ARGS), endpoint=self.emu.hub, env=self.s3_env())
        self.addCleanup(lambda: p.poll() is None and (p.kill(), p.wait()))
        rec = wait_until(lambda: self._hashed_record(p), timeout=60, interval=0.05,
                         what="an upload record of model.safetensors with hashed_parts >= 1")
        p.send_signal(sig)
        res = finish_hfmirror(p, timeout=30)

        # What the interrupted run left: no object, no manifest, a live upload to continue.
        self.assertEqual(rec["size"], model["size"])
        self.assertEqual(rec["part_size"], self.PART)
        self.assertEqual(rec["content_id"], model["sha256"])
        keys = self.keys(PREFIX)
        self.assertNotIn("model.safetensors", keys, "the interrupted file is visible")
        self.assertNotIn(MANIFEST, keys, "a manifest was written by an interrupted run")
        live = [u for u in self.uploads() if u["Key"] == f"{PREFIX}/model.safetensors"]
        self.assertIn(rec["upload_id"], [u["UploadId"] for u in live], "the recorded upload is gone")
        # The record may have advanced between the poll and the signal.
        last = self._model_record()
        self.assertIsNotNone(last, "the upload record is gone after the interruption")
        self.assertEqual(last["upload_id"], rec["upload_id"])
        recorded = last["hashed_parts"]
        self.assertLess(recorded, 4, "the file was complete before the signal: nothing to resume")
        self.emu.clear_faults()
        self.emu.clear_requests()
        return res, recorded

    def _resume_and_check(self, model, recorded):
        size = model["size"]
        r = self.sync_s3(TINY, PREFIX, *self.ARGS)
        js = self.assertOneJsonObject(r)
        self.assertEqual(js["result"], "ok")
        self.assertGreater(js["bytes_reused"], 0, "nothing of the interrupted upload was reused")
        self.assertGreaterEqual(js["bytes_reused"], recorded * self.PART)
        self.assertLess(js["bytes_downloaded"], 20_000_000)

        # CDN bytes of the model in the re-run: less than 75 % of it, nothing twice, and the
        # reused prefix is not fetched at all.
        ranges = sorted(cdn_bytes_for(self.emu.requests("cdn"), model["sha256"], size))
        fetched = sum(b - a + 1 for a, b in ranges)
        self.assertLess(fetched, 0.75 * size, f"re-downloaded {fetched} of {size} bytes: {ranges}")
        self.assertGreater(fetched, 0, "the rest of the file was not downloaded")
        for (a1, b1), (a2, _) in zip(ranges, ranges[1:]):
            self.assertLess(b1, a2, f"overlapping ranges: {ranges}")
        self.assertGreaterEqual(ranges[0][0], recorded * self.PART, f"a recorded part was fetched again: {ranges}")
        self.assertEqual(ranges[-1][1], size - 1)

        self.assertS3Mirror(PREFIX, TINY)  # exact key set: the upload record is gone too
        self.assertNoMultipartUploads()
        head = self.head(f"{PREFIX}/model.safetensors")
        self.assertTrue(head["ETag"].strip('"').endswith("-4"), head["ETag"])
        v = self.verify_s3(PREFIX, "--deep")
        self.assertEqual(v.rc, 0, v.describe())

    def test_sigkill_mid_file_then_resume(self):
        model = self._model()
        res, recorded = self._interrupted_run(signal.SIGKILL, model)
        self.assertEqual(res.rc, -signal.SIGKILL, res.describe())
        self._resume_and_check(model, recorded)

    def test_sigint_exits_130_then_resume(self):
        model = self._model()
        res, recorded = self._interrupted_run(signal.SIGINT, model)
        self.assertEqual(res.rc, 130, res.describe())
        self._resume_and_check(model, recorded)

    def test_upload_record_names_the_part_checksum(self):
        model = self._model()
        self._interrupted_run(signal.SIGKILL, model)
        self.assertEqual(self._model_record()["part_checksum"], "sha256", "RGW 16.2 does not confirm CRC32C")

    def test_rerun_with_another_part_size_starts_the_file_over(self):
        # The recorded parts are 5 MiB; a re-run with 16 MiB parts cannot continue them. It must
        # still produce the right object, in 16 MiB parts, and abort the old upload.
        model = self._model()
        self._interrupted_run(signal.SIGKILL, model)
        self.sync_s3(TINY, PREFIX, "--part-size", "16MiB")
        self.assertS3Mirror(PREFIX, TINY)
        self.assertNoMultipartUploads()
        self.assertTrue(self.head(f"{PREFIX}/model.safetensors")["ETag"].strip('"').endswith("-2"))

    def test_upload_of_an_abandoned_commit_is_aborted(self):
        # Killed while mirroring c1; main then moves to c2, whose model.safetensors differs.
        self.addCleanup(self.emu.move_branch, TINY, "c2")
        self.emu.move_branch(TINY, "c1")
        c1_model = self._model("c1")
        self.assertNotEqual(c1_model["sha256"], self._model("c2")["sha256"])
        self._interrupted_run(signal.SIGKILL, c1_model)
        self.emu.move_branch(TINY, "c2")
        self.sync_s3(TINY, PREFIX, *self.ARGS)
        self.assertS3Mirror(PREFIX, TINY, "c2")  # exact keys: the c1 upload record is gone
        self.assertNoMultipartUploads("the abandoned c1 upload was not aborted")



class KillResumeCrc32cTest(KillResumeTest):
    """The same kill and resume with --part-checksum crc32c: parts go up as UNSIGNED-PAYLOAD with
    x-amz-checksum-crc32c, the upload record says so, and the resumed run continues the same
    upload with the same kind of part check."""

    ARGS = KillResumeTest.ARGS + ["--part-checksum", "crc32c"]
    test_sigint_exits_130_then_resume = None
    test_rerun_with_another_part_size_starts_the_file_over = None
    test_upload_of_an_abandoned_commit_is_aborted = None

    def test_upload_record_names_the_part_checksum(self):
        model = self._model()
        res, recorded = self._interrupted_run(signal.SIGKILL, model)
        self.assertEqual(self._model_record()["part_checksum"], "crc32c")
        self.assertIn("s3.crc32c_unconfirmed", res.stderr, "no warning that RGW did not confirm CRC32C")
        self._resume_and_check(model, recorded)

if __name__ == "__main__":
    unittest.main(verbosity=2)
