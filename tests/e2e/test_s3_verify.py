"""e2e, S3: `hfmirror verify s3://bucket/prefix [--deep]`.

The plain check compares every object's size and stored content id
(`x-amz-meta-hfmirror-content-id`) with the manifest, so an object overwritten behind
hfmirror's back (its metadata gone) fails it; `--deep` re-reads and re-hashes every byte, so it
also catches an overwrite that copies the original metadata.
"""

import os
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(os.environ.get("HFM_SOURCE_DIR") or Path(__file__).resolve().parents[2])
                       / "tests" / "support"))

from s3e2e import S3TestCase  # noqa: E402

TINY = "acme/tiny"
PREFIX = "models/tiny"


def other_bytes(data: bytes) -> bytes:
    """Same length, different content (every byte changed)."""
    return bytes(b ^ 0x5A for b in data)


class VerifyTest(S3TestCase):

    def setUp(self):
        super().setUp()
        self.sync_s3(TINY, PREFIX)
        self.exp = self.expected(TINY)["by_path"]

    def overwrite(self, path, keep_metadata):
        key = f"{PREFIX}/{path}"
        head = self.head(key)
        data = self.read(key)
        new = other_bytes(data)
        self.assertEqual(len(new), len(data))
        self.assertNotEqual(new, data)
        kw = {"Metadata": head["Metadata"]} if keep_metadata else {}
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=new, **kw)
        after = self.head(key)
        self.assertEqual(after["ContentLength"], head["ContentLength"])
        if keep_metadata:
            self.assertEqual(after["Metadata"].get("hfmirror-content-id"), self.exp[path]["etag"])
        else:
            self.assertNotIn("hfmirror-content-id", after.get("Metadata", {}))

    def test_verify_and_deep_verify_pass_on_a_fresh_mirror(self):
        for extra in ([], ["--deep"]):
            with self.subTest(extra=extra):
                r = self.verify_s3(PREFIX, *extra)
                self.assertEqual(r.rc, 0, r.describe())
                js = self.assertOneJsonObject(r)
                self.assertEqual(js["result"], "ok")
                self.assertEqual(js["files_checked"], len(self.exp))
                self.assertEqual(js["files_ok"], len(self.exp))
                self.assertEqual(js["problems"], [])
                self.assertEqual(js["commit"], self.expected(TINY)["commit"])

    def test_same_size_overwrite_without_metadata_fails_verify(self):
        self.overwrite("config.json", keep_metadata=False)
        self.assertVerifyProblems(self.verify_s3(PREFIX), ["config.json"])
        self.assertVerifyProblems(self.verify_s3(PREFIX, "--deep"), ["config.json"], "--deep: ")

    def test_same_size_overwrite_of_the_lfs_file_without_metadata_fails_verify(self):
        self.overwrite("model.safetensors", keep_metadata=False)
        self.assertVerifyProblems(self.verify_s3(PREFIX), ["model.safetensors"])

    def test_deep_verify_catches_an_overwrite_that_keeps_the_metadata(self):
        for path in ("config.json", "model.safetensors"):  # git sha1 and sha256 content ids
            with self.subTest(path=path):
                self.overwrite(path, keep_metadata=True)
                self.assertVerifyProblems(self.verify_s3(PREFIX, "--deep"), [path])
                self.empty_bucket()
                self.sync_s3(TINY, PREFIX)

    def test_missing_object_fails_verify(self):
        self.s3.delete_object(Bucket=self.bucket, Key=f"{PREFIX}/special/a+b=c&d.txt")
        self.assertVerifyProblems(self.verify_s3(PREFIX), ["special/a+b=c&d.txt"])

    def test_no_manifest_is_not_a_verified_mirror(self):
        r = self.verify_s3("models/nothing-here")
        self.assertNotEqual(r.rc, 0, r.describe())


if __name__ == "__main__":
    unittest.main(verbosity=2)
