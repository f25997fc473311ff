"""e2e, S3: `hfmirror sync acme/tiny --to s3://bucket/models/tiny` against a real S3 server (Ceph
RGW). Every odd file name (spaces, `+ = & % ~ ' ( ) ! *`, non-ASCII, deep nesting, a 0-byte file,
a 20 MB LFS file) arrives byte for byte -- read back by three independent clients (boto3, the
aws CLI, rclone when installed) -- with its content id in `x-amz-meta-hfmirror-content-id`, a
manifest naming the commit, and no multipart upload left behind. `--part-size` decides the
multipart layout of the object.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(os.environ.get("HFM_SOURCE_DIR") or Path(__file__).resolve().parents[2])
                       / "tests" / "support"))

import s3env  # noqa: E402
from hubemu import content_id_on_disk, list_files, run_hfmirror  # noqa: E402
from s3e2e import MANIFEST, MIB, S3TestCase, multipart_etag  # noqa: E402

TINY = "acme/tiny"
PREFIX = "models/tiny"
# The odd paths of acme/tiny@main this module is about; the emulator spec must still have them.
ODD = ["special/file with spaces.txt", "special/a+b=c&d.txt", "special/100% ~tilde.txt",
       "special/it's (quoted)!*.txt", "unicode/模型-ü.json", "a/b/c/d/e/f/g/h/deep.txt", "empty.txt",
       "model.safetensors"]


class ReadBackTest(S3TestCase):
    """One sync, then every reader sees the same, correct bytes."""

    empty_bucket_after_each_test = False  # the mirror made in setUpClass is read by every test

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.result = run_hfmirror(["sync", TINY, "--to", cls.dest(PREFIX), "--json", "--progress", "none",
                                "--s3-endpoint", cls.endpoint()], endpoint=cls.emu.hub, env=cls.s3_env())

    def setUp(self):
        super().setUp()
        self.assertEqual(self.result.rc, 0, self.result.describe())
        self.exp = self.expected(TINY)

    def test_spec_still_has_the_odd_names(self):
        by_path = self.exp["by_path"]
        for p in ODD:
            self.assertIn(p, by_path, "the emulator spec changed")
        self.assertEqual(by_path["empty.txt"]["size"], 0)
        self.assertEqual(by_path["model.safetensors"]["size"], 20_000_000)
        self.assertTrue(by_path["model.safetensors"]["lfs"])

    def test_summary(self):
        js = self.assertOneJsonObject(self.result)
        self.assertEqual(js["result"], "ok")
        self.assertEqual(js["commit"], self.exp["commit"])
        self.assertEqual(js["destination"], f"s3://{self.bucket}/{PREFIX}")
        self.assertEqual(js["files_transferred"], len(self.exp["by_path"]))
        total = sum(f["size"] for f in self.exp["by_path"].values())
        self.assertEqual(js["bytes_downloaded"], total)

    def test_boto3_reads_every_object_byte_for_byte(self):
        # Exact key set (nothing else: no upload records, no pending markers), every object
        # hashed both ways, its stored content id, and the manifest.
        self.assertS3Mirror(PREFIX, TINY, revision="main")

    def test_keys_are_the_repo_paths_verbatim(self):
        # Keys are exactly prefix + "/" + repo path: no percent-encoding, no normalisation.
        raw = set(s3env.list_keys(self.bucket, PREFIX + "/", s3=self.s3))
        for p in ODD:
            self.assertIn(f"{PREFIX}/{p}", raw)
        data = self.read(f"{PREFIX}/special/it's (quoted)!*.txt")
        self.assertEqual(data, b"quote parens bang star\n")
        self.assertEqual(self.read(f"{PREFIX}/empty.txt"), b"")
        self.assertEqual(self.head(f"{PREFIX}/empty.txt")["ContentLength"], 0)

    def test_manifest_lists_the_files_and_the_commit(self):
        m = self.assertS3Manifest(PREFIX, TINY, self.exp["commit"], self.exp["by_path"], revision="main")
        self.assertEqual(m["file_count"], len(self.exp["by_path"]))
        self.assertEqual(m["total_bytes"], sum(f["size"] for f in self.exp["by_path"].values()))

    def test_every_object_carries_its_content_id(self):
        for path, f in self.exp["by_path"].items():
            meta = self.head(f"{PREFIX}/{path}").get("Metadata", {})
            self.assertEqual(meta.get("hfmirror-content-id"), f["etag"], path)

    def test_no_multipart_upload_left(self):
        self.assertNoMultipartUploads()

    def test_verify_deep_passes(self):
        r = self.verify_s3(PREFIX, "--deep")
        self.assertEqual(r.rc, 0, r.describe())
        js = self.assertOneJsonObject(r)
        self.assertEqual(js["files_ok"], len(self.exp["by_path"]))
        self.assertEqual(js["problems"], [])

    # -- other clients ------------------------------------------------------------------

    def _download_dir(self):
        d = Path(tempfile.mkdtemp(prefix="hfm-e2e-s3-read-"))
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def assertTreeMatches(self, root, tool):
        """A client's copy of the prefix: the repo's files with the Hub's content ids, and the
        same manifest bytes."""
        self.assertEqual(list_files(root), set(self.exp["by_path"]), f"files {tool} downloaded")
        for path, f in self.exp["by_path"].items():
            p = root / path
            self.assertEqual(p.stat().st_size, f["size"], f"{tool}: size of {path}")
            self.assertEqual(content_id_on_disk(p, f["lfs"]), f["etag"], f"{tool}: content id of {path}")
        self.assertEqual((root / MANIFEST).read_bytes(), self.read(f"{PREFIX}/{MANIFEST}"),
                         f"{tool}: manifest bytes")

    def test_aws_cli_reads_the_same_bytes(self):
        aws = shutil.which("aws")
        self.assertIsNotNone(aws, "the aws CLI is not on PATH (it is part of the test image)")
        env = s3env.tool_env(self.s3info)
        env["HOME"] = str(self._download_dir())  # no ~/.aws of the user
        for k in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            env.pop(k, None)
        out = self._download_dir()
        p = subprocess.run([aws, "--endpoint-url", self.endpoint(), "s3", "cp", "--recursive", "--only-show-errors",
                            f"s3://{self.bucket}/{PREFIX}/", str(out)],
                           env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 0, f"aws s3 cp failed:\n{p.stdout}\n{p.stderr}")
        self.assertTreeMatches(out, "aws s3 cp")

    def test_rclone_reads_the_same_bytes(self):
        rclone = shutil.which("rclone")
        if rclone is None:
            self.skipTest("rclone is not installed (optional third reader; apt-get install rclone)")
        env = s3env.tool_env(self.s3info, for_rclone=True)  # env -u AWS_CA_BUNDLE
        home = self._download_dir()
        (home / "rclone.conf").write_text("")
        env.update({"HOME": str(home), "RCLONE_CONFIG": str(home / "rclone.conf"),
                    "RCLONE_CONFIG_HFMS3_TYPE": "s3", "RCLONE_CONFIG_HFMS3_PROVIDER": "Ceph",
                    "RCLONE_CONFIG_HFMS3_ACCESS_KEY_ID": self.s3info["access_key"],
                    "RCLONE_CONFIG_HFMS3_SECRET_ACCESS_KEY": self.s3info["secret_key"],
                    "RCLONE_CONFIG_HFMS3_ENDPOINT": self.endpoint(),
                    "RCLONE_CONFIG_HFMS3_REGION": self.s3info["region"]})
        out = self._download_dir()
        p = subprocess.run([rclone, "copy", f"hfms3:{self.bucket}/{PREFIX}", str(out)],
                           env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 0, f"rclone copy failed:\n{p.stdout}\n{p.stderr}")
        self.assertTreeMatches(out, "rclone copy")


class PartSizeTest(S3TestCase):
    """--part-size 5MiB: the 20,000,000-byte file (not a multiple of 5 MiB) becomes 4 parts."""

    def test_part_size_5mib_gives_a_4_part_object(self):
        prefix = "models/parts"
        r = self.sync_s3(TINY, prefix, "--part-size", "5MiB", "--include", "model.safetensors")
        self.assertEqual(r.json["result"], "ok", r.describe())
        f = self.expected(TINY)["by_path"]["model.safetensors"]
        self.assertNotEqual(f["size"] % (5 * MIB), 0, "the file size became a multiple of the part size")
        self.assertEqual(-(-f["size"] // (5 * MIB)), 4)
        key = f"{prefix}/model.safetensors"
        head = self.head(key)
        etag = head["ETag"].strip('"')
        self.assertTrue(etag.endswith("-4"), f"ETag {head['ETag']} is not that of a 4-part upload")
        self.assertEqual(head["ContentLength"], f["size"])
        data = self.assertObjectMatches(key, f)
        # The parts are exactly [0, 5 MiB), [5 MiB, 10 MiB), ...: S3's composite ETag of the
        # expected bytes cut at 5 MiB equals the object's.
        self.assertEqual(etag, multipart_etag(data, 5 * MIB))
        self.assertEqual(self.keys(prefix), {"model.safetensors", MANIFEST})
        self.assertNoMultipartUploads()

    def test_default_part_size_16mib(self):
        prefix = "models/default-parts"
        self.sync_s3(TINY, prefix, "--include", "model.safetensors")
        key = f"{prefix}/model.safetensors"
        etag = self.head(key)["ETag"].strip('"')
        self.assertEqual(etag, multipart_etag(self.read(key), 16 * MIB))
        self.assertTrue(etag.endswith("-2"), etag)


if __name__ == "__main__":
    unittest.main(verbosity=2)
