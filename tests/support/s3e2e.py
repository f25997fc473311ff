"""Base class for the S3 e2e modules (tests/e2e/test_s3_*.py): the Hub emulator of e2ebase plus
the real S3 server of s3env (Ceph RGW), one bucket per test class, and read-back assertions.

What it does
  * setUpClass: s3env.ensure_server() (under CI=true a missing server raises: the tests fail,
    never skip), the emulator, and a fresh bucket for the class (deleted at class cleanup).
    Every test empties the bucket again at its own cleanup (objects and multipart uploads), so
    one test's leftovers never show up in the next test's "nothing written" checks.
  * Running hfmirror against S3: only AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION
    reach the binary (every other AWS_* variable of the caller is removed; HOME is an empty
    folder, so no ~/.aws either), and the endpoint is passed with --s3-endpoint.
  * Read-back helpers (boto3): keys, object snapshots, bytes, manifest, multipart uploads,
    emulator CDN byte accounting, and assertS3Mirror (every object hashed and compared with the
    emulator's sha256 and git sha1, its stored content id, and the manifest).

Python 3.11 standard library + boto3 (through s3env).
"""

import hashlib
import json
import os

import s3env
from e2ebase import EmulatorTestCase
from hubemu import cdn_sha256_of, parse_range

MIB = 1 << 20
MANIFEST = ".hfmirror/manifest.json"
META_CONTENT_ID = "hfmirror-content-id"  # x-amz-meta-hfmirror-content-id, as boto3 names it


def content_ids(data: bytes):
    """(sha256, git blob sha1) of some bytes."""
    return (hashlib.sha256(data).hexdigest(),
            hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest())


def multipart_etag(data: bytes, part_size: int) -> str:
    """The ETag S3 gives an object uploaded in parts of part_size: md5(md5(p1)..md5(pN))-N."""
    digests = [hashlib.md5(data[i:i + part_size]).digest() for i in range(0, len(data), part_size)]
    return f"{hashlib.md5(b''.join(digests)).hexdigest()}-{len(digests)}"


def cdn_bytes_for(requests, sha256, size):
    """[(first, last)] byte ranges the CDN was asked for of the blob with this sha256 (a request
    without Range counts as the whole blob)."""
    out = []
    for e in requests:
        if cdn_sha256_of(e) != sha256:
            continue
        r = parse_range(e.get("range"))
        if r is None:
            out.append((0, size - 1))
        else:
            a, b = r
            out.append((a, size - 1 if b is None else min(b, size - 1)))
    return out


