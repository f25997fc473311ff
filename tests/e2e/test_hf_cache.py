"""e2e: `hfmirror sync --layout hf-cache`, read back the way huggingface_hub reads its cache.

The reader below follows huggingface_hub 1.x `try_to_load_from_cache` and the offline branch of
`snapshot_download(local_files_only=True)` (hub-protocol.md §8.1): repo folder
`{type}s--{org}--{name}`, `refs/<revision>` read verbatim (no strip: a trailing newline breaks
it), `snapshots/<commit>/<path>` a *relative* symlink to `blobs/<etag>`, etag = sha256 for LFS
files and the git blob sha1 otherwise.
"""

import os
import re
import shutil
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(os.environ.get("HFM_SOURCE_DIR") or Path(__file__).resolve().parents[2])
                       / "tests" / "support"))

from e2ebase import EmulatorTestCase  # noqa: E402
from hubemu import content_id_on_disk, list_files  # noqa: E402

TINY = "acme/tiny"
COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
CACHED_NO_EXIST = object()


# ---- a minimal huggingface_hub cache reader ------------------------------------------------

def repo_folder_name(repo_id, repo_type="model"):
    # huggingface_hub.constants.REPO_ID_SEPARATOR = "--"
    return f"{repo_type}s--" + repo_id.replace("/", "--")


def try_to_load_from_cache(repo_id, filename, cache_dir, revision="main", repo_type="model"):
    """huggingface_hub.file_download.try_to_load_from_cache, POSIX only."""
    repo_cache = os.path.join(cache_dir, repo_folder_name(repo_id, repo_type))
    if not os.path.isdir(repo_cache):
        return None
    refs_dir = os.path.join(repo_cache, "refs")
    snapshots_dir = os.path.join(repo_cache, "snapshots")
    no_exist_dir = os.path.join(repo_cache, ".no_exist")
    if os.path.isdir(refs_dir):
        revision_file = os.path.join(refs_dir, revision)
        if os.path.isfile(revision_file):
            with open(revision_file) as f:
                revision = f.read()
    if os.path.isfile(os.path.join(no_exist_dir, revision, filename)):
        return CACHED_NO_EXIST
    if not os.path.exists(snapshots_dir):
        return None
    cached_shas = os.listdir(snapshots_dir)
    if revision not in cached_shas:
        return None
    cached_file = os.path.join(snapshots_dir, revision, filename)
    return cached_file if os.path.isfile(cached_file) else None


def snapshot_download_offline(repo_id, cache_dir, revision="main", repo_type="model"):
    """huggingface_hub snapshot_download(local_files_only=True): the snapshot folder or None."""
    storage_folder = os.path.join(cache_dir, repo_folder_name(repo_id, repo_type))
    commit_hash = None
    if COMMIT_RE.match(revision):
        commit_hash = revision
    else:
        ref_path = os.path.join(storage_folder, "refs", revision)
        if os.path.exists(ref_path):
            with open(ref_path) as f:
                commit_hash = f.read()
    if commit_hash is not None:
        snapshot_folder = os.path.join(storage_folder, "snapshots", commit_hash)
        if os.path.exists(snapshot_folder):
            return snapshot_folder
    return None


