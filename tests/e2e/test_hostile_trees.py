"""e2e: hostile and awkward repo trees on a local destination.

test_sync_local.py already proves that `..` segments and absolute paths (one repo, all at once)
are refused with nothing written outside the destination. Here every other kind is its own repo,
so each refusal is proven on its own:

* Refused while planning (store/path_safety: the policy), before any file is fetched and with
  nothing written at all: backslashes, NUL and other control characters, a segment over 255
  bytes, a path over 4096 bytes, a Windows drive, our own state folder in another letter case,
  and (hub/: a tree no filesystem can hold) a path listed both as a file and as a folder.
* Handled: names that differ only in letter case are distinct files on a case-sensitive
  filesystem; long names within the limits are mirrored; a path within the policy but too long
  for this destination fails with the file named and nothing outside the destination.
* A path that is a file in one commit and a folder in the next (and the other way round) is a
  legal history: the mirror follows it (the clashing old entry is removed before the
  transfers); a run that fails in between leaves no false manifest and the next good run
  repairs everything.

The repos are made at test time (a spec written next to the emulator's data).
"""

import json
import os
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(os.environ.get("HFM_SOURCE_DIR") or Path(__file__).resolve().parents[2])
                       / "tests" / "support"))

import hubemu  # noqa: E402
from e2ebase import EmulatorTestCase  # noqa: E402
from hubemu import TESTREPOS, manifest_exists, resolve_path_of, tree_snapshot  # noqa: E402

SEG = "t" * 255                                         # the longest name allowed
LONG_OK = "/".join(["s" * 255] * 3 + ["f.txt"])         # 771 bytes: fine anywhere
TOO_LONG_HERE = "/".join(["e" * 255] * 15 + ["f" * 254])  # 4094 bytes: allowed, but not under a folder

# repo -> (extra tree entry path, what the message must show of it, why it is refused)
UNSAFE = {
    "h/backslash-escape": ("..\\..\\evil.txt", "..\\\\..\\\\evil.txt", "backslash"),
    "h/backslash-name": ("sub\\evil.txt", "sub\\\\evil.txt", "backslash"),
    "h/nul": ("a\x00b.txt", "a\\x00b.txt", "control character"),
    "h/newline": ("ok.txt\n../../x", "ok.txt\\n../../x", "control character"),
    "h/long-segment": ("d/" + "s" * 256, "d/sss", "segment is longer than 255 bytes"),
    "h/long-path": ("/".join(["d" * 200] * 21), "ddd", "longer than 4096 bytes"),
    "h/drive": ("C:/Windows/evil.txt", "C:/Windows/evil.txt", "Windows drive"),
    "h/state-dir": (".HFMirror/manifest.json", ".HFMirror/manifest.json", "reserved for hfmirror's state"),
}


def small_repo(repo_id, files, extras=(), commits=None, branches=None):
    spec = {"id": repo_id, "commits": commits or [{"name": "c1", "files": files}]}
    if extras:
        spec["extra_tree_entries"] = list(extras)
    if branches:
        spec["branches"] = branches
    return spec


