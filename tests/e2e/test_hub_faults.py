"""e2e: the Hub side of reliability, proven from the emulator's request log.

* 429 with Retry-After and RateLimit: nothing reaches the Hub before the asked delay is over
  (the delay is the later of the two headers; RateLimit alone means t + 1 seconds).
* A CDN body that stops mid-way on an open connection: the low-speed floor ends that attempt,
  the same part is fetched again, and the file is right.
* Bursts of 5xx on the Hub API and the CDN (five in a row, the retry policy's limit) succeed;
  a Hub or CDN that only answers 5xx fails with a clear message and exit code 1 in bounded time.
* A branch that moves while a job runs: the job stays on the commit it resolved first; the next
  run mirrors the new one.

What is already proven in test_auth_and_errors.py (a retried 429's gap per URL, two 5xx, a CDN
reset, ignored Range, expired URLs, corrupt bytes) is not repeated here.

"""

import os
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(os.environ.get("HFM_SOURCE_DIR") or Path(__file__).resolve().parents[2])
                       / "tests" / "support"))

from e2ebase import EmulatorTestCase  # noqa: E402
from hubemu import (finish_hfmirror, list_files, manifest_exists, resolve_path_of,  # noqa: E402
                    start_hfmirror, unquoted, wait_until)

TINY = "acme/tiny"
MANY = "acme/many-files"
MIB = 1 << 20
MAX_ATTEMPTS = 6        # http/retry.h RetrySettings::max_attempts: first try included
MAX_PART_ATTEMPTS = 4   # pipeline/file_transfer.h TransferSettings::max_part_attempts


def error_lines(stderr):
    return [ln for ln in stderr.splitlines() if ln.startswith("error:")]


class RateLimitTest(EmulatorTestCase):
    """The emulator's 429 carries `Retry-After: S` and `RateLimit: "<bucket>";r=0;t=T`."""

    def limited(self):
        hub = self.emu.requests("hub")
        hits = [e for e in hub if e.get("fault") == "rate_limit"]
        self.assertEqual(len(hits), 1, "the injected 429 was not served exactly once")
        self.assertEqual(hits[0]["status"], 429)
        return hits[0], hub

    def assertQuietAfter(self, hit, seconds, why):
        """No request at all (Hub or CDN) was sent in the `seconds` after the 429 arrived, and
        the run did go on afterwards."""
        later = [e for e in self.emu.requests() if e["seq"] > hit["seq"]]
        self.assertTrue(later, "nothing was sent after the 429: the test proves nothing")
        early = [(round(e["time"] - hit["time"], 3), e["method"], unquoted(e)) for e in later
                 if e["time"] < hit["time"] + seconds]
        self.assertEqual(early, [], f"requests sent sooner than {seconds}s after a 429 ({why})")
        first = min(e["time"] for e in later) - hit["time"]
        self.assertLess(first, seconds + 3, f"the retry waited {first:.2f}s, far longer than asked")
        return first

    def test_429_with_retry_after_and_ratelimit_holds_every_request(self):
        self.emu.set_faults({"rate_limit": {"count": 1, "retry_after": 2, "ratelimit_reset": 2,
                                            "paths": "/revision/"}})
        dest = self.tmp / "rl"
        r = self.sync(TINY, dest)
        self.assertMirror(dest, TINY)
        hit, _ = self.limited()
        self.assertIn("/revision/", hit["path"])
        self.assertQuietAfter(hit, 2.0, "Retry-After: 2, RateLimit t=2")
        self.assertGreaterEqual(r.json["http_retries"], 1)

    def test_429_with_only_ratelimit_waits_its_reset_plus_one_second(self):
        # huggingface_hub sleeps t + 1 when r=0 (hub-protocol.md 6.3); so does http/retry.cpp.
        self.emu.set_faults({"rate_limit": {"count": 1, "retry_after": None, "ratelimit_reset": 1,
                                            "paths": "/tree/"}})
        dest = self.tmp / "rl"
        self.sync(TINY, dest)
        self.assertMirror(dest, TINY)
        hit, _ = self.limited()
        self.assertIn("/tree/", hit["path"])
        self.assertQuietAfter(hit, 2.0, "RateLimit r=0;t=1 and no Retry-After")

    def test_429_waits_for_the_later_of_retry_after_and_ratelimit(self):
        """Retry-After: 1 but RateLimit r=0;t=3: the retry waits for the later of the two, so it
        never lands inside the exhausted window."""
        self.emu.set_faults({"rate_limit": {"count": 1, "retry_after": 1, "ratelimit_reset": 3,
                                            "paths": "/revision/"}})
        dest = self.tmp / "rl"
        self.sync(TINY, dest)
        self.assertMirror(dest, TINY)
        hit, _ = self.limited()
        self.assertQuietAfter(hit, 3.0, "Retry-After: 1 but RateLimit r=0;t=3")

    def test_429_mid_transfer_pauses_the_whole_bucket(self):
        """A 429 with RateLimit r=0 says the window is empty for t seconds: every new request to
        that origin waits (http::Client holds attempts per origin), not only the refused one."""
        self.emu.set_faults({"rate_limit": {"count": 1, "retry_after": 1, "ratelimit_reset": 1,
                                            "paths": "/resolve/"}})
        dest = self.tmp / "rl"
        self.sync(MANY, dest, "--include", "data/part-00*")  # 1,000 small files: ~2 s of resolves
        hit, _ = self.limited()
        # Requests already on the wire when the 429 came back are fine: 0.2 s of slack.
        into_window = [e for e in self.emu.requests("hub") if e["seq"] > hit["seq"]
                       and hit["time"] + 0.2 < e["time"] < hit["time"] + 1.0
                       and resolve_path_of(e, MANY) is not None]
        self.assertEqual(len(into_window), 0, "resolves sent into an exhausted RateLimit window")


