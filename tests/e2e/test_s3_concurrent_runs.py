"""e2e, S3: two runs on one prefix at once. S3 has no locks (and Ceph RGW 16 no conditional
PUT), so a run that must change the prefix first writes a lease, `.hfmirror/lock.json`, waits
half a second and reads it back; it renews the lease while it runs and deletes it at the end.
A second run finding a live lease stops with exit code 5 and changes nothing. A lease left by a
killed run on the same host (its pid is gone) or an expired one is taken over at once; an
unexpired lease of another host is respected.
"""

import json
import os
import signal
import socket
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(os.environ.get("HFM_SOURCE_DIR") or Path(__file__).resolve().parents[2])
                       / "tests" / "support"))

from hubemu import finish_hfmirror, start_hfmirror, wait_until  # noqa: E402
from s3e2e import S3TestCase  # noqa: E402

TINY = "acme/tiny"
PREFIX = "models/tiny"
LOCK = f"{PREFIX}/.hfmirror/lock.json"
ARGS = ["--part-size", "5MiB", "--parallel", "2"]
EXIT_BUSY = 5


class S3ConcurrentRunsTest(S3TestCase):

    def _lease(self):
        try:
            return json.loads(self.read(LOCK))
        except self.s3.exceptions.NoSuchKey:
            return None

    def _start_slow(self):
        self.emu.set_faults({"cdn_slow": {"count": 100, "after_bytes": 0, "bytes_per_sec": 2_000_000}})
        p = start_hfmirror(self.sync_args(TINY, PREFIX, *ARGS), endpoint=self.emu.hub, env=self.s3_env())
        self.addCleanup(lambda: p.poll() is None and (p.kill(), p.wait()))
        wait_until(lambda: p.poll() is not None or self._lease(), timeout=60, what="the first run's lease")
        self.assertIsNone(p.poll(), "the first run ended before taking its lease")
        return p

    def _put_lease(self, host, pid, expires_in_s):
        body = {"holder": "0123456789abcdef", "info": f"pid {pid} on {host} since earlier", "host": host,
                "pid": pid, "expires_unix": int(time.time() + expires_in_s)}
        self.s3.put_object(Bucket=self.bucket, Key=LOCK, Body=json.dumps(body).encode())

    def test_second_run_exits_busy_and_the_first_finishes(self):
        first = self._start_slow()
        lease = self._lease()
        self.assertEqual(lease["pid"], first.pid)
        second = self.sync_s3(TINY, PREFIX, *ARGS, expect_rc=EXIT_BUSY)
        self.assertIn(f"pid {first.pid}", second.stderr, second.describe())
        self.assertEqual(second.json.get("bytes_downloaded", 0), 0)
        self.assertEqual(self._lease()["holder"], lease["holder"], "the refused run touched the lease")
        self.emu.clear_faults()
        res = finish_hfmirror(first, timeout=120)
        self.assertEqual(res.rc, 0, res.describe())
        self.assertS3Mirror(PREFIX, TINY)  # exact key set: the lease is gone too
        self.assertNoMultipartUploads()

    def test_lease_of_a_killed_run_on_this_host_is_taken_over(self):
        first = self._start_slow()
        first.send_signal(signal.SIGKILL)
        finish_hfmirror(first, timeout=30)
        self.assertIsNotNone(self._lease(), "a killed run cannot delete its lease")
        self.emu.clear_faults()
        self.sync_s3(TINY, PREFIX, *ARGS)
        self.assertS3Mirror(PREFIX, TINY)
        self.assertNoMultipartUploads()

    def test_live_lease_of_another_host_is_respected(self):
        self._put_lease("another-host.example", 4242, 300)
        r = self.sync_s3(TINY, PREFIX, *ARGS, expect_rc=EXIT_BUSY)
        self.assertIn("pid 4242 on another-host.example", r.stderr, r.describe())
        self.assertEqual(self.keys(PREFIX), {".hfmirror/lock.json"}, "a refused run wrote something")
        self.assertEqual(self.emu.requests("cdn"), [], "a refused run downloaded")

    def test_expired_lease_of_another_host_is_taken_over(self):
        self._put_lease("another-host.example", 4242, -10)
        self.sync_s3(TINY, PREFIX, *ARGS)
        self.assertS3Mirror(PREFIX, TINY)

    def test_dead_pid_on_this_host_is_taken_over(self):
        self._put_lease(socket.gethostname(), 2 ** 22 + 12345, 300)  # above pid_max: never alive
        self.sync_s3(TINY, PREFIX, *ARGS)
        self.assertS3Mirror(PREFIX, TINY)


if __name__ == "__main__":
    unittest.main(verbosity=2)
