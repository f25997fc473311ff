"""Base class for e2e test modules: one Hub emulator per test class, a fresh temp folder and an
empty request log / no faults per test, and assertions on mirrors.

A missing binary or emulator is an error (the test fails), never a skip.
"""

import os
import shutil
import tempfile
import unittest
from pathlib import Path

import hubemu
from hubemu import (content_id_on_disk, list_files, manifest_exists, read_manifest, run_hfmirror)


class EmulatorTestCase(unittest.TestCase):
    emu: hubemu.HubEmulator = None
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        hubemu.require_binary()
        cls.emu = hubemu.HubEmulator()
        cls.addClassCleanup(cls.emu.stop)
        cls.emu.start()

    def setUp(self):
        super().setUp()
        self.emu.reset()
        self.tmp = Path(tempfile.mkdtemp(prefix=f"hfm-e2e-{self._testMethodName[:40]}-"))
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.addCleanup(self.emu.clear_faults)

    # -- running ----------------------------------------------------------------------------

    def hfm(self, *args, env=None, timeout=120):
        return run_hfmirror(list(args), endpoint=self.emu.hub, env=env, timeout=timeout)

    def sync(self, repo, dest, *extra, env=None, expect_rc=0, timeout=120):
        """`hfmirror sync REPO --to DEST --json EXTRA...`; asserts the exit code (None: any)."""
        args = ["sync", repo, "--to", dest, "--json", "--progress", "none", *extra]
        r = self.hfm(*args, env=env, timeout=timeout)
        if expect_rc is not None:
            self.assertEqual(r.rc, expect_rc, r.describe())
        return r

    # -- assertions --------------------------------------------------------------------------

    def expected(self, repo, rev=None, repo_type="model"):
        exp = self.emu.expected_files(repo, rev, repo_type)
        exp["by_path"] = {f["path"]: f for f in exp["files"] if not f["extra"]}
        return exp

    def assertFilesMatch(self, dest, expected_files, msg=""):
        """Exactly these files under dest (besides .hfmirror/), each a regular file with the
        expected size and the Hub's content id computed from the bytes on disk."""
        dest = Path(dest)
        self.assertEqual(list_files(dest), set(expected_files), msg or f"files under {dest}")
        for path, f in expected_files.items():
            p = dest / path
            self.assertFalse(p.is_symlink(), f"{path} is a symlink in a plain mirror")
            self.assertTrue(p.is_file(), f"{path} is not a regular file")
            self.assertEqual(p.stat().st_size, f["size"], f"size of {path}")
            self.assertEqual(content_id_on_disk(p, f["lfs"]), f["etag"],
                             f"{'sha256' if f['lfs'] else 'git-sha1'} of {path} on disk")

    def assertManifest(self, dest, repo, commit, expected_files, repo_type="model", revision=None):
        self.assertTrue(manifest_exists(dest), f"no manifest in {dest}")
        m = read_manifest(dest)
        self.assertEqual(m["repo_id"], repo)
        self.assertEqual(m["repo_type"], repo_type)
        self.assertEqual(m["commit"], commit)
        if revision is not None:
            self.assertEqual(m["revision"], revision)
        listed = {f["path"]: f for f in m["files"]}
        self.assertEqual(len(listed), len(m["files"]), "a path is listed twice")
        self.assertEqual(set(listed), set(expected_files), "manifest file list")
        for path, f in expected_files.items():
            mf = listed[path]
            self.assertEqual(mf["size"], f["size"], f"manifest size of {path}")
            self.assertEqual(mf["hash"], "sha256" if f["lfs"] else "git-sha1", f"manifest hash kind of {path}")
            self.assertEqual(mf["content_id"], f["etag"], f"manifest content id of {path}")
        return m

    def assertMirror(self, dest, repo, rev=None, repo_type="model", revision=None):
        exp = self.expected(repo, rev, repo_type)
        self.assertFilesMatch(dest, exp["by_path"])
        self.assertManifest(dest, repo, exp["commit"], exp["by_path"], repo_type, revision)
        return exp

    def assertOneJsonObject(self, r):
        self.assertEqual(r.json_error, "", f"stdout is not one JSON document: {r.describe()}")
        self.assertIsInstance(r.json, dict, r.describe())
        self.assertEqual(len(r.stdout.strip().splitlines()), 1, f"more than one line on stdout: {r.stdout!r}")
        return r.json


def main():
    unittest.main(verbosity=2)


def _sanity():
    # Catch a wrong HFM_SOURCE_DIR early, with a clear message.
    if not hubemu.EMULATOR.is_file():
        raise RuntimeError(f"HFM_SOURCE_DIR={os.environ.get('HFM_SOURCE_DIR')!r}: no emulator at {hubemu.EMULATOR}")


_sanity()