class S3TestCase(EmulatorTestCase):
    s3info: dict = None
    bucket: str = None
    # False for classes that build one mirror in setUpClass and only read it in their tests.
    empty_bucket_after_each_test = True

    @classmethod
    def setUpClass(cls):
        # The server first: under CI=true its absence is an error, otherwise (Ceph not
        # installed) a skip, before an emulator is started for nothing.
        cls.s3info = s3env.ensure_server()
        super().setUpClass()
        cls.s3 = s3env.client(cls.s3info)
        cls.bucket = s3env.new_bucket(f"hfm-e2e-{cls.__name__}", s3=cls.s3)
        cls.addClassCleanup(s3env.delete_bucket, cls.bucket, s3=cls.s3)

    def setUp(self):
        super().setUp()
        if self.empty_bucket_after_each_test:
            self.addCleanup(self.empty_bucket)

    # -- running hfmirror ---------------------------------------------------------------

    @classmethod
    def endpoint(cls):
        return cls.s3info["endpoint"]

    @classmethod
    def s3_env(cls, access_key=None, secret_key=None):
        """Overrides for run_hfmirror: every AWS_* variable of ours removed (None removes), then
        exactly the access key, the secret and the region."""
        env = {k: None for k in os.environ if k.startswith("AWS_")}
        env.update({"AWS_ACCESS_KEY_ID": access_key or cls.s3info["access_key"],
                    "AWS_SECRET_ACCESS_KEY": secret_key or cls.s3info["secret_key"],
                    "AWS_REGION": cls.s3info["region"]})
        return env

    @classmethod
    def dest(cls, prefix):
        return f"s3://{cls.bucket}/{prefix}"

    def sync_s3(self, repo, prefix, *extra, access_key=None, secret_key=None, expect_rc=0, timeout=120):
        return self.sync(repo, self.dest(prefix), "--s3-endpoint", self.endpoint(), *extra,
                         env=self.s3_env(access_key, secret_key), expect_rc=expect_rc, timeout=timeout)

    def sync_args(self, repo, prefix, *extra):
        """Argument list of sync_s3 for start_hfmirror (a run to be signalled)."""
        return ["sync", repo, "--to", self.dest(prefix), "--json", "--progress", "none",
                "--s3-endpoint", self.endpoint(), *extra]

    def verify_s3(self, prefix, *extra):
        return self.hfm("verify", self.dest(prefix), "--json", "--progress", "none",
                        "--s3-endpoint", self.endpoint(), *extra, env=self.s3_env())

    # -- reading the bucket ---------------------------------------------------------------

    def keys(self, prefix=""):
        """Keys under prefix/ (relative to it); the whole bucket with prefix ''."""
        p = prefix.rstrip("/") + "/" if prefix else ""
        return {k[len(p):] for k in s3env.list_keys(self.bucket, p, s3=self.s3)}

    def snapshot(self, prefix=""):
        """{key: (size, ETag, LastModified)} of every object under prefix/, to prove nothing
        was rewritten."""
        p = prefix.rstrip("/") + "/" if prefix else ""
        out = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=p):
            for o in page.get("Contents", []):
                out[o["Key"]] = (o["Size"], o["ETag"], o["LastModified"])
        return out

    def read(self, key):
        return s3env.read_object(self.bucket, key, s3=self.s3)

    def head(self, key):
        return s3env.head_object(self.bucket, key, s3=self.s3)

    def s3_manifest(self, prefix):
        """The parsed manifest under prefix, or None when there is none."""
        if MANIFEST not in self.keys(prefix):
            return None
        return json.loads(self.read(f"{prefix}/{MANIFEST}"))

    def uploads(self, prefix=""):
        return s3env.list_multipart_uploads(self.bucket, prefix, s3=self.s3)

    def empty_bucket(self):
        for u in self.uploads():
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=u["Key"], UploadId=u["UploadId"])
        for k in s3env.list_keys(self.bucket, s3=self.s3):
            self.s3.delete_object(Bucket=self.bucket, Key=k)

    # -- assertions ------------------------------------------------------------------------

    def assertNoMultipartUploads(self, msg=""):
        left = [(u["Key"], u["UploadId"]) for u in self.uploads()]
        self.assertEqual(left, [], msg or f"multipart uploads left in bucket {self.bucket}")

    def assertNothingWritten(self):
        self.assertEqual(self.keys(), set(), f"objects were written to bucket {self.bucket}")
        self.assertNoMultipartUploads()

    def assertObjectMatches(self, key, f, data=None):
        """The object's bytes have the emulator's size, sha256 and git sha1, and its stored
        content id is the Hub's. Returns the bytes."""
        if data is None:
            data = self.read(key)
        self.assertEqual(len(data), f["size"], f"size of {key}")
        sha256, git_sha1 = content_ids(data)
        self.assertEqual(sha256, f["sha256"], f"sha256 of {key}")
        self.assertEqual(git_sha1, f["git_sha1"], f"git sha1 of {key}")
        meta = self.head(key).get("Metadata", {})
        self.assertEqual(meta.get(META_CONTENT_ID), f["etag"],
                         f"x-amz-meta-{META_CONTENT_ID} of {key} (metadata: {meta})")
        return data

    def assertS3Manifest(self, prefix, repo, commit, expected_files, repo_type="model", revision=None):
        m = self.s3_manifest(prefix)
        self.assertIsNotNone(m, f"no {MANIFEST} under s3://{self.bucket}/{prefix}")
        self.assertEqual(m["repo_id"], repo)
        self.assertEqual(m["repo_type"], repo_type)
        self.assertEqual(m["commit"], commit, "manifest commit")
        if revision is not None:
            self.assertEqual(m["revision"], revision)
        listed = {f["path"]: f for f in m["files"]}
        self.assertEqual(len(listed), len(m["files"]), "a path is listed twice in the manifest")
        self.assertEqual(set(listed), set(expected_files), "manifest file list")
        for path, f in expected_files.items():
            mf = listed[path]
            self.assertEqual(mf["size"], f["size"], f"manifest size of {path}")
            self.assertEqual(mf["hash"], "sha256" if f["lfs"] else "git-sha1", f"manifest hash kind of {path}")
            self.assertEqual(mf["content_id"], f["etag"], f"manifest content id of {path}")
        return m

    def assertS3Mirror(self, prefix, repo, rev=None, repo_type="model", revision=None):
        """Exactly the repo's files plus the manifest under prefix/ (no upload records or other
        state left), every object hashed against the emulator, and the manifest right."""
        exp = self.expected(repo, rev, repo_type)
        self.assertEqual(self.keys(prefix), set(exp["by_path"]) | {MANIFEST},
                         f"objects under s3://{self.bucket}/{prefix}/")
        for path, f in exp["by_path"].items():
            self.assertObjectMatches(f"{prefix}/{path}", f)
        self.assertS3Manifest(prefix, repo, exp["commit"], exp["by_path"], repo_type, revision)
        return exp

    def assertVerifyProblems(self, r, paths, msg=""):
        """A failed `verify --json`: rc 4, result error, and problems for exactly these paths."""
        self.assertEqual(r.rc, 4, msg + r.describe())
        js = self.assertOneJsonObject(r)
        self.assertEqual(js["result"], "error", r.describe())
        self.assertEqual({p["path"] for p in js["problems"]}, set(paths), msg + r.describe())
        for p in paths:
            self.assertIn(p, r.stderr, "the failing file is not named on stderr")


def secret_fragments(secret):
    """The secret and its first half: neither may appear in any output."""
    return [secret, secret[: max(8, len(secret) // 2)]]
