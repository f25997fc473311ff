"""e2e: re-runs. An unchanged commit costs one Hub request; a moved branch moves only changed
files (and removes deleted ones unless --keep-removed); revisions (tag, sha, branch with '/')
and include/exclude selections; an interrupted large file resumes with Range requests.
"""

import os
import signal
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(os.environ.get("HFM_SOURCE_DIR") or Path(__file__).resolve().parents[2])
                       / "tests" / "support"))

from e2ebase import EmulatorTestCase  # noqa: E402
from hubemu import (cdn_sha256_of, finish_hfmirror, hf_filter, interrupt, list_files,  # noqa: E402
                    manifest_exists, parse_range, partial_states, read_manifest, resolve_path_of,
                    start_hfmirror, wait_until)

TINY = "acme/tiny"
MIB = 1 << 20


def fetched_paths(requests, repo=TINY):
    """Repo paths that were resolved or downloaded from the Hub."""
    return {resolve_path_of(e, repo) for e in requests} - {None}


class RerunTest(EmulatorTestCase):

    def setUp(self):
        super().setUp()
        self.addCleanup(self.emu.move_branch, TINY, "c2")  # the spec's main

    def test_unchanged_rerun_is_one_hub_request_and_no_download(self):
        dest = self.tmp / "m"
        self.sync(TINY, dest)
        self.emu.clear_requests()
        r = self.sync(TINY, dest)
        self.assertEqual(len(self.emu.requests("hub")), 1,
                         [e["method"] + " " + e["path"] for e in self.emu.requests("hub")])
        self.assertEqual(self.emu.requests("cdn"), [])
        self.assertEqual(r.json["bytes_downloaded"], 0)
        self.assertEqual(r.json["files_transferred"], 0)
        self.assertMirror(dest, TINY)

    def test_rerun_refetches_only_a_locally_deleted_file(self):
        dest = self.tmp / "m"
        self.sync(TINY, dest)
        (dest / "README.md").unlink()
        self.emu.clear_requests()
        r = self.sync(TINY, dest)
        self.assertEqual(fetched_paths(self.emu.requests("hub")), {"README.md"})
        self.assertEqual(self.emu.requests("cdn"), [])
        self.assertEqual(r.json["files_transferred"], 1)
        self.assertMirror(dest, TINY)

    def _mirror_at_c1(self, dest):
        self.emu.move_branch(TINY, "c1")
        self.sync(TINY, dest)
        self.assertMirror(dest, TINY, "c1")
        self.emu.move_branch(TINY, "c2")
        self.emu.clear_requests()

    def test_moved_branch_transfers_only_changed_files(self):
        dest = self.tmp / "m"
        self._mirror_at_c1(dest)
        c2 = self.expected(TINY, "c2")
        unchanged = dest / "tokenizer.json"
        st_before = unchanged.stat()
        r = self.sync(TINY, dest)
        changed = {"config.json", "model.safetensors", "added-in-c2.txt"}
        self.assertEqual(fetched_paths(self.emu.requests("hub")), changed)
        cdn = self.emu.requests("cdn")
        self.assertTrue(cdn)
        self.assertEqual({cdn_sha256_of(e) for e in cdn}, {c2["by_path"]["model.safetensors"]["sha256"]})
        self.assertFalse((dest / "notes-old.txt").exists(), "the file deleted in c2 is still there")
        self.assertTrue((dest / "added-in-c2.txt").is_file())
        self.assertMirror(dest, TINY, "c2")
        self.assertEqual(r.json["files_transferred"], 3)
        self.assertEqual(r.json["files_removed"], 1)
        st_after = unchanged.stat()
        self.assertEqual((st_after.st_ino, st_after.st_mtime_ns), (st_before.st_ino, st_before.st_mtime_ns),
                         "an unchanged file was rewritten")

    def test_moved_branch_with_keep_removed(self):
        dest = self.tmp / "m"
        self._mirror_at_c1(dest)
        old = (dest / "notes-old.txt").read_bytes()
        c2 = self.expected(TINY, "c2")
        r = self.sync(TINY, dest, "--keep-removed")
        self.assertEqual(r.json["files_removed"], 0)
        self.assertEqual((dest / "notes-old.txt").read_bytes(), old)
        self.assertEqual(list_files(dest), set(c2["by_path"]) | {"notes-old.txt"})
        for path, f in c2["by_path"].items():
            self.assertEqual((dest / path).stat().st_size, f["size"], path)
        self.assertEqual(read_manifest(dest)["commit"], c2["commit"])
        v = self.hfm("verify", dest)
        self.assertEqual(v.rc, 0, v.describe())


