"""e2e: two runs on one local destination at once. The first takes an flock() on
.hfmirror/lock before its first change; a second run that needs to change the same folder
stops with exit code 5 ("busy"), names the holder and changes nothing, and the first run
finishes a verified mirror. The kernel drops the lock of a killed run, so a re-run right after
a SIGKILL proceeds.
"""

import fcntl
import os
import signal
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(os.environ.get("HFM_SOURCE_DIR") or Path(__file__).resolve().parents[2])
                       / "tests" / "support"))

from e2ebase import EmulatorTestCase  # noqa: E402
from hubemu import finish_hfmirror, manifest_exists, partial_states, start_hfmirror, wait_until  # noqa: E402

TINY = "acme/tiny"
MIB = 1 << 20
ARGS = ["--part-size", "1MiB", "--parallel", "2"]
EXIT_BUSY = 5


class ConcurrentRunsTest(EmulatorTestCase):

    def _start_slow(self, dest):
        self.emu.set_faults({"cdn_slow": {"count": 1000, "bytes_per_sec": 4 * MIB}})
        p = start_hfmirror(["sync", TINY, "--to", str(dest), "--json", "--progress", "none", *ARGS],
                           endpoint=self.emu.hub)
        self.addCleanup(lambda: p.poll() is None and (p.kill(), p.wait()))
        # A part on disk means the run holds the lock and is changing the folder.
        wait_until(lambda: any(s.get("done") for s in partial_states(dest)), timeout=60,
                   what="a first part of the large file on disk")
        return p

    def test_second_run_exits_busy_and_the_first_finishes(self):
        dest = self.tmp / "m"
        first = self._start_slow(dest)
        second = self.hfm("sync", TINY, "--to", str(dest), "--json", "--progress", "none", *ARGS)
        self.assertEqual(second.rc, EXIT_BUSY, second.describe())
        self.assertIn(f"pid {first.pid}", second.stderr, "the message does not name the run holding the lock")
        self.assertEqual(second.json["result"], "error")
        self.assertEqual(second.json.get("bytes_downloaded", 0), 0)
        self.assertTrue(first.poll() is None, "the first run stopped because of the second")
        self.emu.clear_faults()
        res = finish_hfmirror(first, timeout=120)
        self.assertEqual(res.rc, 0, res.describe())
        self.assertMirror(dest, TINY)
        v = self.hfm("verify", str(dest))
        self.assertEqual(v.rc, 0, v.describe())

    def test_lock_of_a_killed_run_does_not_block_the_next(self):
        dest = self.tmp / "m"
        first = self._start_slow(dest)
        first.send_signal(signal.SIGKILL)
        res = finish_hfmirror(first, timeout=30)
        self.assertEqual(res.rc, -signal.SIGKILL)
        self.assertFalse(manifest_exists(dest))
        self.emu.clear_faults()
        again = self.hfm("sync", TINY, "--to", str(dest), "--json", "--progress", "none", *ARGS)
        self.assertEqual(again.rc, 0, again.describe())
        self.assertMirror(dest, TINY)

    def test_up_to_date_run_needs_no_lock(self):
        # A run with nothing to change only reads: it does not wait for or take the lock.
        dest = self.tmp / "m"
        self.sync(TINY, dest, *ARGS)
        self.assertFalse((dest / ".hfmirror" / "lock").exists(), "the lock file outlived its run")
        fd = os.open(dest / ".hfmirror" / "lock", os.O_RDWR | os.O_CREAT)
        self.addCleanup(os.close, fd)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as if another run held it
        r = self.hfm("sync", TINY, "--to", str(dest), "--json", "--progress", "none", *ARGS)
        self.assertEqual(r.rc, 0, r.describe())
        self.assertEqual(r.json["files_transferred"], 0)
        # ...while a run that must change something is refused.
        os.remove(dest / "config.json")
        r = self.hfm("sync", TINY, "--to", str(dest), "--json", "--progress", "none", *ARGS)
        self.assertEqual(r.rc, EXIT_BUSY, r.describe())
        self.assertFalse((dest / "config.json").exists(), "a refused run changed the folder")


if __name__ == "__main__":
    unittest.main(verbosity=2)
