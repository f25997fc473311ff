"""e2e: tokens (gated, private, where the token goes), throttling and server errors, integrity
failures on the CDN, not-found errors, and command-line usage errors with their exit codes.

Exit codes (hfmirror --help): 0 ok, 1 other, 2 usage/config, 3 not found / not authorised,
4 integrity, 130 interrupted.
"""

import os
import sys
import unittest
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(os.environ.get("HFM_SOURCE_DIR") or Path(__file__).resolve().parents[2])
                       / "tests" / "support"))

from e2ebase import EmulatorTestCase  # noqa: E402
from hubemu import manifest_exists, resolve_path_of, run_hfmirror  # noqa: E402

TINY = "acme/tiny"
GATED = "acme/gated-model"
PRIVATE = "acme/private-model"
READER = "hf_reader"      # granted gated-model and private-model in testrepos.json
NOGRANT = "hf_nogrant"    # a valid token without grants


class TokenTest(EmulatorTestCase):

    def test_gated_without_token_is_refused_with_a_hint(self):
        dest = self.tmp / "g"
        r = self.sync(GATED, dest, expect_rc=3)
        self.assertIn("gated", r.stderr.lower(), r.describe())
        self.assertIn("token", r.stderr.lower(), r.describe())
        self.assertFalse(manifest_exists(dest))
        self.assertEqual(self.emu.requests("cdn"), [])

    def test_gated_with_token_without_grant_is_refused(self):
        dest = self.tmp / "g"
        r = self.sync(GATED, dest, "--token", NOGRANT, expect_rc=3)
        self.assertIn("gated", r.stderr.lower(), r.describe())
        self.assertFalse(manifest_exists(dest))
        self.assertFalse((dest / "model.safetensors").exists())

    def test_gated_with_token_flag_and_with_env(self):
        for how, extra, env in (("--token", ["--token", READER], None), ("HF_TOKEN", [], {"HF_TOKEN": READER})):
            with self.subTest(how):
                dest = self.tmp / how
                self.sync(GATED, dest, *extra, env=env)
                self.assertMirror(dest, GATED)

    def test_token_file_in_hf_home(self):
        home = self.tmp / "home"
        home.mkdir()
        (home / "token").write_text(READER + "\n")
        dest = self.tmp / "g"
        r = run_hfmirror(["sync", GATED, "--to", dest, "--json"], endpoint=self.emu.hub, env={"HF_HOME": str(home)})
        self.assertEqual(r.rc, 0, r.describe())
        self.assertMirror(dest, GATED)

    def test_token_sources_and_precedence(self):
        path_file = self.tmp / "tok"
        path_file.write_text(f"  {READER}\n")
        cases = {
            "HF_TOKEN_PATH": ([], {"HF_TOKEN_PATH": str(path_file)}, 0),
            "HUGGING_FACE_HUB_TOKEN": ([], {"HUGGING_FACE_HUB_TOKEN": READER}, 0),
            "--token beats HF_TOKEN": (["--token", READER], {"HF_TOKEN": NOGRANT}, 0),
            "HF_TOKEN beats the token file": ([], {"HF_TOKEN": NOGRANT, "HF_TOKEN_PATH": str(path_file)}, 3),
            "HF_HUB_DISABLE_IMPLICIT_TOKEN": ([], {"HF_TOKEN": READER, "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1"}, 3),
        }
        for name, (extra, env, rc) in cases.items():
            with self.subTest(name):
                self.emu.clear_requests()
                dest = self.tmp / name.replace(" ", "-")
                self.sync(GATED, dest, *extra, env=env, expect_rc=rc)
                sent = {e["headers"].get("authorization") for e in self.emu.requests("hub")}
                if rc == 0:
                    self.assertMirror(dest, GATED)
                    self.assertEqual(sent, {f"Bearer {READER}"})
                elif "IMPLICIT" in name:
                    self.assertEqual(sent, {None}, "a token was sent although implicit tokens are disabled")
                else:
                    self.assertEqual(sent, {f"Bearer {NOGRANT}"})

    def test_private_repo(self):
        cases = (("no token", [], None, 3), ("no grant", ["--token", NOGRANT], None, 3),
                 ("--token", ["--token", READER], None, 0), ("HF_TOKEN", [], {"HF_TOKEN": READER}, 0))
        for name, extra, env, rc in cases:
            with self.subTest(name):
                dest = self.tmp / name.replace(" ", "-")
                r = self.sync(PRIVATE, dest, *extra, env=env, expect_rc=rc)
                if rc == 0:
                    self.assertMirror(dest, PRIVATE)
                else:
                    self.assertFalse(manifest_exists(dest))
                    self.assertRegex(r.stderr.lower(), r"not found|private|token", r.describe())

    def test_token_reaches_the_hub_but_never_the_cdn(self):
        for repo in (GATED, PRIVATE, TINY):
            with self.subTest(repo):
                self.emu.clear_requests()
                before = self.emu.stats()["cdn_authorization_rejected"]
                dest = self.tmp / repo.replace("/", "_")
                r = self.sync(repo, dest, "--token", READER, "--log-level", "trace")
                self.assertMirror(dest, repo)
                hub, cdn = self.emu.requests("hub"), self.emu.requests("cdn")
                self.assertTrue(cdn, "the LFS file did not come from the CDN: the test proves nothing")
                leaked = [e["path"] for e in cdn if "authorization" in e["headers"]]
                self.assertEqual(leaked, [], "the HF token was sent to the CDN")
                self.assertEqual(self.emu.stats()["cdn_authorization_rejected"], before)
                self.assertTrue(hub)
                without = [e["method"] + " " + e["path"] for e in hub
                           if e["headers"].get("authorization") != f"Bearer {READER}"]
                self.assertEqual(without, [], "Hub requests without the token")
                # Invariant 7: no token and no URL signature in any output, even at trace level.
                self.assertNotIn(READER, r.stdout)
                self.assertNotIn(READER, r.stderr)
                self.assertIn("http.start", r.stderr, "trace logging is off: the leak check proves nothing")
                sigs = {v for e in cdn for k, v in urllib.parse.parse_qsl(e["query"]) if k == "X-Amz-Signature"}
                self.assertTrue(sigs)
                for s in sigs:
                    self.assertNotIn(s, r.stderr, "a signed URL's signature was logged")
                    self.assertNotIn(s, r.stdout, "a signed URL's signature was printed")


