"""e2e, S3: a models list whose entries name an `s3Bucket` (the Helm values form) mirrors each
entry to s3://<bucket>/models/<name>; `--dry-run` to S3 prints the plan and writes nothing, not
even to a prefix that already holds an older mirror.
"""

import os
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(os.environ.get("HFM_SOURCE_DIR") or Path(__file__).resolve().parents[2])
                       / "tests" / "support"))

from hubemu import cdn_sha256_of, resolve_path_of  # noqa: E402
from s3e2e import MANIFEST, S3TestCase  # noqa: E402

TINY = "acme/tiny"
DATASET = "acme/tiny-dataset"


class ConfigS3Test(S3TestCase):

    def setUp(self):
        super().setUp()
        self.addCleanup(self.emu.move_branch, TINY, "c2")  # the spec's main

    def write(self, text, name="models.yaml"):
        p = self.tmp / name
        p.write_text(text, encoding="utf-8")
        return p

    def helm_values(self):
        return self.write(f"""\
# The original Helm values file of the platform.
huggingfaceModels:
  - name: tiny
    modelId: {TINY}
    s3Bucket: {self.bucket}
    namespace: ray
    serviceAccount: ray-models
    region: {self.s3info["region"]}
  - name: data
    modelId: {DATASET}
    repoType: dataset
    s3Bucket: {self.bucket}
""")

    def run_config(self, cfg, *extra):
        return self.hfm("sync", "--config", cfg, "--json", "--progress", "none",
                        "--s3-endpoint", self.endpoint(), *extra, env=self.s3_env())

    def test_s3_bucket_entries_mirror_to_models_name(self):
        r = self.run_config(self.helm_values())
        self.assertEqual(r.rc, 0, r.describe())
        js = self.assertOneJsonObject(r)
        self.assertEqual(js["result"], "ok")
        self.assertEqual([(x["name"], x["result"], x["destination"]) for x in js["results"]],
                         [("tiny", "ok", f"s3://{self.bucket}/models/tiny"),
                          ("data", "ok", f"s3://{self.bucket}/models/data")])
        self.assertS3Mirror("models/tiny", TINY)
        self.assertS3Mirror("models/data", DATASET, repo_type="dataset")
        self.assertEqual({k.split("/")[0] + "/" + k.split("/")[1] for k in self.keys()},
                         {"models/tiny", "models/data"}, "objects outside models/<name>/")
        self.assertNoMultipartUploads()
        for prefix in ("models/tiny", "models/data"):
            v = self.verify_s3(prefix)
            self.assertEqual(v.rc, 0, v.describe())

    def test_only_picks_one_s3_entry(self):
        r = self.run_config(self.helm_values(), "--only", "data")
        self.assertEqual(r.rc, 0, r.describe())
        self.assertS3Mirror("models/data", DATASET, repo_type="dataset")
        self.assertEqual(self.keys("models/tiny"), set(), "--only data also wrote entry tiny")

    def assertDryRunWroteNothing(self, r, before):
        self.assertEqual(r.rc, 0, r.describe())
        js = self.assertOneJsonObject(r) if "--json" in r.args else None
        self.assertEqual(self.snapshot(), before, "--dry-run changed the bucket")
        self.assertNoMultipartUploads()
        hub = self.emu.requests("hub")
        self.assertEqual({resolve_path_of(e, TINY) for e in hub} - {None}, set(), "--dry-run fetched files")
        self.assertEqual([e for e in self.emu.requests("cdn") if cdn_sha256_of(e)], [], "--dry-run used the CDN")
        return js

    def test_dry_run_to_an_empty_prefix_writes_nothing(self):
        before = self.snapshot()
        r = self.sync_s3(TINY, "models/tiny", "--dry-run")
        js = self.assertDryRunWroteNothing(r, before)
        self.assertEqual(before, {})
        exp = self.expected(TINY)
        self.assertTrue(js["dry_run"])
        self.assertEqual(js["files_to_transfer"], len(exp["by_path"]))
        self.assertEqual(js["plan"]["commit"], exp["commit"])
        self.assertEqual({f["path"]: f["action"] for f in js["plan"]["files"]},
                         {p: "transfer" for p in exp["by_path"]})
        # The human form lists the plan too, and still writes nothing.
        r = self.hfm("sync", TINY, "--to", self.dest("models/tiny"), "--dry-run",
                     "--s3-endpoint", self.endpoint(), env=self.s3_env())
        self.assertDryRunWroteNothing(r, before)
        for path in exp["by_path"]:
            self.assertIn(path, r.stdout, "the plan does not list every file")

    def test_dry_run_over_an_older_mirror_changes_nothing(self):
        # Mirror c1 through the config, move main to c2 (3 files to transfer, 1 to remove), then
        # dry-run the same config: the c1 objects and manifest stay exactly as they were.
        self.emu.move_branch(TINY, "c1")
        cfg = self.helm_values()
        r = self.run_config(cfg, "--only", "tiny")
        self.assertEqual(r.rc, 0, r.describe())
        self.assertS3Mirror("models/tiny", TINY, "c1")
        self.emu.move_branch(TINY, "c2")
        before = self.snapshot()
        self.emu.clear_requests()
        r = self.run_config(cfg, "--only", "tiny", "--dry-run")
        js = self.assertDryRunWroteNothing(r, before)
        self.assertEqual(len(js["results"]), 1)
        res = js["results"][0]
        self.assertEqual(res["destination"], f"s3://{self.bucket}/models/tiny")
        self.assertTrue(res["dry_run"])
        actions = {f["path"]: f["action"] for f in res["plan"]["files"]}
        self.assertEqual({p for p, a in actions.items() if a == "transfer"},
                         {"config.json", "model.safetensors", "added-in-c2.txt"})
        self.assertEqual(res["plan"]["remove"], ["notes-old.txt"])
        self.assertEqual(self.s3_manifest("models/tiny")["commit"], self.expected(TINY, "c1")["commit"])
        self.assertIn(MANIFEST, self.keys("models/tiny"))
        self.assertIn("notes-old.txt", self.keys("models/tiny"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
