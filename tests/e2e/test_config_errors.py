"""e2e: `sync --config models.yaml` refuses a bad file as a whole, before anything happens.

Every case: exit code 2 (usage or config), exactly one line on stderr, `error: FILE:LINE: entry N
"name": ...` naming the field (or the top-level block) at fault, not one request to the emulator,
and nothing written. test_config.py already covers a misspelt field, a number for a string, a
mapping for a list, a missing modelId, a bad repoType, a duplicate name and a shared destination;
this module adds the rest: other wrong types, defaults and top-level blocks, missing names and
destinations, bad patterns, size flags that cannot work for an entry, nested or equivalent
destinations, and that --only does not skip checking the other entries. It also shows that
hf-cache entries may share one cache root (they own only their repo's folder in it).
"""

import os
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(os.environ.get("HFM_SOURCE_DIR") or Path(__file__).resolve().parents[2])
                       / "tests" / "support"))

from e2ebase import EmulatorTestCase  # noqa: E402
from hubemu import read_manifest  # noqa: E402

TINY = "acme/tiny"
DATASET = "acme/tiny-dataset"
OTHER = "acme/renamed-model"


def yq(s):
    """A YAML double-quoted scalar (paths may hold characters YAML cares about)."""
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


class ConfigErrorsTest(EmulatorTestCase):

    def setUp(self):
        super().setUp()
        self.out = self.tmp / "out"

    def write(self, text, name="models.yaml"):
        p = self.tmp / name
        p.write_text(text, encoding="utf-8")
        return p

    def good(self, name="tiny", sub=None):
        return f"- name: {name}\n  modelId: {TINY}\n  to: {yq(self.out / (sub or name))}\n"

    def assertRefused(self, text, line, needles, extra=(), name="models.yaml"):
        """rc 2, one stderr line starting `error: <file>:<line>:` (just `error: ` for a flag
        checked against the entries: line None) with every needle, nothing on stdout, no
        request, nothing under out/."""
        cfg = self.write(text, name)
        r = self.hfm("sync", "--config", cfg, "--progress", "none", *extra)
        self.assertEqual(r.rc, 2, r.describe())
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, f"not exactly one message:\n{r.stderr}")
        prefix = f"error: {cfg}:{line}: " if line else "error: "
        self.assertTrue(lines[0].startswith(prefix), f"{lines[0]!r} does not start with {prefix!r}")
        for n in needles:
            self.assertIn(n, lines[0], f"the message does not name {n!r}")
        self.assertEqual(r.stdout, "", "a refused config printed a result")
        self.assertEqual(self.emu.requests(), [], "the emulator saw a request for an invalid config")
        self.assertFalse(self.out.exists(), "a destination was created for an invalid config")
        return lines[0]

    def test_wrong_types(self):
        d = yq(self.out / "d")
        cases = {
            # name: (entry 2 (from line 4), line of the error, needles)
            "a number for name": (f"- name: 123\n  modelId: acme/x\n  to: {d}\n", 4,
                                   ['entry 2 "123"', '"name"', "a number", 'quote it: "123"']),
            "a boolean for revision": (f"- name: data\n  modelId: acme/x\n  revision: true\n  to: {d}\n", 6,
                                       ['entry 2 "data"', '"revision"', "a boolean", 'quote it: "true"']),
            "a list for modelId": (f"- name: data\n  modelId: [acme/x]\n  to: {d}\n", 5,
                                   ['entry 2 "data"', '"modelId"', "a list"]),
            "a mapping for to": ("- name: data\n  modelId: acme/x\n  to: {path: /x}\n", 6,
                                 ['entry 2 "data"', '"to"', "a mapping"]),
            "a boolean for include": (f"- name: data\n  modelId: acme/x\n  include: true\n  to: {d}\n", 6,
                                      ['entry 2 "data"', '"include"', "a boolean"]),
            "a number in exclude": (f"- name: data\n  modelId: acme/x\n  exclude: ['*.bin', 3]\n  to: {d}\n", 6,
                                    ['entry 2 "data"', '"exclude[1]"', "a number"]),
            "a list in include": (f"- name: data\n  modelId: acme/x\n  include: [[a, b]]\n  to: {d}\n", 6,
                                  ['entry 2 "data"', '"include[0]"', "a list"]),
            "an entry that is a string": ("- acme/x\n", 4, ["entry 2", "expected a mapping", "a scalar"]),
        }
        for case, (entry2, line, needles) in cases.items():
            with self.subTest(case):
                self.assertRefused(self.good() + entry2, line, needles)

    def test_unknown_fields_everywhere(self):
        cases = {
            "near miss on an entry": (
                self.good() + f"- name: data\n  modelID: {OTHER}\n  to: {yq(self.out / 'd')}\n",
                5, ['entry 2 "data"', 'unknown field "modelID"', 'did you mean "modelId"']),
            "a size in defaults": (
                f"defaults:\n  to: {yq(self.out)}\n  partSize: 16MiB\nmodels:\n  - name: tiny\n    modelId: {TINY}\n",
                3, ["defaults", 'unknown field "partSize"']),
            "a typo at the top": (
                f"model:\n  - name: tiny\n    modelId: {TINY}\n",
                1, ["top level", '"model"', 'did you mean "models"']),
            "a stray top-level key": (
                f"models:\n  - name: tiny\n    modelId: {TINY}\n    to: {yq(self.out)}\nextra: 1\n",
                5, ["top level", 'unknown field "extra"']),
            "a name under defaults": (
                f"defaults:\n  name: all\n  to: {yq(self.out)}\nmodels:\n  - name: tiny\n    modelId: {TINY}\n",
                2, ["defaults", '"name"', "belongs on each entry"]),
            "a key given twice": (f"- name: tiny\n  modelId: {TINY}\n  to: {yq(self.out)}\n  modelId: {OTHER}\n",
                                  4, ['entry 1 "tiny"', '"modelId"', "twice"]),
        }
        for case, (text, line, needles) in cases.items():
            with self.subTest(case):
                self.assertRefused(text, line, needles)

    def test_missing_required_fields(self):
        cases = {
            "no name": (self.good() + f"- modelId: {OTHER}\n  to: {yq(self.out / 'd')}\n", 4,
                        ["entry 2", '"name"', "required"]),
            "no destination anywhere": (f"- name: tiny\n  modelId: {TINY}\n", 1,
                                        ['entry 1 "tiny"', "no destination", '"to"', '"s3Bucket"', "--to"]),
            "an empty modelId": (self.good() + f"- name: data\n  modelId: ''\n  to: {yq(self.out / 'd')}\n", 4,
                                 ['entry 2 "data"', '"modelId"', "required"]),
            "an empty models list": ("models: []\n", 1, ["models", "empty"]),
        }
        for case, (text, line, needles) in cases.items():
            with self.subTest(case):
                self.assertRefused(text, line, needles)

    def test_bad_patterns(self):
        cases = {
            "an empty pattern": ("include: ['*.json', '']", '"include[1]"', "must not be empty"),
            "a null pattern": ("exclude: [null]", '"exclude[0]"', "must not be empty"),
            "a control character": ('include: ["a\\tb"]', '"include[0]"', "control characters"),
            "an unrendered template": ('include: ["{{ .Values.glob }}"]', '"include[0]"', "unrendered template"),
        }
        for case, (field, needle, why) in cases.items():
            with self.subTest(case):
                text = self.good() + f"- name: data\n  modelId: {OTHER}\n  {field}\n  to: {yq(self.out / 'd')}\n"
                self.assertRefused(text, 6, ['entry 2 "data"', needle, why])

    def test_sizes_that_cannot_work_for_an_entry(self):
        # The config has no size fields; sizes come from flags and are checked against every
        # entry before the first one starts.
        s3 = f"- name: remote\n  modelId: {OTHER}\n  s3Bucket: acme-models\n"
        cases = {
            "--part-size below S3's minimum, for an S3 entry": (["--part-size", "4MiB"], "5MiB"),
            "--memory-budget below two parts": (["--memory-budget", "20MiB", "--part-size", "16MiB"],
                                                "--memory-budget"),
            "--part-size not a size": (["--part-size", "16 megs"], "16 megs"),
        }
        for case, (flags, needle) in cases.items():
            with self.subTest(case):
                # An unreachable S3 endpoint: any attempt to reach it would be a different error.
                self.assertRefused(self.good() + s3, None, [needle],
                                   extra=[*flags, "--s3-endpoint", "http://127.0.0.1:9"])

    def test_destinations_that_overlap(self):
        cases = {
            "the same folder written differently": (
                self.good() + f"- name: data\n  modelId: {OTHER}\n  to: {yq(str(self.out) + '/./x/../tiny')}\n",
                4, ['entry 2 "data"', "is also entry 1 \"tiny\"'s"]),
            "one folder inside another": (
                self.good() + f"- name: data\n  modelId: {OTHER}\n  to: {yq(self.out / 'tiny' / 'data')}\n",
                4, ['entry 2 "data"', "inside entry 1 \"tiny\"'s destination"]),
            "one folder around another": (
                self.good(sub="a/tiny") + f"- name: data\n  modelId: {OTHER}\n  to: {yq(self.out / 'a')}\n",
                4, ['entry 2 "data"', "contains entry 1 \"tiny\"'s destination"]),
            "a whole bucket and a prefix in it": (
                f"- name: a\n  modelId: {TINY}\n  s3Bucket: acme-models\n- name: b\n  modelId: {OTHER}\n"
                "  to: s3://acme-models\n",
                4, ['entry 2 "b"', "contains entry 1 \"a\"'s destination s3://acme-models/models/a"]),
            "one repo twice in one hf-cache": (
                f"defaults:\n  layout: hf-cache\nmodels:\n  - name: a\n    modelId: {TINY}\n    to: {yq(self.out)}\n"
                f"  - name: b\n    modelId: {TINY}\n    revision: v1.0\n    to: {yq(self.out)}\n",
                7, ['entry 2 "b"', "model acme/tiny is already mirrored into the hf-cache", 'entry 1 "a"']),
        }
        for case, (text, line, needles) in cases.items():
            with self.subTest(case):
                self.assertRefused(text, line, needles)

    def test_only_does_not_skip_checking_the_other_entries(self):
        text = self.good() + f"- name: data\n  modelId: {OTHER}\n  revison: main\n  to: {yq(self.out / 'd')}\n"
        self.assertRefused(text, 6, ['entry 2 "data"', '"revison"'], extra=["--only", "tiny"])

    def test_json_mode_keeps_stdout_clean_on_a_config_error(self):
        text = self.good() + "- name: data\n  modelId: 5\n"
        self.assertRefused(text, 5, ['entry 2 "data"', '"modelId"'], extra=["--json"])

    def test_hf_cache_entries_share_one_cache_root(self):
        # Not an error: a cache root holds many repos, each entry owns only its repo's folder.
        cache = self.tmp / "cache"
        cfg = self.write(f"""\
defaults:
  layout: hf-cache
models:
  - name: tiny
    modelId: {TINY}
    to: {yq(cache)}
  - name: data
    repoId: {DATASET}
    repoType: dataset
    to: {yq(cache)}
""")
        r = self.hfm("sync", "--config", cfg, "--progress", "none", "--json")
        self.assertEqual(r.rc, 0, r.describe())
        for folder, repo, repo_type in (("models--acme--tiny", TINY, "model"),
                                        ("datasets--acme--tiny-dataset", DATASET, "dataset")):
            m = read_manifest(cache / folder)
            self.assertEqual((m["repo_id"], m["repo_type"]), (repo, repo_type))
            exp = self.expected(repo, repo_type=repo_type)
            self.assertEqual(m["commit"], exp["commit"])
            snap = cache / folder / "snapshots" / exp["commit"]
            self.assertEqual({p for p in exp["by_path"] if (snap / p).is_file()}, set(exp["by_path"]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
