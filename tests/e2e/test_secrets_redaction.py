"""e2e: --log-file, and secrets at trace level — the counterpart of the suite-wide secret scan.

The scan (secrets_scan.py, run by ctest after every e2e module) proves that no test secret shows
up in any output. These tests make sure it is not vacuous: hfmirror is made to log requests that
carry a token or a signed URL, including the 403s, and the redacted form must be there while the
secret is not; the scanner itself must find leaks planted in a folder of fake runs; and the log
file must hold what the scan relies on (trace lines, one line per write, every process).
"""

import contextlib
import io
import json
import os
import re
import sys
import tempfile
import unittest
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(os.environ.get("HFM_SOURCE_DIR") or Path(__file__).resolve().parents[2])
                       / "tests" / "support"))

import secrets_scan  # noqa: E402  (tests/e2e, the working directory)
from e2ebase import EmulatorTestCase  # noqa: E402
from hubemu import finish_hfmirror, start_hfmirror  # noqa: E402

TINY = "acme/tiny"
GATED = "acme/gated-model"
READER = "hf_reader"      # testrepos.json: granted acme/gated-model
NOGRANT = "hf_nogrant"    # testrepos.json: a valid token without grants
USERINFO_SECRET = "Userinfo-Secret-0000+1111"  # a password in an endpoint URL (secrets_scan.py collects it)
# A file line: "2024-05-01T12:00:00.123Z [pid] LEVEL event key=value ..."
FILE_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[(\d+)\] (TRACE|DEBUG|INFO|WARN|ERROR) [a-z0-9_.]+( |$)")


def log_lines(path):
    return Path(path).read_text(encoding="utf-8").splitlines()


class LogFileTest(EmulatorTestCase):

    def assertWellFormed(self, lines):
        bad = [ln for ln in lines if not FILE_LINE.match(ln)]
        self.assertEqual(bad, [], "log file lines that are not one whole event each")

    def test_log_file_at_trace_while_stderr_is_off(self):
        log = self.tmp / "run.log"
        r = self.sync(TINY, self.tmp / "m", "--log-level", "off", "--log-file", log, "--log-file-level", "trace")
        self.assertMirror(self.tmp / "m", TINY)
        self.assertNotRegex(r.stderr, r"\b(TRACE|DEBUG|INFO|WARN) ", "log lines on stderr with --log-level off")
        lines = log_lines(log)
        self.assertWellFormed(lines)
        self.assertIn("log.file_open file_level=trace stderr_level=off", lines[0])
        self.assertTrue(any(" TRACE http.start " in ln for ln in lines), "no trace line in the file")
        self.assertTrue(any(" DEBUG http.done " in ln for ln in lines))
        self.assertTrue(any(" INFO transfer.file_done " in ln for ln in lines))
        # Appends: a second run adds its own lines after the first run's.
        self.sync(TINY, self.tmp / "m", "--log-file", log, "--log-file-level", "trace")
        again = log_lines(log)
        self.assertEqual(again[: len(lines)], lines)
        self.assertEqual(sum("log.file_open" in ln for ln in again), 2)

    def test_flags_win_over_the_environment_and_levels_filter(self):
        env_log, flag_log = self.tmp / "env.log", self.tmp / "flag.log"
        env = {"HFMIRROR_LOG_FILE": str(env_log), "HFMIRROR_LOG_FILE_LEVEL": "error"}
        # stderr at trace: all of these runs' output is on stderr too, for the scan.
        self.sync(TINY, self.tmp / "a", "--log-level", "trace", "--log-file", flag_log,
                  "--log-file-level", "trace", env=env)
        self.assertFalse(env_log.exists(), "HFMIRROR_LOG_FILE used although --log-file was given")
        self.assertIn("file_level=trace", log_lines(flag_log)[0])

        self.sync(TINY, self.tmp / "b", "--log-level", "trace", env={**env, "HFMIRROR_LOG_FILE_LEVEL": "debug"})
        lines = log_lines(env_log)
        self.assertWellFormed(lines)
        self.assertIn("file_level=debug", lines[0])
        self.assertTrue(any(" DEBUG " in ln for ln in lines))
        self.assertFalse(any(" TRACE " in ln for ln in lines), "trace lines in a debug-level file")

        default_log = self.tmp / "default.log"
        self.sync(TINY, self.tmp / "c", "--log-level", "trace",
                  env={"HFMIRROR_LOG_FILE": str(default_log), "HFMIRROR_LOG_FILE_LEVEL": None})
        lines = log_lines(default_log)
        self.assertIn("file_level=info", lines[0], "the file's default level is not info")
        self.assertTrue(any(" INFO sync.resolved " in ln for ln in lines))
        self.assertFalse(any(" DEBUG " in ln or " TRACE " in ln for ln in lines))

    def test_bad_level_and_unwritable_file_are_usage_errors(self):
        r = self.sync(TINY, self.tmp / "a", env={"HFMIRROR_LOG_FILE": str(self.tmp / "x.log"),
                                                  "HFMIRROR_LOG_FILE_LEVEL": "loud"}, expect_rc=2)
        self.assertIn("HFMIRROR_LOG_FILE_LEVEL", r.stderr)
        r = self.sync(TINY, self.tmp / "b", "--log-file", self.tmp / "no" / "such" / "dir.log", expect_rc=2)
        self.assertIn("cannot open log file", r.stderr)

    def test_processes_appending_to_one_file_keep_whole_lines(self):
        shared = self.tmp / "shared.log"
        procs = [start_hfmirror(["sync", TINY, "--to", self.tmp / f"m{i}", "--json", "--progress", "none",
                                 "--part-size", "1MiB", "--memory-budget", "4MiB", "--parallel", "4",
                                 "--log-file", shared, "--log-file-level", "trace"], endpoint=self.emu.hub)
                 for i in range(3)]
        results = [finish_hfmirror(p, timeout=120) for p in procs]
        for r in results:
            self.assertEqual(r.rc, 0, r.describe())
        lines = log_lines(shared)
        self.assertWellFormed(lines)
        pids = {FILE_LINE.match(ln).group(1) for ln in lines}
        self.assertEqual(len(pids), 3, "not every process wrote to the shared file")
        self.assertEqual(sum("log.file_open" in ln for ln in lines), 3)
        self.assertGreater(len(lines), 3 * 20, "too few lines to say anything about interleaving")


