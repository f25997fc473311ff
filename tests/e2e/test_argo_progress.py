"""e2e: ARGO_PROGRESS_FILE. Argo Workflows shows a step's progress from that file as "N/M";
hfmirror writes files in place (already current + verified this run) over the files selected,
while it runs and once more at the end — also when a file fails, and when nothing had to move.
"""

import os
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(os.environ.get("HFM_SOURCE_DIR") or Path(__file__).resolve().parents[2])
                       / "tests" / "support"))

from e2ebase import EmulatorTestCase  # noqa: E402

TINY = "acme/tiny"


class ArgoProgressTest(EmulatorTestCase):

    def _progress(self, path):
        text = path.read_text()
        self.assertRegex(text, r"^\d+/\d+\n$")
        done, total = (int(x) for x in text.strip().split("/"))
        return done, total

    def test_done_over_total_after_a_sync_and_an_up_to_date_rerun(self):
        n = len(self.emu.expected_files(TINY)["files"])
        pf = self.tmp / "argo" / "progress"
        pf.parent.mkdir()
        dest = self.tmp / "m"
        self.sync(TINY, dest, env={"ARGO_PROGRESS_FILE": str(pf)})
        self.assertEqual(self._progress(pf), (n, n))
        pf.unlink()
        self.sync(TINY, dest, env={"ARGO_PROGRESS_FILE": str(pf)})
        self.assertEqual(self._progress(pf), (n, n), "an up-to-date run did not report itself complete")
        self.assertEqual(sorted(p.name for p in pf.parent.iterdir()), ["progress"], "a temporary file was left")

    def test_a_failed_file_is_not_counted(self):
        n = len(self.emu.expected_files(TINY)["files"])
        pf = self.tmp / "progress"
        self.emu.set_faults({"corrupt": {"path": "model.safetensors"}})
        r = self.sync(TINY, self.tmp / "m", env={"ARGO_PROGRESS_FILE": str(pf)}, expect_rc=4)
        self.assertEqual(self._progress(pf), (n - 1, n), r.describe())

    def test_unwritable_progress_file_does_not_fail_the_run(self):
        r = self.sync(TINY, self.tmp / "m", env={"ARGO_PROGRESS_FILE": str(self.tmp / "no-such-dir" / "p")})
        self.assertIn("argo.progress_not_written", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