class ThrottlingAndFaultsTest(EmulatorTestCase):

    def test_429_is_retried_after_retry_after(self):
        repo = "acme/renamed-model"
        self.emu.set_faults({"rate_limit": {"count": 2, "retry_after": 1}})
        dest = self.tmp / "rl"
        r = self.sync(repo, dest)
        self.assertMirror(dest, repo)
        self.assertEqual(self.emu.faults(), {}, "the injected 429s were not all served")
        hub = self.emu.requests("hub")
        limited = [e for e in hub if e.get("fault") == "rate_limit"]
        self.assertEqual([e["status"] for e in limited], [429, 429])
        for e in limited:
            # The retry is the next request for the same URL.
            retry = next(x for x in hub if x["seq"] > e["seq"] and x["path"] == e["path"]
                         and x["query"] == e["query"] and x["method"] == e["method"])
            gap = retry["time"] - e["time"]
            self.assertGreaterEqual(gap, 1.0, f"retried {gap:.3f}s after a 429 with Retry-After: 1")
            self.assertLess(gap, 30, "waited far longer than asked")
        self.assertGreaterEqual(r.json["http_retries"], 2)

    def test_429_on_a_file_download_is_retried(self):
        self.emu.set_faults({"rate_limit": {"count": 1, "retry_after": 1, "paths": "/resolve/"}})
        dest = self.tmp / "rl"
        self.sync(TINY, dest)
        self.assertMirror(dest, TINY)
        limited = [e for e in self.emu.requests("hub") if e.get("fault") == "rate_limit"]
        self.assertEqual(len(limited), 1)
        self.assertIn("/resolve/", limited[0]["path"])

    def test_server_errors_on_hub_and_cdn_are_retried(self):
        self.emu.set_faults({"server_error": {"count": 2, "status": 503},
                             "cdn_server_error": {"count": 2, "status": 500}})
        dest = self.tmp / "5xx"
        self.sync(TINY, dest)
        self.assertMirror(dest, TINY)
        self.assertEqual(self.emu.faults(), {})
        self.assertEqual(len([e for e in self.emu.requests() if e.get("fault") in ("server_error",
                                                                                  "cdn_server_error")]), 4)

    def test_cdn_reset_mid_body_is_retried(self):
        self.emu.set_faults({"cdn_reset": {"count": 1, "after_bytes": 100000}})
        dest = self.tmp / "reset"
        self.sync(TINY, dest, "--part-size", "4MiB")
        self.assertMirror(dest, TINY)
        self.assertEqual([e.get("fault") for e in self.emu.requests("cdn")].count("cdn_reset"), 1)

    def test_cdn_ignoring_range_is_handled(self):
        self.emu.set_faults({"cdn_ignore_range": {"count": 2}})
        dest = self.tmp / "norange"
        self.sync(TINY, dest, "--part-size", "4MiB", "--parallel", "2")
        self.assertMirror(dest, TINY)
        self.assertEqual([e.get("fault") for e in self.emu.requests("cdn")].count("cdn_ignore_range"), 2)

    def test_expired_signed_url_is_resolved_again(self):
        self.emu.set_faults({"cdn_expire": {"count": 1}})
        dest = self.tmp / "exp"
        self.sync(TINY, dest)
        self.assertMirror(dest, TINY)
        heads = [e for e in self.emu.requests("hub")
                 if e["method"] == "HEAD" and resolve_path_of(e, TINY) == "model.safetensors"]
        self.assertGreaterEqual(len(heads), 2, "a 403 from the CDN did not trigger a fresh resolve")

    def test_corrupt_cdn_bytes_fail_with_integrity_and_nothing_is_visible(self):
        sha = self.expected(TINY)["by_path"]["model.safetensors"]["sha256"]
        self.emu.set_faults({"corrupt": {"path": "model.safetensors"}})  # every response, forever
        dest = self.tmp / "bad"
        r = self.sync(TINY, dest, expect_rc=4)
        self.assertTrue(any(e.get("fault") == "corrupt" for e in self.emu.requests("cdn")),
                        "the corruption was not served by the CDN")
        self.assertIn("model.safetensors", r.stderr)
        self.assertFalse(os.path.lexists(dest / "model.safetensors"), "a file that failed verification is visible")
        self.assertFalse(manifest_exists(dest), "manifest written after an integrity failure")
        self.assertEqual(r.json["result"], "error")
        self.assertEqual(r.json["error"]["code"], "integrity")
        # Known-bad bytes are not kept for a later resume.
        partial = dest / ".hfmirror" / "partial"
        leftovers = [p.name for p in partial.iterdir() if sha in p.name] if partial.exists() else []
        self.assertEqual(leftovers, [])
        # The next clean run repairs the mirror.
        self.emu.clear_faults()
        self.sync(TINY, dest)
        self.assertMirror(dest, TINY)