class RedactionAtTraceTest(EmulatorTestCase):
    """hfmirror logs the requests that carry secrets — and the redacted form is what appears."""

    def outputs(self, r):
        """stdout, stderr and the run's log file (when the harness gave it one)."""
        out = [r.stdout, r.stderr]
        log = self.tmp / "run.log"
        if log.exists():
            out.append(log.read_text(encoding="utf-8"))
        return "\n".join(out)

    def test_signed_cdn_url_and_its_403_are_logged_redacted(self):
        # One signed URL is refused (403, "expired"): the part is re-resolved for a fresh one.
        self.emu.set_faults({"cdn_expire": {"count": 1}})
        r = self.sync(GATED, self.tmp / "g", "--token", READER, "--log-level", "trace",
                      "--log-file", self.tmp / "run.log", "--log-file-level", "trace")
        self.assertMirror(self.tmp / "g", GATED)
        out = self.outputs(r)
        cdn = self.emu.requests("cdn")
        self.assertIn(403, [e["status"] for e in cdn], "the CDN never answered 403: the test proves nothing")
        sigs = {v for e in cdn for k, v in urllib.parse.parse_qsl(e["query"]) if k == "X-Amz-Signature"}
        creds = {v for e in cdn for k, v in urllib.parse.parse_qsl(e["query"]) if k == "X-Amz-Credential"}
        self.assertTrue(sigs, "no signed CDN URL: the test proves nothing")
        self.assertGreaterEqual(len([e for e in cdn if "X-Amz-Signature=" in e["query"]]), 2,
                                "expected the refused signed URL and a fresh one")
        # The signed URL (and the 403 answer to it) are logged, with the signature redacted.
        logged = [ln for ln in out.splitlines() if "/xet-bridge-us/" in ln]
        self.assertTrue(any("http.start" in ln for ln in logged), "the CDN request was not logged at trace")
        self.assertTrue(any("status=403" in ln for ln in logged), "the CDN's 403 was not logged")
        for ln in logged:
            if "?" in ln:
                self.assertIn("X-Amz-Signature=***", ln)
                self.assertIn("X-Amz-Credential=***", ln)
        for s in sigs | creds:
            self.assertNotIn(s, out, "a signed URL's signature or credential was logged")
            self.assertNotIn(urllib.parse.quote(s, safe=""), out)
        self.assertNotIn(READER, out, "the HF token was logged")
        # The scan recomputes exactly these signatures from the redacted URLs it finds.
        self.assertEqual(secrets_scan.derive_cdn_signatures(out, secrets_scan._cdn_secret()) & sigs, sigs)

    def test_hub_403_for_a_token_without_grant_never_shows_the_token(self):
        r = self.sync(GATED, self.tmp / "g", "--token", NOGRANT, "--log-level", "trace", expect_rc=3)
        hub = self.emu.requests("hub")
        self.assertIn(403, [e["status"] for e in hub], "the Hub never answered 403: the test proves nothing")
        self.assertTrue(all(e["headers"].get("authorization") == f"Bearer {NOGRANT}" for e in hub),
                        "the token was not sent: the test proves nothing")
        self.assertRegex(r.stderr, r"status=403", "the 403 was not logged")
        self.assertEqual(r.json["result"], "error")
        for text in (r.stdout, r.stderr, json.dumps(r.json)):
            self.assertNotIn(NOGRANT, text, "the HF token appears in the output")
        self.assertIn('auth.hf_token source="--token"', r.stderr, "the token's source is logged, not its value")