class StalledBodyTest(EmulatorTestCase):

    def test_stalled_cdn_body_hits_the_low_speed_floor_and_the_part_is_fetched_again(self):
        """The floor is 1 KiB/s over 30 s (http/request.h Timeouts; not configurable), so this
        test takes about 32 s."""
        exp = self.expected(TINY)
        # 1000 bytes of a 4 MiB part, then silence on an open connection.
        self.emu.set_faults({"cdn_stall": {"count": 1, "after_bytes": 1000, "path": "model.safetensors"}})
        dest = self.tmp / "stall"
        r = self.sync(TINY, dest, "--part-size", "4MiB", timeout=150)
        self.assertMirror(dest, TINY)  # every byte right, verified against the content ids
        cdn = self.emu.requests("cdn")
        stalled = [e for e in cdn if e.get("fault") == "cdn_stall"]
        self.assertEqual(len(stalled), 1, "the stall was not served")
        s = stalled[0]
        # hfmirror hung up (the emulator would have held the connection for 300 s).
        self.assertEqual(s.get("stall_end"), "client_closed", s)
        self.assertLess(s["stall_seconds"], 60, "the low-speed floor took too long to act")
        # The same part is asked for again, after the stall, and answered in full.
        again = [e for e in cdn if e["seq"] > s["seq"] and e["range"] == s["range"] and e["path"] == s["path"]]
        self.assertEqual(len(again), 1, f"range {s['range']} fetched again {len(again)} times")
        self.assertEqual(again[0]["status"], 206)
        self.assertGreaterEqual(again[0]["time"] - s["time"], s["stall_seconds"] - 1)
        # Only the stalled part was fetched twice.
        ranges = [e["range"] for e in cdn if e.get("fault") != "cdn_stall"]
        self.assertEqual(len(ranges), len(set(ranges)), f"a part was fetched twice: {sorted(ranges)}")
        size = exp["by_path"]["model.safetensors"]["size"]
        self.assertEqual(len(ranges), -(-size // (4 * MIB)))
        self.assertGreaterEqual(r.json["http_retries"], 1)


class ServerErrorTest(EmulatorTestCase):

    def statuses(self, entries, path_part):
        return [e["status"] for e in entries if path_part in e["path"]]

    def test_five_5xx_in_a_row_on_hub_and_cdn_still_succeed(self):
        # Five failures then the sixth attempt: the retry policy's limit, on one request each.
        self.emu.set_faults({"server_error": {"count": 5, "status": 502, "paths": "/revision/"},
                             "cdn_server_error": {"count": 5, "status": 504}})
        dest = self.tmp / "burst"
        # One part for the 20 MB LFS file, so all five CDN errors hit the same request.
        self.sync(TINY, dest, "--part-size", "32MiB")
        self.assertMirror(dest, TINY)
        self.assertEqual(self.emu.faults(), {}, "not every injected 5xx was served")
        hub, cdn = self.emu.requests("hub"), self.emu.requests("cdn")
        self.assertEqual(self.statuses(hub, "/revision/"), [502] * 5 + [200])
        self.assertEqual(len({e["path"] for e in cdn}), 1)
        self.assertEqual([e["status"] for e in cdn][:5], [504] * 5)
        self.assertIn(cdn[5]["status"], (200, 206))
        self.assertEqual(len(cdn), 6)
        # Handled by the HTTP retries alone: the file was not resolved a second time.
        heads = [e for e in hub if e["method"] == "HEAD" and resolve_path_of(e, TINY) == "model.safetensors"]
        self.assertEqual(len(heads), 1)

    def test_a_burst_of_5xx_spread_over_file_downloads_still_succeeds(self):
        self.emu.set_faults({"server_error": {"count": 8, "status": 503, "paths": "/resolve/"}})
        dest = self.tmp / "burst"
        self.sync(TINY, dest)
        self.assertMirror(dest, TINY)
        self.assertEqual(self.emu.faults(), {})
        failed = [e for e in self.emu.requests("hub") if e.get("fault") == "server_error"]
        self.assertEqual(len(failed), 8)
        self.assertGreater(len({e["path"] for e in failed}), 1, "the burst hit a single file only")

    def test_a_hub_that_only_answers_503_fails_fast_with_a_clear_message(self):
        self.emu.set_faults({"server_error": {"count": 10_000, "status": 503}})
        dest = self.tmp / "dead"
        r = self.sync(TINY, dest, expect_rc=1, timeout=60)
        self.assertLess(r.duration, 30, "a dead Hub is not given up on in bounded time")
        [line] = error_lines(r.stderr)
        self.assertIn("503", line)
        self.assertIn("Hub", line)
        self.assertIn("acme/tiny", line)
        self.assertEqual(r.json["result"], "error")
        self.assertEqual((r.json["error"]["code"], r.json["error"]["http_status"]), ("http_status", 503))
        hub = self.emu.requests("hub")
        self.assertEqual(len(hub), MAX_ATTEMPTS, [e["path"] for e in hub])
        self.assertEqual({e["path"] for e in hub}, {hub[0]["path"]}, "the same request, retried")
        self.assertEqual(self.emu.requests("cdn"), [])
        self.assertFalse(dest.exists() and list_files(dest), "files written although the Hub never answered")

    def test_a_cdn_that_only_answers_503_fails_in_bounded_time_and_nothing_bad_is_visible(self):
        self.emu.set_faults({"cdn_server_error": {"count": 10_000, "status": 503}})
        dest = self.tmp / "dead-cdn"
        r = self.sync(TINY, dest, "--part-size", "32MiB", expect_rc=1, timeout=120)
        self.assertLess(r.duration, 60, "a dead CDN is not given up on in bounded time")
        [line] = error_lines(r.stderr)
        self.assertIn("model.safetensors", line)
        self.assertIn("503", line)
        self.assertEqual([f["path"] for f in r.json["failures"]], ["model.safetensors"])
        self.assertEqual(r.json["error"]["http_status"], 503)
        self.assertFalse(os.path.lexists(dest / "model.safetensors"), "a file that never arrived is visible")
        self.assertFalse(manifest_exists(dest), "a manifest claims a complete mirror")
        # The other files come from the Hub and are in place.
        exp = self.expected(TINY)["by_path"]
        self.assertEqual(list_files(dest), set(exp) - {"model.safetensors"})
        # Bounded: HTTP attempts per part, times the pipeline's part attempts at most.
        cdn = self.emu.requests("cdn")
        self.assertTrue(cdn)
        per_range = {}
        for e in cdn:
            per_range[e["range"]] = per_range.get(e["range"], 0) + 1
        self.assertLessEqual(max(per_range.values()), MAX_ATTEMPTS * MAX_PART_ATTEMPTS, per_range)


class MovingRevisionTest(EmulatorTestCase):

    def setUp(self):
        super().setUp()
        self.addCleanup(self.emu.move_branch, TINY, "c2")  # the spec's main

    def test_branch_moving_mid_run_keeps_the_job_on_its_first_commit(self):
        c1 = self.emu.commit_sha(TINY, "c1")
        c2 = self.emu.commit_sha(TINY, "c2")
        # main is c2. The file list answers 1.5 s late and the CDN is slow, so main can move to c1
        # after the revision was resolved and before any file is fetched.
        self.emu.set_faults({"hub_delay": {"count": 1, "seconds": 1.5, "paths": "/tree/"},
                             "cdn_slow": {"count": 5, "after_bytes": 0, "bytes_per_sec": 8 * MIB}})
        dest = self.tmp / "moving"
        p = start_hfmirror(["sync", TINY, "--to", dest, "--json", "--progress", "none", "--part-size", "4MiB"],
                           endpoint=self.emu.hub)
        try:
            wait_until(lambda: any("/tree/" in e["path"] for e in self.emu.requests("hub")), 20,
                       what="the file list request")
            self.emu.move_branch(TINY, "c1")
            moved_at = max(e["time"] for e in self.emu.requests("hub"))
        finally:
            r = finish_hfmirror(p, timeout=120)
        self.assertEqual(r.rc, 0, r.describe())
        # Every file written is c2's, and the manifest says c2 (asked for as main).
        self.assertMirror(dest, TINY, c2, revision="main")
        hub = self.emu.requests("hub")
        revision_calls = [e for e in hub if "/revision/" in e["path"]]
        self.assertEqual(len(revision_calls), 1, "the revision was resolved more than once")
        # Everything after the revision names the commit, never the branch.
        after = [e for e in hub if e["seq"] > revision_calls[0]["seq"]]
        resolves = [e for e in after if resolve_path_of(e, TINY) is not None]
        self.assertTrue([e for e in resolves if e["time"] > moved_at],
                        "no file was fetched after main moved: the test proves nothing")
        for e in after:
            path = unquoted(e)
            self.assertIn(c2, path, f"{e['method']} {path} does not pin commit c2")
            self.assertNotIn("/main/", path)
        self.assertTrue(self.emu.requests("cdn"))
        self.assertEqual(r.json["commit"], c2)
        # The next run sees main at c1 and mirrors that.
        self.emu.clear_faults()
        r = self.sync(TINY, dest)
        self.assertMirror(dest, TINY, c1, revision="main")
        self.assertEqual(r.json["commit"], c1)
        self.assertFalse((dest / "added-in-c2.txt").exists())


if __name__ == "__main__":
    unittest.main(verbosity=2)