class NotFoundTest(EmulatorTestCase):

    def test_unknown_repo_revision_and_type(self):
        cases = {
            "unknown repo, no token": (["sync", "acme/nope", "--to", self.tmp / "a"], 3),
            "unknown repo, token": (["sync", "acme/nope", "--to", self.tmp / "b", "--token", READER], 3),
            "unknown revision": (["sync", TINY, "--to", self.tmp / "c", "--revision", "no-such-branch"], 3),
            "unknown commit": (["sync", TINY, "--to", self.tmp / "d", "--revision", "0" * 40], 3),
        }
        for name, (args, rc) in cases.items():
            with self.subTest(name):
                r = self.hfm(*args)
                self.assertEqual(r.rc, rc, r.describe())
                self.assertFalse(manifest_exists(args[3]))
                self.assertTrue(r.stderr.strip(), "no error message")


class UsageTest(EmulatorTestCase):
    """Usage errors: rc 2, a message, and not one request to the Hub."""

    def test_usage_errors_exit_2_without_network(self):
        dest = str(self.tmp / "u")
        cases = {
            "no --to": ["sync", TINY],
            "no repo": ["sync", "--to", dest],
            "bad --part-size unit": ["sync", TINY, "--to", dest, "--part-size", "abc"],
            "--part-size too small": ["sync", TINY, "--to", dest, "--part-size", "100KiB"],
            "--part-size too big": ["sync", TINY, "--to", dest, "--part-size", "2GiB"],
            "--parallel 0": ["sync", TINY, "--to", dest, "--parallel", "0"],
            "--memory-budget below two parts": ["sync", TINY, "--to", dest, "--memory-budget", "1MiB"],
            "unknown flag": ["sync", TINY, "--to", dest, "--bogus"],
            "bad --repo-type": ["sync", TINY, "--to", dest, "--repo-type", "space"],
            "bad --layout": ["sync", TINY, "--to", dest, "--layout", "flat"],
            "invalid repo id": ["sync", "not a repo", "--to", dest],
            "repo and --config": ["sync", TINY, "--config", __file__, "--to", dest],
            "no subcommand": [],
            "unknown subcommand": ["mirror", TINY],
            "verify without dest": ["verify"],
        }
        for name, args in cases.items():
            with self.subTest(name):
                r = self.hfm(*args)
                self.assertEqual(r.rc, 2, r.describe())
                self.assertTrue(r.stderr.strip(), "usage error without a message")
                self.assertEqual(self.emu.requests(), [], "a usage error reached the Hub")
                self.assertFalse(os.path.exists(os.path.join(dest, ".hfmirror", "manifest.json")))

    def test_help_exits_0(self):
        for args in (["--help"], ["sync", "--help"], ["verify", "--help"], ["--version"]):
            with self.subTest(" ".join(args)):
                r = self.hfm(*args)
                self.assertEqual(r.rc, 0, r.describe())
                self.assertTrue(r.stdout.strip())
        self.assertIn("--to", self.hfm("sync", "--help").stdout)
        self.assertIn("--deep", self.hfm("verify", "--help").stdout)
        self.assertEqual(self.emu.requests(), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