class RevisionTest(EmulatorTestCase):

    def test_tag_revision(self):
        dest = self.tmp / "tag"
        self.sync(TINY, dest, "--revision", "v1.0")
        exp = self.assertMirror(dest, TINY, "c1", revision="v1.0")
        self.assertEqual(exp["commit_name"], "c1")
        self.assertTrue((dest / "notes-old.txt").exists())

    def test_commit_sha_revision(self):
        sha = self.emu.commit_sha(TINY, "c1")
        dest = self.tmp / "sha"
        self.sync(TINY, dest, "--revision", sha)
        self.assertMirror(dest, TINY, "c1", revision=sha)
        # Every request is pinned to that commit.
        for e in self.emu.requests("hub"):
            if "/tree/" in e["path"] or resolve_path_of(e, TINY):
                self.assertIn(sha, e["path"])

    def test_branch_with_slash(self):
        dest = self.tmp / "feat"
        self.sync(TINY, dest, "--revision", "feature/x")
        self.assertMirror(dest, TINY, "c1", revision="feature/x")


class SelectionTest(EmulatorTestCase):
    """--include / --exclude with huggingface_hub's allow/ignore pattern semantics (fnmatch: '*'
    crosses '/', '[...]' sets, a trailing '/' means the folder's contents)."""

    CASES = [
        (["*.json", "*.safetensors"], None,
         {"config.json", "tokenizer.json", "unicode/模型-ü.json", "model.safetensors"}),
        (None, ["*.txt"],
         {"README.md", "config.json", "tokenizer.json", "unicode/模型-ü.json", "model.safetensors"}),
        (["special/*"], ["*(quoted)*"],
         {"special/file with spaces.txt", "special/a+b=c&d.txt", "special/100% ~tilde.txt"}),
        (["a/"], None, {"a/b/c/d/e/f/g/h/deep.txt"}),
        (["[ae]*.txt"], None, {"a/b/c/d/e/f/g/h/deep.txt", "added-in-c2.txt", "empty.txt"}),
        (["*/*"], ["*.safetensors"], {"special/file with spaces.txt", "special/a+b=c&d.txt",
                                      "special/100% ~tilde.txt", "special/it's (quoted)!*.txt",
                                      "unicode/模型-ü.json", "a/b/c/d/e/f/g/h/deep.txt"}),
    ]

    def test_include_exclude_follow_huggingface_hub(self):
        exp = self.expected(TINY)
        for i, (inc, exc, want) in enumerate(self.CASES):
            with self.subTest(include=inc, exclude=exc):
                # The hard-coded answer and fnmatch agree (guards the expectation itself).
                self.assertEqual(set(hf_filter(exp["by_path"], inc, exc)), want)
                dest = self.tmp / f"sel{i}"
                args = [a for p in inc or [] for a in ("--include", p)]
                args += [a for p in exc or [] for a in ("--exclude", p)]
                self.sync(TINY, dest, *args)
                sel = {p: f for p, f in exp["by_path"].items() if p in want}
                self.assertFilesMatch(dest, sel)
                m = self.assertManifest(dest, TINY, exp["commit"], sel)
                self.assertEqual(m["include"], inc or [])
                self.assertEqual(m["exclude"], exc or [])

    def test_changing_the_selection_adds_and_removes(self):
        exp = self.expected(TINY)
        dest = self.tmp / "sel"
        self.sync(TINY, dest, "--include", "*.json")
        self.assertEqual(list_files(dest), {"config.json", "tokenizer.json", "unicode/模型-ü.json"})
        self.emu.clear_requests()
        self.sync(TINY, dest, "--include", "*.json", "--include", "*.md")
        self.assertEqual(fetched_paths(self.emu.requests("hub")), {"README.md"})
        self.sync(TINY, dest, "--include", "*.md")
        sel = {"README.md": exp["by_path"]["README.md"]}
        self.assertFilesMatch(dest, sel)
        self.assertManifest(dest, TINY, exp["commit"], sel)
        self.assertFalse((dest / "unicode").exists(), "an emptied folder was left behind")

    def test_selection_matching_nothing_fails(self):
        dest = self.tmp / "none"
        r = self.sync(TINY, dest, "--include", "*.gguf", expect_rc=None)
        self.assertNotEqual(r.rc, 0, r.describe())
        self.assertFalse(manifest_exists(dest))