class UserinfoTest(EmulatorTestCase):
    """Endpoints with a password in them are refused, and the refusal does not repeat it."""

    def test_hub_endpoint_with_a_password_is_refused_without_showing_it(self):
        r = self.sync(TINY, self.tmp / "m", "--endpoint", f"http://mirror:{USERINFO_SECRET}@localhost:1",
                      "--log-level", "trace", expect_rc=2)
        self.assertIn("mirror:***@localhost", r.stderr, r.describe())
        self.assertNotIn(USERINFO_SECRET, r.stdout + r.stderr)

    def test_endpoint_with_a_password_but_no_scheme_is_not_repeated(self):
        for flag in ("--endpoint", "--s3-endpoint"):
            dest = self.tmp / "m" if flag == "--endpoint" else "s3://bucket/prefix"
            r = self.sync(TINY, dest, flag, f"mirror:{USERINFO_SECRET}@localhost:1", "--log-level", "trace",
                          env={"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x" * 40}, expect_rc=2)
            self.assertIn("not shown", r.stderr, r.describe())
            self.assertNotIn(USERINFO_SECRET, r.stdout + r.stderr)

    def test_s3_endpoint_with_a_password_is_refused_without_showing_it(self):
        r = self.sync(TINY, "s3://bucket/prefix", "--s3-endpoint", f"http://key:{USERINFO_SECRET}@127.0.0.1:1",
                      "--log-level", "trace", env={"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x" * 40},
                      expect_rc=2)
        self.assertEqual(r.json["result"], "error", r.describe())
        self.assertIn("key:***@127.0.0.1", r.json["error"]["message"])
        self.assertNotIn(USERINFO_SECRET, r.stdout + r.stderr)


