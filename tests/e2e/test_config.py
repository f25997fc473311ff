"""e2e: `hfmirror sync --config models.yaml [--only NAME]`.

A valid file syncs every entry (each with its own repo, type, revision, patterns and `to:`);
--only narrows it; an invalid file is refused as a whole with rc 2, a message naming the entry
and the field, before a single request reaches the Hub.
"""

import os
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(os.environ.get("HFM_SOURCE_DIR") or Path(__file__).resolve().parents[2])
                       / "tests" / "support"))

from e2ebase import EmulatorTestCase  # noqa: E402
from hubemu import hf_filter, manifest_exists, read_manifest  # noqa: E402

TINY = "acme/tiny"
DATASET = "acme/tiny-dataset"


def yq(s):
    """A YAML double-quoted scalar (paths may hold characters YAML cares about)."""
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


class ConfigTest(EmulatorTestCase):

    def write(self, text, name="models.yaml"):
        p = self.tmp / name
        p.write_text(text, encoding="utf-8")
        return p

    def two_entries(self):
        self.dest_tiny = self.tmp / "out" / "tiny"
        self.dest_data = self.tmp / "out" / "data"
        return self.write(f"""\
# Two repos, each with its own destination.
- name: tiny
  modelId: {TINY}
  revision: v1.0
  include: ["*.json", "*.txt"]
  to: {yq(self.dest_tiny)}
- name: data
  repoId: {DATASET}
  repoType: dataset
  to: {yq(self.dest_data)}
""")

    def assertTinyEntry(self):
        c1 = self.expected(TINY, "c1")
        sel = {p: c1["by_path"][p] for p in hf_filter(c1["by_path"], ["*.json", "*.txt"])}
        self.assertIn("notes-old.txt", sel)  # c1, not main
        self.assertNotIn("model.safetensors", sel)
        self.assertFilesMatch(self.dest_tiny, sel)
        self.assertManifest(self.dest_tiny, TINY, c1["commit"], sel, revision="v1.0")

    def test_two_entries_sync_both(self):
        cfg = self.two_entries()
        r = self.hfm("sync", "--config", cfg, "--json", "--progress", "none")
        self.assertEqual(r.rc, 0, r.describe())
        self.assertTinyEntry()
        self.assertMirror(self.dest_data, DATASET, repo_type="dataset")
        js = self.assertOneJsonObject(r)
        self.assertEqual(js["result"], "ok")
        self.assertEqual([(x["name"], x["result"]) for x in js["results"]], [("tiny", "ok"), ("data", "ok")])

    def test_only_syncs_the_named_entry(self):
        cfg = self.two_entries()
        r = self.hfm("sync", "--config", cfg, "--only", "data")
        self.assertEqual(r.rc, 0, r.describe())
        self.assertMirror(self.dest_data, DATASET, repo_type="dataset")
        self.assertFalse(self.dest_tiny.exists(), "--only data also touched entry tiny")
        self.assertFalse(any("/acme/tiny/" in e["path"] or e["path"].endswith("/acme/tiny")
                             for e in self.emu.requests("hub")), "--only data sent requests for acme/tiny")

    def test_only_unknown_name_is_a_config_error(self):
        cfg = self.two_entries()
        r = self.hfm("sync", "--config", cfg, "--only", "nope")
        self.assertEqual(r.rc, 2, r.describe())
        self.assertIn("nope", r.stderr)
        self.assertEqual(self.emu.requests(), [])
        self.assertFalse((self.tmp / "out").exists())

    def test_helm_values_file_with_to_root(self):
        root = self.tmp / "root"
        cfg = self.write(f"""\
global:
  resourcePrefix: acme
  somethingElse: ignored
huggingfaceModels:
  - name: renamed
    modelId: acme/renamed-model
  - name: gated
    modelId: acme/gated-model
""", "values.yaml")
        r = self.hfm("sync", "--config", cfg, "--to", root, "--token", "hf_reader")
        self.assertEqual(r.rc, 0, r.describe())
        self.assertMirror(root / "renamed", "acme/renamed-model")
        self.assertMirror(root / "gated", "acme/gated-model")

    def test_a_failing_entry_does_not_stop_the_others(self):
        cfg = self.write(f"""\
- name: gated
  modelId: acme/gated-model
  to: {yq(self.tmp / "gated")}
- name: renamed
  modelId: acme/renamed-model
  to: {yq(self.tmp / "renamed")}
""")
        r = self.hfm("sync", "--config", cfg, "--json")
        self.assertEqual(r.rc, 3, r.describe())
        self.assertIn("gated", r.stderr)
        self.assertFalse(manifest_exists(self.tmp / "gated"))
        self.assertMirror(self.tmp / "renamed", "acme/renamed-model")
        js = self.assertOneJsonObject(r)
        self.assertEqual(js["result"], "error")
        self.assertEqual({x["name"]: x["result"] for x in js["results"]}, {"gated": "error", "renamed": "ok"})

    def test_invalid_configs_fail_before_any_request(self):
        good = f"""\
- name: tiny
  modelId: {TINY}
  to: {yq(self.tmp / "out" / "tiny")}
"""
        cases = {
            # name: (entry 2 text, strings the message must contain)
            "unknown field": (f"""\
- name: data
  modelId: {DATASET}
  revison: main
  to: {yq(self.tmp / "out" / "data")}
""", ['entry 2', '"data"', "revison"]),
            "wrong type (number)": (f"""\
- name: data
  modelId: {DATASET}
  revision: 5
  to: {yq(self.tmp / "out" / "data")}
""", ['entry 2', '"data"', "revision", "string"]),
            "wrong type (mapping for a list)": (f"""\
- name: data
  modelId: {DATASET}
  include: {{a: b}}
  to: {yq(self.tmp / "out" / "data")}
""", ['entry 2', '"data"', "include"]),
            "missing modelId": (f"""\
- name: data
  to: {yq(self.tmp / "out" / "data")}
""", ['entry 2', '"data"', "modelId"]),
            "bad repoType": (f"""\
- name: data
  modelId: {DATASET}
  repoType: space
  to: {yq(self.tmp / "out" / "data")}
""", ['entry 2', '"data"', "repoType"]),
            "duplicate name": (f"""\
- name: tiny
  modelId: {DATASET}
  to: {yq(self.tmp / "out" / "data")}
""", ['entry 2', '"tiny"', "name"]),
            "same destination": (f"""\
- name: data
  modelId: {DATASET}
  to: {yq(self.tmp / "out" / "tiny")}
""", ['entry 2', '"data"', "destination"]),
        }
        for case, (entry2, needles) in cases.items():
            with self.subTest(case):
                cfg = self.write(good + entry2)
                r = self.hfm("sync", "--config", cfg)
                self.assertEqual(r.rc, 2, r.describe())
                for n in needles:
                    self.assertIn(n, r.stderr, f"the message does not name {n!r}")
                self.assertIn("models.yaml", r.stderr, "the message does not name the file")
                self.assertEqual(self.emu.requests(), [], "the emulator saw a request for an invalid config")
                self.assertFalse((self.tmp / "out").exists(), "a destination was created for an invalid config")

    def test_unreadable_or_empty_config(self):
        for name, text in (("empty", ""), ("not a list", "just a string\n"), ("syntax", "- name: [unclosed\n")):
            with self.subTest(name):
                cfg = self.write(text)
                r = self.hfm("sync", "--config", cfg)
                self.assertEqual(r.rc, 2, r.describe())
                self.assertIn("models.yaml", r.stderr)
                self.assertEqual(self.emu.requests(), [])
        r = self.hfm("sync", "--config", self.tmp / "missing.yaml")
        self.assertEqual(r.rc, 2, r.describe())
        self.assertEqual(self.emu.requests(), [])

    def test_config_revision_is_recorded(self):
        cfg = self.two_entries()
        r = self.hfm("sync", "--config", cfg, "--only", "tiny")
        self.assertEqual(r.rc, 0, r.describe())
        self.assertTinyEntry()
        m = read_manifest(self.dest_tiny)
        self.assertEqual((m["revision"], m["include"]), ("v1.0", ["*.json", "*.txt"]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