def hostile_spec():
    repos = [small_repo(rid, [{"path": "config.json", "content": "{}\n"}, {"path": "ok/fine.txt", "content": "fine\n"}],
                        [{"path": path, "content": "evil\n"}]) for rid, (path, _, _) in UNSAFE.items()]
    repos.append(small_repo("h/file-and-folder", [{"path": "config.json", "content": "{}\n"}],
                            [{"path": "config.json/x.txt", "content": "evil\n"}]))
    repos.append(small_repo("h/case", [{"path": "README.md", "content": "upper\n"},
                                       {"path": "readme.md", "content": "lower\n"},
                                       {"path": "Data/x.txt", "content": "D\n"},
                                       {"path": "data/x.txt", "content": "d\n"}]))
    repos.append(small_repo("h/long-ok", [{"path": LONG_OK, "content": "long\n"}, {"path": SEG, "content": "seg\n"},
                                          {"path": "config.json", "content": "{}\n"}]))
    repos.append(small_repo("h/too-long-here", [{"path": TOO_LONG_HERE, "content": "long\n"},
                                                {"path": "config.json", "content": "{}\n"}]))
    # c1 -> c2: `weights` goes from a file to a folder; main starts at c1.
    repos.append(small_repo("h/file-to-folder", None, commits=[
        {"name": "c1", "files": [{"path": "weights", "content": "one file\n"},
                                 {"path": "config.json", "content": "{}\n"}]},
        {"name": "c2", "parent": "c1", "changes": {"delete": ["weights"], "add": [
            {"path": "weights/part-1.bin", "content": "part 1\n"},
            {"path": "weights/deep/part-2.bin", "content": "p2\n"}]}}],
        branches={"main": "c1"}))
    # c1 -> c2: `weights` goes from a folder to a file.
    repos.append(small_repo("h/folder-to-file", None, commits=[
        {"name": "c1", "files": [{"path": "weights/part-1.bin", "content": "part 1\n"},
                                 {"path": "weights/deep/part-2.bin", "content": "p2\n"},
                                 {"path": "config.json", "content": "{}\n"}]},
        {"name": "c2", "parent": "c1", "changes": {"delete": ["weights/part-1.bin", "weights/deep/part-2.bin"],
                                                   "add": [{"path": "weights", "content": "one file\n"}]}}],
        branches={"main": "c1"}))
    return {"repos": repos}


