"""e2e: `hfmirror sync` into a plain local folder, and `hfmirror verify`.

Covers: a normal repo file by file against the emulator's content ids, the manifest, verify
(pass, corrupted byte, missing file), awkward file names, a 2,500-file repo (tree pagination),
renamed repos, dataset repos, a hostile tree listing, --dry-run and --json.
"""

import os
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(os.environ.get("HFM_SOURCE_DIR") or Path(__file__).resolve().parents[2])
                       / "tests" / "support"))

from e2ebase import EmulatorTestCase  # noqa: E402
from hubemu import (git_sha1_bytes, list_files, manifest_exists, read_manifest,  # noqa: E402
                    resolve_path_of, tree_snapshot)

TINY = "acme/tiny"


class PlainMirrorTest(EmulatorTestCase):

    def test_tiny_into_plain_folder_matches_hub_and_manifest(self):
        dest = self.tmp / "tiny"
        r = self.sync(TINY, dest)
        js = self.assertOneJsonObject(r)
        exp = self.assertMirror(dest, TINY, revision="main")
        # The emulator's main is c2; the summary names the same commit and every file.
        self.assertEqual(exp["commit_name"], "c2")
        self.assertEqual(js["result"], "ok")
        self.assertEqual(js["commit"], exp["commit"])
        self.assertEqual(js["files_total"], len(exp["by_path"]))
        self.assertEqual(js["bytes_downloaded"], sum(f["size"] for f in exp["by_path"].values()))
        # Only the state folder is left besides the files: no stray temp files.
        self.assertEqual(sorted(p.name for p in dest.iterdir() if p.name.startswith(".")), [".hfmirror"])
        leftovers = [p for p in (dest / ".hfmirror").rglob("*") if p.is_file() and p.name != "manifest.json"]
        self.assertEqual(leftovers, [], "temporary or partial files left behind after success")

    def test_verify_passes_then_fails_on_one_corrupted_byte(self):
        dest = self.tmp / "tiny"
        self.sync(TINY, dest)
        exp = self.expected(TINY)
        v = self.hfm("verify", dest, "--json")
        self.assertEqual(v.rc, 0, v.describe())
        vj = self.assertOneJsonObject(v)
        self.assertEqual(vj["result"], "ok")
        self.assertEqual(vj["commit"], exp["commit"])
        self.assertEqual(vj["files_ok"], len(exp["by_path"]))

        # Flip one byte in the middle of a regular (git-sha1) file; the size stays the same.
        victim = dest / "tokenizer.json"
        data = bytearray(victim.read_bytes())
        data[len(data) // 2] ^= 0x01
        victim.write_bytes(bytes(data))
        v = self.hfm("verify", dest)
        self.assertEqual(v.rc, 4, v.describe())
        self.assertIn("tokenizer.json", v.stderr)
        for other in ("config.json", "model.safetensors", "README.md"):
            self.assertNotIn(f"'{other}'", v.stderr, f"verify blames an intact file: {v.stderr}")
        vj = self.hfm("verify", dest, "--json")
        self.assertEqual(vj.rc, 4, vj.describe())
        self.assertEqual([p["path"] for p in self.assertOneJsonObject(vj)["problems"]], ["tokenizer.json"])

    def test_verify_fails_on_corrupted_lfs_file_and_missing_file(self):
        dest = self.tmp / "tiny"
        self.sync(TINY, dest)
        with open(dest / "model.safetensors", "r+b") as f:  # in place: sha256 file, same size
            f.seek(12345)
            b = f.read(1)
            f.seek(12345)
            f.write(bytes([b[0] ^ 0x80]))
        (dest / "README.md").unlink()
        v = self.hfm("verify", dest, "--json")
        self.assertEqual(v.rc, 4, v.describe())
        self.assertEqual(sorted(p["path"] for p in self.assertOneJsonObject(v)["problems"]),
                         ["README.md", "model.safetensors"])

    def test_verify_of_a_folder_that_is_not_a_mirror_fails(self):
        empty = self.tmp / "empty"
        empty.mkdir()
        v = self.hfm("verify", empty)
        self.assertNotEqual(v.rc, 0, v.describe())
        self.assertIn("manifest", v.stderr)

    # Regression guard: verify used to create DEST/.hfmirror/partial/ (LocalStore::open).
    def test_verify_creates_nothing(self):
        missing = self.tmp / "no-such-mirror"
        v = self.hfm("verify", missing)
        self.assertNotEqual(v.rc, 0, v.describe())
        self.assertFalse(missing.exists(), "verify created the folder it was asked to check")

    def test_refuses_to_mix_two_repos_in_one_destination(self):
        dest = self.tmp / "tiny"
        self.sync(TINY, dest)
        r = self.sync("acme/renamed-model", dest, expect_rc=2)
        self.assertIn("acme/tiny", r.stderr)
        self.assertMirror(dest, TINY)

    def test_case_mismatched_repo_id_follows_the_redirect(self):
        dest = self.tmp / "case"
        self.sync("ACME/TINY", dest)
        exp = self.expected(TINY)
        self.assertFilesMatch(dest, exp["by_path"])
        self.assertEqual(read_manifest(dest)["commit"], exp["commit"])

    def test_case_mismatched_then_canonical_id_is_the_same_mirror(self):
        dest = self.tmp / "case"
        self.sync("ACME/TINY", dest)
        self.emu.clear_requests()
        r = self.sync(TINY, dest, expect_rc=None)
        self.assertEqual(r.rc, 0, r.describe())
        self.assertEqual(r.json["bytes_downloaded"], 0)

    def test_files_that_are_not_from_the_repo_are_kept(self):
        dest = self.tmp / "mixed"
        (dest / "special").mkdir(parents=True)
        (dest / "mine.txt").write_text("mine\n")
        (dest / "special" / "mine2.txt").write_text("mine too\n")
        self.addCleanup(self.emu.move_branch, TINY, "c2")
        self.emu.move_branch(TINY, "c1")
        self.sync(TINY, dest)
        self.emu.move_branch(TINY, "c2")
        self.sync(TINY, dest)  # removes notes-old.txt, and only that
        self.assertFalse((dest / "notes-old.txt").exists())
        self.assertEqual((dest / "mine.txt").read_text(), "mine\n")
        self.assertEqual((dest / "special" / "mine2.txt").read_text(), "mine too\n")
        self.assertEqual(list_files(dest), set(self.expected(TINY)["by_path"]) | {"mine.txt", "special/mine2.txt"})

    def test_planted_symlink_file_is_not_written_through(self):
        dest = self.tmp / "dest"
        outside = self.tmp / "outside"
        dest.mkdir()
        outside.mkdir()
        (outside / "target").write_text("precious\n")
        os.symlink("../outside/target", dest / "README.md")
        r = self.sync(TINY, dest, expect_rc=None)
        self.assertEqual((outside / "target").read_text(), "precious\n", "wrote through a symlink")
        if r.rc == 0:  # replacing the link by a real file would be fine too
            self.assertFalse((dest / "README.md").is_symlink())
        else:
            self.assertIn("README.md", r.stderr)
            self.assertFalse(manifest_exists(dest))

    def test_symlinked_folder_in_destination_is_not_followed(self):
        dest = self.tmp / "dest"
        outside = self.tmp / "outside"
        dest.mkdir()
        outside.mkdir()
        os.symlink("../outside", dest / "special")
        r = self.sync(TINY, dest, expect_rc=None)
        self.assertEqual(sorted(os.listdir(outside)), [], f"files written outside the destination; {r.describe()}")
        if r.rc == 0:
            self.assertFalse((dest / "special").is_symlink())
        else:
            self.assertFalse(manifest_exists(dest))

    def test_awkward_names_empty_file_and_deep_nesting_arrive_intact(self):
        dest = self.tmp / "tiny"
        self.sync(TINY, dest)
        exp = self.expected(TINY)["by_path"]
        literal = {
            "special/file with spaces.txt": b"spaces\n",
            "special/a+b=c&d.txt": b"plus equals ampersand\n",
            "special/100% ~tilde.txt": b"percent tilde\n",
            "special/it's (quoted)!*.txt": b"quote parens bang star\n",
            "unicode/模型-ü.json": '{"name": "模型-ü"}\n'.encode(),
            "a/b/c/d/e/f/g/h/deep.txt": b"deep\n",
            "empty.txt": b"",
        }
        for path, content in literal.items():
            with self.subTest(path=path):
                self.assertIn(path, exp, "the emulator spec changed")
                self.assertEqual(git_sha1_bytes(content), exp[path]["git_sha1"], "the emulator spec changed")
                p = dest / path
                self.assertTrue(p.is_file(), f"{path} missing")
                self.assertEqual(p.read_bytes(), content)
        # The name on disk is the repo's UTF-8 bytes (NFC as listed), not %-encoded or normalised.
        self.assertIn("模型-ü.json".encode(), [os.fsencode(n) for n in os.listdir(dest / "unicode")])
        self.assertEqual(sorted(os.listdir(dest / "special")), sorted(
            p.split("/", 1)[1] for p in literal if p.startswith("special/")))
        m = read_manifest(dest)
        self.assertIn("empty.txt", {f["path"] for f in m["files"]})

    def test_many_files_all_present_with_three_tree_pages(self):
        repo = "acme/many-files"
        dest = self.tmp / "many"
        r = self.sync(repo, dest, timeout=110)
        exp = self.assertMirror(dest, repo)
        self.assertEqual(len(exp["by_path"]), 2500)
        self.assertEqual(r.json["files_transferred"], 2500)
        tree = [e for e in self.emu.requests("hub") if "/tree/" in e["path"]]
        self.assertEqual(len(tree), 3, [e["path"] + "?" + e["query"] for e in tree])
        self.assertTrue(all(e["status"] == 200 for e in tree), tree)
        self.assertEqual(["cursor=" in e["query"] for e in tree], [False, True, True])
        # Every listing is pinned at the resolved commit, not at "main".
        self.assertTrue(all(e["path"].endswith("/tree/" + exp["commit"]) for e in tree),
                        [e["path"] for e in tree])

    def test_renamed_repo_mirrors_the_new_repo(self):
        dest = self.tmp / "renamed"
        self.sync("acme/old-name", dest)
        exp = self.expected("acme/renamed-model")
        self.assertFilesMatch(dest, exp["by_path"])
        m = read_manifest(dest)
        self.assertEqual(m["commit"], exp["commit"])
        self.assertIn(m["repo_id"], ("acme/old-name", "acme/renamed-model"))
        self.assertEqual({f["path"] for f in m["files"]}, set(exp["by_path"]))

    def test_dataset_repo(self):
        repo = "acme/tiny-dataset"
        dest = self.tmp / "ds"
        self.sync(repo, dest, "--repo-type", "dataset")
        self.assertMirror(dest, repo, repo_type="dataset")
        paths = [e["path"] for e in self.emu.requests("hub")]
        self.assertTrue(any(p.startswith("/api/datasets/acme/tiny-dataset/") for p in paths), paths)
        self.assertFalse(any(p.startswith("/api/models/") for p in paths), paths)

    def test_dataset_without_repo_type_is_not_found(self):
        r = self.sync("acme/tiny-dataset", self.tmp / "ds", expect_rc=3)
        self.assertFalse(manifest_exists(self.tmp / "ds"))
        self.assertEqual(r.json["result"], "error")

    def test_hostile_tree_is_refused_and_nothing_escapes(self):
        # ../../escape.txt from dest would land in self.tmp; /abs/path.txt at the filesystem root.
        dest = self.tmp / "outer" / "inner" / "dest"
        dest.parent.mkdir(parents=True)
        (self.tmp / "canary.txt").write_text("canary\n")
        abs_existed = os.path.exists("/abs/path.txt")
        before = tree_snapshot(self.tmp)
        r = self.sync("acme/hostile", dest, expect_rc=None)
        self.assertNotEqual(r.rc, 0, r.describe())
        self.assertNotEqual(r.rc, 130, r.describe())
        self.assertIn("unsafe path", r.stderr.lower(), r.describe())
        self.assertRegex(r.stderr, r"\.\./|/abs/path\.txt", "the message does not name the offending path")
        after = tree_snapshot(self.tmp)
        outside = {p: v for p, v in after.items() if not p.startswith("outer/inner/dest")}
        self.assertEqual(outside, {p: v for p, v in before.items() if not p.startswith("outer/inner/dest")},
                         "something was written outside the destination")
        self.assertFalse(any(p.endswith("escape.txt") or p.endswith("x.txt") for p in after), after)
        if not abs_existed:
            self.assertFalse(os.path.exists("/abs/path.txt"), "an absolute repo path was written")
        self.assertFalse(manifest_exists(dest))
        # Refused while planning: not one hostile file was even requested.
        fetched = {resolve_path_of(e, "acme/hostile") for e in self.emu.requests("hub")} - {None}
        self.assertFalse(fetched & {"../../escape.txt", "/abs/path.txt", "ok/../../x.txt", "abs/path.txt"}, fetched)
        self.assertEqual(self.emu.requests("cdn"), [])


class DryRunAndJsonTest(EmulatorTestCase):

    def test_dry_run_prints_plan_and_transfers_nothing(self):
        dest = self.tmp / "dry"
        r = self.hfm("sync", TINY, "--to", dest, "--dry-run")
        self.assertEqual(r.rc, 0, r.describe())
        exp = self.expected(TINY)
        for path in exp["by_path"]:
            self.assertIn(path, r.stdout, "the plan does not list every file")
        self.assertIn(exp["commit"], r.stdout)
        self.assertEqual(list_files(dest) if dest.exists() else set(), set(), "dry run wrote repo files")
        self.assertFalse(manifest_exists(dest))
        self.assertEqual(self.emu.requests("cdn"), [])
        fetched = {resolve_path_of(e, TINY) for e in self.emu.requests("hub")} - {None}
        self.assertEqual(fetched, set(), "dry run downloaded files")

    # Regression guard: LocalStore::open used to create DEST/.hfmirror/partial/ even for a dry run.
    def test_dry_run_leaves_a_fresh_destination_untouched(self):
        empty = self.tmp / "empty"
        empty.mkdir()
        r = self.hfm("sync", TINY, "--to", empty, "--dry-run")
        self.assertEqual(r.rc, 0, r.describe())
        self.assertEqual(sorted(tree_snapshot(empty)), [], "dry run wrote into an empty folder")
        missing = self.tmp / "not-yet"
        r = self.hfm("sync", TINY, "--to", missing, "--dry-run")
        self.assertEqual(r.rc, 0, r.describe())
        self.assertFalse(missing.exists(), "dry run created the destination")

    def test_dry_run_on_existing_mirror_changes_nothing(self):
        dest = self.tmp / "mirror"
        c1 = self.emu.commit_sha(TINY, "c1")
        self.addCleanup(self.emu.move_branch, TINY, "c2")
        self.emu.move_branch(TINY, "c1")
        self.sync(TINY, dest)
        self.emu.move_branch(TINY, "c2")
        before = tree_snapshot(dest)
        manifest_before = (dest / ".hfmirror" / "manifest.json").read_bytes()
        self.emu.clear_requests()
        r = self.sync(TINY, dest, "--dry-run")
        js = self.assertOneJsonObject(r)
        self.assertEqual(tree_snapshot(dest), before)
        self.assertEqual((dest / ".hfmirror" / "manifest.json").read_bytes(), manifest_before)
        self.assertEqual(read_manifest(dest)["commit"], c1)
        self.assertTrue(js["dry_run"])
        actions = {f["path"]: f["action"] for f in js["plan"]["files"]}
        self.assertEqual({p for p, a in actions.items() if a == "transfer"},
                         {"config.json", "model.safetensors", "added-in-c2.txt"})
        self.assertEqual(js["plan"]["remove"], ["notes-old.txt"])
        self.assertEqual(self.emu.requests("cdn"), [])
        # Human form names the removal too.
        h = self.hfm("sync", TINY, "--to", dest, "--dry-run")
        self.assertEqual(h.rc, 0, h.describe())
        self.assertRegex(h.stdout, r"remove\s+notes-old\.txt")
        self.assertEqual(tree_snapshot(dest), before)

    def test_json_is_exactly_one_object_on_stdout(self):
        cases = {
            "sync": ["sync", TINY, "--to", self.tmp / "a", "--json"],
            "sync --dry-run": ["sync", TINY, "--to", self.tmp / "b", "--json", "--dry-run"],
            "sync up to date": ["sync", TINY, "--to", self.tmp / "a", "--json"],
            "sync error": ["sync", "acme/private-model", "--to", self.tmp / "c", "--json"],
            "verify": ["verify", self.tmp / "a", "--json"],
        }
        for name, args in cases.items():
            with self.subTest(name):
                r = self.hfm(*args)
                self.assertIn(r.rc, (0, 3), r.describe())
                js = self.assertOneJsonObject(r)
                self.assertEqual(js["result"], "ok" if r.rc == 0 else "error", r.describe())
                self.assertEqual(js["command"], args[0])


if __name__ == "__main__":
    unittest.main(verbosity=2)