class ResumeTest(EmulatorTestCase):
    """A large LFS file (model.safetensors, 20,000,000 bytes = 20 parts of 1 MiB) interrupted
    part-way continues from its partial file with Range requests for the missing parts only."""

    ARGS = ["--part-size", "1MiB", "--parallel", "1", "--parallel-files", "1"]

    def setUp(self):
        super().setUp()
        exp = self.expected(TINY)
        self.model = exp["by_path"]["model.safetensors"]
        self.nparts = (self.model["size"] + MIB - 1) // MIB
        self.assertEqual(self.nparts, 20, "the emulator spec changed")

    def _start_slow(self, dest):
        # ~250 ms per 1 MiB part, so the test can act while the file is half done.
        self.emu.set_faults({"cdn_slow": {"count": 1000, "bytes_per_sec": 4 * MIB}})
        p = start_hfmirror(["sync", TINY, "--to", dest, "--json", "--progress", "none", *self.ARGS], endpoint=self.emu.hub)
        self.addCleanup(lambda: p.poll() is None and (p.kill(), p.wait()))
        return p

    def _model_state(self, dest, sha256=None):
        for s in partial_states(dest):
            if s.get("content_id") == (sha256 or self.model["sha256"]):
                return s
        return None

    def _parts_done(self, dest, at_least, sha256=None):
        s = self._model_state(dest, sha256)
        return s if s and len(s["done"]) >= at_least else None

    def _resume_and_check(self, dest, done):
        self.emu.clear_faults()
        self.emu.clear_requests()
        r = self.sync(TINY, dest, *self.ARGS)
        self.assertMirror(dest, TINY)
        ranges = [parse_range(e["range"]) for e in self.emu.requests("cdn")
                  if cdn_sha256_of(e) == self.model["sha256"]]
        self.assertNotIn(None, ranges, "a CDN request without Range: the file was restarted")
        starts = sorted(a for a, _ in ranges)
        expected = sorted(i * MIB for i in range(self.nparts) if i not in done)
        self.assertEqual(starts, expected, f"parts {sorted(done)} were done; requested {starts}")
        for a, b in ranges:
            self.assertEqual(b, min(a + MIB, self.model["size"]) - 1)
        self.assertEqual(r.json["bytes_reused"], sum(min(MIB, self.model["size"] - i * MIB) for i in done))
        self.assertEqual(self._model_state(dest), None, "resume state left behind after success")
        v = self.hfm("verify", dest)
        self.assertEqual(v.rc, 0, v.describe())
        return r

    def test_sigint_then_resume_with_ranges(self):
        dest = self.tmp / "resume"
        p = self._start_slow(dest)
        wait_until(lambda: self._parts_done(dest, 3), timeout=60, what="3 parts of model.safetensors")
        committed_before = {f for f in list_files(dest) if f != "model.safetensors"}
        interrupt(p)
        res = finish_hfmirror(p, timeout=30)
        self.assertEqual(res.rc, 130, res.describe())
        self.assertFalse(manifest_exists(dest), "manifest written by an interrupted run")
        self.assertFalse(os.path.lexists(dest / "model.safetensors"), "a partial file is visible")
        state = self._model_state(dest)
        self.assertIsNotNone(state, "no resume state kept after SIGINT")
        done = set(state["done"])
        self.assertGreaterEqual(len(done), 3)
        self.assertLess(len(done), self.nparts, "the file finished before the interrupt: nothing to resume")
        r = self._resume_and_check(dest, done)
        # Files that were already in place before the interrupt are not fetched again.
        refetched = fetched_paths(self.emu.requests("hub")) & committed_before
        self.assertEqual(refetched, set(), "files completed before the interrupt were downloaded again")
        self.assertEqual(r.json["result"], "ok")

    def test_sigterm_exits_130_and_resumes(self):
        dest = self.tmp / "resume"
        p = self._start_slow(dest)
        wait_until(lambda: self._parts_done(dest, 2), timeout=60, what="2 parts of model.safetensors")
        interrupt(p, signal.SIGTERM)
        res = finish_hfmirror(p, timeout=30)
        self.assertEqual(res.rc, 130, res.describe())
        self.assertFalse(manifest_exists(dest))
        done = set(self._model_state(dest)["done"])
        self.assertGreaterEqual(len(done), 2)
        self._resume_and_check(dest, done)

    def test_partials_of_an_abandoned_commit_are_cleaned_up(self):
        dest = self.tmp / "orphan"
        self.addCleanup(self.emu.move_branch, TINY, "c2")
        self.emu.move_branch(TINY, "c1")
        c1_model = self.expected(TINY, "c1")["by_path"]["model.safetensors"]["sha256"]
        self.assertNotEqual(c1_model, self.model["sha256"])
        p = self._start_slow(dest)
        wait_until(lambda: self._parts_done(dest, 2, c1_model), timeout=60, what="2 parts of c1's model")
        interrupt(p)
        self.assertEqual(finish_hfmirror(p, timeout=30).rc, 130)
        self.assertIsNotNone(self._model_state(dest, c1_model))
        self.emu.clear_faults()
        self.emu.move_branch(TINY, "c2")
        self.sync(TINY, dest, *self.ARGS)
        self.assertMirror(dest, TINY, "c2")
        left = sorted(os.listdir(dest / ".hfmirror" / "partial"))
        self.assertEqual(left, [], "orphaned partial files after a successful sync")

    def test_failed_run_then_resume_with_ranges(self):
        dest = self.tmp / "resume"
        p = self._start_slow(dest)
        wait_until(lambda: self._parts_done(dest, 3), timeout=60, what="3 parts of model.safetensors")
        # From now on every signed URL is refused, beyond any retry or re-resolve.
        self.emu.set_faults({"cdn_expire": {"count": 1000}})
        res = finish_hfmirror(p, timeout=90)
        self.assertEqual(res.rc, 1, res.describe())
        self.assertIn("model.safetensors", res.stderr)
        self.assertFalse(manifest_exists(dest))
        self.assertFalse(os.path.lexists(dest / "model.safetensors"))
        state = self._model_state(dest)
        self.assertIsNotNone(state, "no resume state kept after a network failure")
        done = set(state["done"])
        self.assertGreaterEqual(len(done), 3)
        self.assertLess(len(done), self.nparts)
        self._resume_and_check(dest, done)


if __name__ == "__main__":
    unittest.main(verbosity=2)