class HostileTreeTest(EmulatorTestCase):

    @classmethod
    def setUpClass(cls):
        unittest.TestCase.setUpClass()
        hubemu.require_binary()
        folder = tempfile.mkdtemp(prefix="hfm-e2e-hostile-spec-")
        cls.addClassCleanup(shutil.rmtree, folder, True)
        spec = os.path.join(folder, "hostile.json")
        with open(spec, "w") as f:
            json.dump(hostile_spec(), f)
        cls.emu = hubemu.HubEmulator(specs=(TESTREPOS, spec))
        cls.addClassCleanup(cls.emu.stop)
        cls.emu.start()

    def setUp(self):
        super().setUp()
        self.dest = self.tmp / "outer" / "dest"
        self.dest.parent.mkdir()
        (self.tmp / "canary.txt").write_text("canary\n")
        self.before = tree_snapshot(self.tmp)

    def assertNothingOutside(self):
        inside = "outer/dest"
        after = tree_snapshot(self.tmp)
        strip = (lambda snap: {p: v for p, v in snap.items() if p != inside and not p.startswith(inside + "/")})
        self.assertEqual(strip(after), strip(self.before), "something changed outside the destination")

    def assertRefusedWhilePlanning(self, repo, r, shown, why, layout="plain"):
        self.assertEqual(r.rc, 1, r.describe())
        errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
        self.assertEqual(len(errors), 1, r.describe())
        self.assertIn(shown, errors[0], "the message does not name the path (escaped)")
        self.assertIn(why, errors[0])
        self.assertLess(len(errors[0]), 800, "the message is not readable")
        self.assertNotIn("\x00", r.stderr)
        # Refused before the first download, so nothing at all was written.
        fetched = {resolve_path_of(e, repo) for e in self.emu.requests("hub")} - {None}
        self.assertEqual(fetched, set(), f"files were fetched from a refused tree ({layout})")
        self.assertEqual(self.emu.requests("cdn"), [])
        written = sorted(tree_snapshot(self.dest)) if self.dest.exists() else []
        self.assertEqual(written, [], "written into the destination")
        self.assertNothingOutside()

    def test_each_unsafe_path_is_refused_before_anything_is_written(self):
        for repo, (_, shown, why) in UNSAFE.items():
            with self.subTest(repo):
                self.emu.clear_requests()
                r = self.sync(repo, self.dest, expect_rc=None)
                self.assertRefusedWhilePlanning(repo, r, shown, why)
                self.assertIn("unsafe path", r.stderr)

    def test_unsafe_paths_are_refused_in_the_hf_cache_layout_too(self):
        # Snapshot links are built from repo paths: a bad one must not get that far.
        for repo in ("h/backslash-escape", "h/state-dir"):
            with self.subTest(repo):
                self.emu.clear_requests()
                _, shown, why = UNSAFE[repo]
                r = self.sync(repo, self.dest, "--layout", "hf-cache", expect_rc=None)
                self.assertRefusedWhilePlanning(repo, r, shown, why, layout="hf-cache")

    def test_a_path_listed_as_file_and_folder_is_refused(self):
        r = self.sync("h/file-and-folder", self.dest, expect_rc=None)
        self.assertRefusedWhilePlanning("h/file-and-folder", r, '"config.json"', "both as a file and as a folder")
        self.assertIn("config.json/x.txt", r.stderr)

    def test_names_that_differ_only_in_case_are_distinct_files(self):
        probe = self.tmp / "CaseProbe"
        probe.write_text("")
        if (self.tmp / "caseprobe").exists():
            self.skipTest(f"{self.tmp} is on a case-insensitive filesystem")
        self.sync("h/case", self.dest)
        exp = self.assertMirror(self.dest, "h/case")
        self.assertEqual(len(exp["by_path"]), 4)
        self.assertEqual((self.dest / "README.md").read_text(), "upper\n")
        self.assertEqual((self.dest / "readme.md").read_text(), "lower\n")
        self.assertEqual((self.dest / "Data" / "x.txt").read_text(), "D\n")
        self.assertEqual((self.dest / "data" / "x.txt").read_text(), "d\n")
        v = self.hfm("verify", self.dest)
        self.assertEqual(v.rc, 0, v.describe())

    def test_long_names_within_the_limits_are_mirrored(self):
        self.sync("h/long-ok", self.dest)
        self.assertMirror(self.dest, "h/long-ok")
        self.assertNothingOutside()

    def test_a_path_too_long_for_this_destination_fails_cleanly(self):
        # 4094 bytes passes the policy, but under DEST it is past PATH_MAX: an honest I/O error.
        r = self.sync("h/too-long-here", self.dest, expect_rc=1)
        self.assertIn("too long", r.stderr.lower())
        self.assertFalse(manifest_exists(self.dest), "a manifest claims a mirror that is not complete")
        self.assertEqual([f["path"] for f in r.json["failures"]], [TOO_LONG_HERE])
        self.assertNothingOutside()

    def transition(self, repo):
        """c1, then c2 (the switch), then c1 again; returns the c2 run."""
        self.addCleanup(self.emu.move_branch, repo, "c1")
        self.sync(repo, self.dest)
        self.assertMirror(self.dest, repo, "c1")
        self.emu.move_branch(repo, "c2")
        r = self.sync(repo, self.dest, expect_rc=None)
        self.assertNothingOutside()
        return r

    def test_file_folder_switches_never_leave_a_false_mirror(self):
        for repo in ("h/file-to-folder", "h/folder-to-file"):
            with self.subTest(repo):
                self.emu.move_branch(repo, "c1")
                shutil.rmtree(self.dest, ignore_errors=True)
                r = self.transition(repo)
                if r.rc == 0:
                    self.assertMirror(self.dest, repo, "c2")
                else:
                    self.assertNotIn(r.rc, (0, 130), r.describe())
                    self.assertIn("weights", r.stderr)
                    self.assertFalse(manifest_exists(self.dest), "a manifest claims a mirror that is not complete")
                # Back at c1, the next run repairs whatever is there.
                self.emu.move_branch(repo, "c1")
                self.sync(repo, self.dest)
                self.assertMirror(self.dest, repo, "c1")
                self.assertNothingOutside()

    def test_a_file_that_becomes_a_folder_is_mirrored(self):
        """`weights` (a file at c1) becomes the folder of `weights/part-1.bin` at c2: the old file
        is removed before the transfers (other removals still wait for them)."""
        r = self.transition("h/file-to-folder")
        self.assertEqual(r.rc, 0, r.describe())
        self.assertMirror(self.dest, "h/file-to-folder", "c2")

    def test_a_folder_that_becomes_a_file_is_mirrored(self):
        """The other way round: c1's files under `weights/` and the folder they leave empty go
        before the new file `weights` is placed."""
        r = self.transition("h/folder-to-file")
        self.assertEqual(r.rc, 0, r.describe())
        self.assertMirror(self.dest, "h/folder-to-file", "c2")


if __name__ == "__main__":
    unittest.main(verbosity=2)