class ScannerTest(unittest.TestCase):
    """The scanner finds what it is meant to find (fake runs in a temporary folder)."""

    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="hfm-scan-"))
        self.addCleanup(lambda: __import__("shutil").rmtree(self.dir, True))

    def fake_run(self, name, log_lines_, stderr="", rc=0, level="trace"):
        base = self.dir / name
        stamp = "2024-05-01T12:00:00.000Z [1]"
        head = f"{stamp} INFO log.file_open file_level={level} stderr_level=warn"
        if log_lines_ is not None:
            body = [f"{stamp} {ln}" for ln in log_lines_]
            (base.parent / (base.name + ".log")).write_text("\n".join([head, *body]) + "\n")
        (base.parent / (base.name + ".stdout")).write_text("")
        (base.parent / (base.name + ".stderr")).write_text(stderr)
        (base.parent / (base.name + ".meta.json")).write_text(json.dumps({"test": name, "args": [], "rc": rc}))

    def test_planted_leaks_are_found_with_file_line_and_category(self):
        sig = "5d" * 32
        cdn_path = "/xet-bridge-us/0123abcd/" + "ab" * 32
        real_cdn_sig = secrets_scan.derive_cdn_signatures(
            f"http://127.0.0.1:1{cdn_path}?X-Amz-Date=20240501T120000Z&X-Amz-Expires=3600", secrets_scan._cdn_secret())
        (real_cdn_sig,) = real_cdn_sig
        planted = {
            2: ("hf_token", f"TRACE http.start url=http://localhost:1/api/models/acme/x token={READER}"),
            3: ("presigned_query", f"TRACE http.start url=http://127.0.0.1:1{cdn_path}?X-Amz-Signature={sig}&x=1"),
            4: ("authorization_header", "DEBUG http.headers Authorization: Bearer abcdefgh"),
            5: ("aws_secret_access_key", "ERROR s3 secret=testsecretkey0000000000000000000000001"),
            6: ("presigned_query", "DEBUG s3 auth=AWS4-HMAC-SHA256 Credential=AKIA/x, Signature=" + "0f" * 32),
            7: ("s3_error_echo", "ERROR s3 body=<Error><SignatureProvided>" + "1a" * 32 + "</SignatureProvided>"),
            8: ("presigned_query", "TRACE u=https://h/o?X-Amz-Security-Token=FwoGZXIvYXdzEJr%2F%2F"),
            9: ("cdn_signature", f"DEBUG sig {real_cdn_sig} outside any URL"),
            10: ("aws_secret_access_key", "ERROR half testsecretkey000000 of a secret"),
        }
        clean = [
            f"TRACE http.start url=http://127.0.0.1:1{cdn_path}?X-Amz-Date=20240501T120000Z&X-Amz-Expires=3600"
            "&X-Amz-Signature=***&X-Amz-Credential=***",
            "INFO aws.credentials provider=env access_key_id=****0001 session_token=yes",
            'INFO auth.hf_token source="--token"',
            "WARN http.retry reason=\"SignatureDoesNotMatch\" RateLimit-Policy=x",
        ]
        lines = [planted[i][1] for i in sorted(planted)] + clean
        self.fake_run("leaky", lines)
        rep = secrets_scan.scan(self.dir)
        self.assertEqual(rep.problems, [])
        found = {h.line_no: h for h in rep.hits}
        self.assertEqual(set(found), set(planted), secrets_scan.summary(rep))
        for n, (cat, _) in planted.items():
            self.assertIn(cat, found[n].category.split(","), f"line {n}: {found[n]}")
            self.assertTrue(found[n].path.endswith("leaky.log"))
        report = secrets_scan.summary(rep)
        for secret in (READER, sig, "testsecretkey0000000000000000000000001", "1a" * 32, real_cdn_sig, "abcdefgh"):
            self.assertNotIn(secret, report, "the scan report shows a secret unmasked")
        with contextlib.redirect_stdout(io.StringIO()) as printed:
            self.assertNotEqual(secrets_scan.main([str(self.dir)]), 0)
        self.assertIn("leaky.log:3: [presigned_query]", printed.getvalue())
        self.assertNotIn(sig, printed.getvalue())

    def test_secrets_in_stdout_and_stderr_count_too(self):
        self.fake_run("json", ["TRACE http.start url=http://x/"], stderr=f"error: bad token {NOGRANT}\n")
        (self.dir / "json.stdout").write_text(json.dumps({"error": {"message": "Bearer " + READER}}) + "\n")
        rep = secrets_scan.scan(self.dir)
        self.assertEqual(sorted(Path(h.path).suffix for h in rep.hits), [".stderr", ".stdout"])

    def test_a_broken_harness_cannot_pass(self):
        rep = secrets_scan.scan(self.dir)  # empty: no run at all
        self.assertFalse(rep.ok)
        self.fake_run("nolog", None, rc=0)  # a run that never got its log file
        self.fake_run("info", ["INFO sync.resolved repo=acme/tiny"], level="info")  # not at trace
        rep = secrets_scan.scan(self.dir)
        self.assertEqual(rep.hits, [])
        self.assertEqual(len(rep.problems), 3, secrets_scan.summary(rep))  # no log, not trace, no TRACE line
        self.fake_run("usage", None, rc=2)  # stopped at argument parsing: no log file by design
        self.fake_run("ok", ["TRACE http.start url=http://x/"])
        rep = secrets_scan.scan(self.dir)
        self.assertEqual(len(rep.problems), 2, secrets_scan.summary(rep))
        self.assertEqual(rep.runs, 4)
        self.assertEqual(rep.runs_without_log, ["usage"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
