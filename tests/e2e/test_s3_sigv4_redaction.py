"""e2e, S3: SigV4 material at trace level — the S3 counterpart of test_secrets_redaction.

Every S3 request hfmirror makes is signed with the secret key (and carries the session token when
there is one); at --log-level trace each one is logged. These tests make hfmirror log signed
requests, successful and refused (403), and check that the requests are there while the secret
key, the session token and the signatures are not. The suite-wide scan (secrets_scan.py) then
checks the same for every other S3 run; the constants below are among the secrets it looks for.
"""

import os
import re
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(os.environ.get("HFM_SOURCE_DIR") or Path(__file__).resolve().parents[2])
                       / "tests" / "support"))

from s3e2e import MANIFEST, S3TestCase, secret_fragments  # noqa: E402

TINY = "acme/tiny"
PREFIX = "models/tiny"
# Made up, so the server refuses them; secrets_scan.py collects both (by their names).
SESSION_TOKEN = "FwoGZXIvYXdzEHfmSessionToken0000/Test+SessionToken1111111111111111=="
WRONG_SECRET_KEY = "HfmWrongSecretKey/2222+2222222222222222222222"
# A SigV4 signature, however it is introduced, or an Authorization header value.
SIGNING_MATERIAL = re.compile(r"(?i)(signature=(?!\*\*\*)|x-amz-credential=(?!\*\*\*)|authorization:|"
                              r"x-amz-security-token[=:](?!\*\*\*)|AWS4-HMAC-SHA256 Credential)")


class SigV4AtTraceTest(S3TestCase):

    def assertNoSecrets(self, r, *secrets):
        out = r.stdout + r.stderr
        for s in secrets:
            for frag in secret_fragments(s):
                self.assertNotIn(frag, out, "a secret (or half of it) appears in the output")
        self.assertIsNone(SIGNING_MATERIAL.search(out), "signing material appears in the output")

    def s3_requests_logged(self, r):
        return [ln for ln in r.stderr.splitlines() if " TRACE http.start tag=s3." in ln]

    def test_signed_requests_are_logged_without_signing_material(self):
        r = self.sync_s3(TINY, PREFIX, "--log-level", "trace", "--include", "*.json")
        self.assertIn(MANIFEST, self.keys(PREFIX))
        self.assertGreater(len(self.s3_requests_logged(r)), 2, "S3 requests were not logged at trace")
        self.assertNoSecrets(r, self.s3info["secret_key"])

    def session_env(self, secret_key=None):
        env = self.s3_env(secret_key=secret_key)
        env["AWS_SESSION_TOKEN"] = SESSION_TOKEN
        return env

    def test_session_token_is_never_logged(self):
        # RGW 16 ignores an X-Amz-Security-Token next to a user's own key: the sync goes through,
        # with the token in every signed request.
        r = self.sync(TINY, self.dest(PREFIX), "--s3-endpoint", self.endpoint(), "--log-level", "trace",
                      "--include", "*.json", env=self.session_env())
        self.assertIn("session_token=yes", r.stderr, "the session token was not picked up: the test proves nothing")
        self.assertGreater(len(self.s3_requests_logged(r)), 2, "S3 requests were not logged at trace")
        self.assertNoSecrets(r, SESSION_TOKEN, self.s3info["secret_key"])

    def test_signature_mismatch_403_is_logged_without_the_secret_or_token(self):
        r = self.sync(TINY, self.dest(PREFIX), "--s3-endpoint", self.endpoint(), "--log-level", "trace",
                      env=self.session_env(WRONG_SECRET_KEY), expect_rc=3)
        self.assertIn("SignatureDoesNotMatch", r.stderr)
        self.assertIn("session_token=yes", r.stderr)
        self.assertTrue(self.s3_requests_logged(r), "the refused request was not logged at trace")
        self.assertRegex(r.stderr, r"status=403", "the 403 was not logged")
        self.assertEqual(r.json["result"], "error")
        self.assertNoSecrets(r, WRONG_SECRET_KEY, SESSION_TOKEN, self.s3info["secret_key"])
        self.assertNothingWritten()

if __name__ == "__main__":
    unittest.main(verbosity=2)