class HfCacheLayoutTest(EmulatorTestCase):

    def assertCacheHolds(self, cache, repo, revision, exp, repo_type="model"):
        """Every expected file reads back through the huggingface_hub reader with its content id."""
        repo_cache = Path(cache) / repo_folder_name(repo, repo_type)
        self.assertTrue(repo_cache.is_dir(), f"no {repo_cache.name} in {sorted(os.listdir(cache))}")
        commit = exp["commit"]
        snap = snapshot_download_offline(repo, str(cache), revision, repo_type)
        self.assertEqual(snap, os.path.join(str(cache), repo_folder_name(repo, repo_type), "snapshots", commit))
        self.assertEqual(list_files(snap), set(exp["by_path"]), "snapshot file list")
        for path, f in exp["by_path"].items():
            with self.subTest(path=path):
                got = try_to_load_from_cache(repo, path, str(cache), revision, repo_type)
                self.assertIsInstance(got, str, f"huggingface_hub would not find {path}")
                self.assertTrue(os.path.islink(got), f"{path} is not a symlink")
                target = os.readlink(got)
                self.assertFalse(os.path.isabs(target), f"absolute symlink {target}")
                # huggingface_hub writes os.path.relpath(blob, dirname(link)).
                self.assertEqual(target, "../" * (2 + path.count("/")) + "blobs/" + f["etag"])
                real = os.path.realpath(got)
                self.assertEqual(real, os.path.realpath(repo_cache / "blobs" / f["etag"]))
                self.assertTrue(os.path.isfile(real) and not os.path.islink(real))
                self.assertEqual(os.path.getsize(real), f["size"])
                self.assertEqual(content_id_on_disk(real, f["lfs"]), f["etag"])
        return repo_cache

    def test_model_reads_back_like_huggingface_hub(self):
        cache = self.tmp / "hub"
        self.sync(TINY, cache, "--layout", "hf-cache")
        exp = self.expected(TINY)
        repo_cache = self.assertCacheHolds(cache, TINY, "main", exp)
        # refs/main: the commit, no newline, nothing else.
        self.assertEqual((repo_cache / "refs" / "main").read_bytes(), exp["commit"].encode())
        self.assertEqual(sorted(os.listdir(repo_cache / "snapshots")), [exp["commit"]])
        # blobs/ holds exactly the content ids: no temp or .incomplete files.
        self.assertEqual(set(os.listdir(repo_cache / "blobs")), {f["etag"] for f in exp["by_path"].values()})
        # Nothing of the repo lands outside its folder (the cache is shared by many repos).
        self.assertEqual({p for p in os.listdir(cache) if p != "CACHEDIR.TAG"}, {repo_cache.name})
        # Relative links: the whole cache can move.
        moved = self.tmp / "moved-hub"
        shutil.move(str(cache), str(moved))
        got = try_to_load_from_cache(TINY, "model.safetensors", str(moved))
        self.assertIsInstance(got, str)
        self.assertEqual(content_id_on_disk(got, True), exp["by_path"]["model.safetensors"]["sha256"])

    def test_verify_hf_cache_mirror(self):
        cache = self.tmp / "hub"
        self.sync(TINY, cache, "--layout", "hf-cache")
        exp = self.expected(TINY)
        repo_cache = cache / repo_folder_name(TINY)
        v = self.hfm("verify", repo_cache)
        self.assertEqual(v.rc, 0, v.describe())
        v = self.hfm("verify", cache, "--layout", "hf-cache", "--repo", TINY)
        self.assertEqual(v.rc, 0, v.describe())
        blob = repo_cache / "blobs" / exp["by_path"]["config.json"]["etag"]
        data = bytearray(blob.read_bytes())
        data[3] ^= 0x20
        blob.write_bytes(bytes(data))
        v = self.hfm("verify", repo_cache)
        self.assertEqual(v.rc, 4, v.describe())
        self.assertIn("config.json", v.stderr)

    def test_dataset_goes_to_datasets_folder(self):
        repo = "acme/tiny-dataset"
        cache = self.tmp / "hub"
        self.sync(repo, cache, "--layout", "hf-cache", "--repo-type", "dataset")
        exp = self.expected(repo, repo_type="dataset")
        repo_cache = self.assertCacheHolds(cache, repo, "main", exp, repo_type="dataset")
        self.assertEqual(repo_cache.name, "datasets--acme--tiny-dataset")
        self.assertFalse((cache / "models--acme--tiny-dataset").exists())
        self.assertEqual((repo_cache / "refs" / "main").read_bytes(), exp["commit"].encode())

    def test_tag_and_branch_share_one_cache(self):
        cache = self.tmp / "hub"
        self.sync(TINY, cache, "--layout", "hf-cache", "--revision", "v1.0")
        self.sync(TINY, cache, "--layout", "hf-cache")
        c1, c2 = self.expected(TINY, "c1"), self.expected(TINY, "c2")
        repo_cache = self.assertCacheHolds(cache, TINY, "v1.0", c1)
        self.assertCacheHolds(cache, TINY, "main", c2)
        self.assertEqual((repo_cache / "refs" / "v1.0").read_bytes(), c1["commit"].encode())
        self.assertEqual((repo_cache / "refs" / "main").read_bytes(), c2["commit"].encode())
        self.assertEqual(sorted(os.listdir(repo_cache / "snapshots")), sorted([c1["commit"], c2["commit"]]))
        # Unchanged files are one blob, linked from both snapshots.
        self.assertEqual(c1["by_path"]["tokenizer.json"]["etag"], c2["by_path"]["tokenizer.json"]["etag"])
        blobs = {f["etag"] for f in c1["by_path"].values()} | {f["etag"] for f in c2["by_path"].values()}
        self.assertEqual(set(os.listdir(repo_cache / "blobs")), blobs)
        # huggingface_hub keeps older snapshots: the file deleted in c2 still reads at v1.0.
        self.assertIsInstance(try_to_load_from_cache(TINY, "notes-old.txt", str(cache), "v1.0"), str)
        self.assertIsNone(try_to_load_from_cache(TINY, "notes-old.txt", str(cache), "main"))

    def test_commit_revision_has_snapshot_without_ref(self):
        cache = self.tmp / "hub"
        c1 = self.expected(TINY, "c1")
        self.sync(TINY, cache, "--layout", "hf-cache", "--revision", c1["commit"])
        repo_cache = self.assertCacheHolds(cache, TINY, c1["commit"], c1)
        refs = repo_cache / "refs"
        self.assertEqual(sorted(os.listdir(refs)) if refs.exists() else [], [],
                         "huggingface_hub writes no ref for a revision that is a commit hash")

    def test_unchanged_rerun_in_hf_cache_is_one_request(self):
        cache = self.tmp / "hub"
        self.sync(TINY, cache, "--layout", "hf-cache")
        self.emu.clear_requests()
        r = self.sync(TINY, cache, "--layout", "hf-cache")
        self.assertEqual(r.json["bytes_downloaded"], 0)
        self.assertEqual(len(self.emu.requests("hub")), 1, self.emu.requests("hub"))
        self.assertEqual(self.emu.requests("cdn"), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
