"""e2e: HTTPS. The Hub emulator serves both its listeners (Hub and CDN) over TLS with a server
certificate from a throw-away CA made at test time (tests/emulators/hub/tls_certs.py, openssl CLI).

* Default trust (the system CAs) refuses it: a clear certificate error, exit code 2 (a trust
  setting to fix, not a transient failure: not retried), nothing written.
* --ca-bundle ca.pem mirrors it; --insecure mirrors it and warns loudly on stderr.
* Over TLS too, the token goes to the Hub origin only, never to the CDN.
* The CDN's certificate is checked against the CDN's host, not just the Hub's.
"""

import os
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

_ROOT = Path(os.environ.get("HFM_SOURCE_DIR") or Path(__file__).resolve().parents[2])
sys.path.insert(0, str(_ROOT / "tests" / "support"))
sys.path.insert(0, str(_ROOT / "tests" / "emulators" / "hub"))

import hubemu  # noqa: E402
from e2ebase import EmulatorTestCase  # noqa: E402
from hubemu import list_files, manifest_exists  # noqa: E402
from tls_certs import make_test_pki  # noqa: E402

TINY = "acme/tiny"
GATED = "acme/gated-model"
READER = "hf_reader"


def start_tls_emulator(test_class, dns=("localhost",), ips=("127.0.0.1",)):
    """A certificate for `dns`/`ips` signed by a new CA, and an emulator serving it; both are
    removed when the class is done."""
    folder = tempfile.mkdtemp(prefix="hfm-e2e-pki-")
    test_class.addClassCleanup(shutil.rmtree, folder, True)
    pki = make_test_pki(folder, dns=dns, ips=ips)
    emu = hubemu.HubEmulator(extra_args=["--tls-cert", pki.server_pem, "--tls-key", pki.server_key])
    test_class.addClassCleanup(emu.stop)
    emu.start()
    return pki, emu


class TlsTest(EmulatorTestCase):

    @classmethod
    def setUpClass(cls):
        unittest.TestCase.setUpClass()
        hubemu.require_binary()
        cls.pki, cls.emu = start_tls_emulator(cls)
        assert cls.emu.hub.startswith("https://") and cls.emu.cdn.startswith("https://"), cls.emu.hub

    def handshake_failures(self):
        return self.emu.stats()["tls_handshake_failures"]

    def assertTokenOnlyOnTheHub(self, token):
        hub, cdn = self.emu.requests("hub"), self.emu.requests("cdn")
        self.assertTrue(cdn, "nothing came from the CDN: the token check proves nothing")
        self.assertEqual([e["path"] for e in hub + cdn if not e["tls"]], [], "a request went over plain HTTP")
        self.assertEqual([e["path"] for e in cdn if "authorization" in e["headers"]], [],
                         "the HF token was sent to the CDN")
        self.assertEqual({e["headers"].get("authorization") for e in hub}, {f"Bearer {token}"})
        self.assertEqual(self.emu.stats()["cdn_authorization_rejected"], 0)

    def test_default_trust_refuses_the_certificate_and_writes_nothing(self):
        cases = {"system CAs": [], "an unrelated CA": ["--ca-bundle", self.pki.other_ca_pem]}
        for name, extra in cases.items():
            with self.subTest(name):
                self.emu.clear_requests()
                before = self.handshake_failures()
                dest = self.tmp / name.replace(" ", "-")
                r = self.sync(GATED, dest, "--token", READER, *extra, expect_rc=2, timeout=60)
                errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
                self.assertEqual(len(errors), 1, r.describe())
                self.assertRegex(errors[0].lower(), r"certificate|ssl|tls", "the error does not say it is TLS trust")
                self.assertIn(self.emu.hub, errors[0], "the error does not name the server")
                self.assertEqual(r.json["error"]["code"], "config")
                self.assertFalse(dest.exists(), "something was written for a run that never got past TLS")
                # Refused during the handshake: no request reached the Hub, and it was not retried.
                self.assertEqual(self.emu.requests(), [])
                self.assertEqual(self.handshake_failures(), before + 1, "a certificate failure was retried")
                self.assertLess(r.duration, 10)
                self.assertNotIn(READER, r.stdout + r.stderr)

    def test_ca_bundle_mirrors_over_https_and_the_token_stays_on_the_hub(self):
        for repo in (GATED, TINY):
            with self.subTest(repo):
                self.emu.clear_requests()
                dest = self.tmp / repo.replace("/", "_")
                r = self.sync(repo, dest, "--token", READER, "--ca-bundle", self.pki.ca_pem)
                self.assertMirror(dest, repo)
                self.assertTokenOnlyOnTheHub(READER)
                self.assertNotIn("WARNING", r.stderr)
                self.assertNotIn(READER, r.stdout + r.stderr)

    def test_insecure_mirrors_and_warns_loudly(self):
        dest = self.tmp / "insecure"
        r = self.sync(GATED, dest, "--token", READER, "--insecure")
        self.assertMirror(dest, GATED)
        self.assertTokenOnlyOnTheHub(READER)
        first = r.stderr.splitlines()[0] if r.stderr else ""
        self.assertTrue(first.startswith("WARNING"), f"the warning is not the first thing on stderr: {r.stderr!r}")
        self.assertIn("--insecure", first)
        self.assertIn("NOT verified", first)
        self.assertNotIn("WARNING", r.stdout, "the warning went to stdout (the --json document)")
        self.assertOneJsonObject(r)
        # Loud whatever the log level: also with --log-level error.
        r = self.sync(GATED, self.tmp / "quiet", "--token", READER, "--insecure", "--log-level", "error")
        self.assertIn("WARNING: --insecure", r.stderr)


class CdnHostCheckTest(EmulatorTestCase):
    """A certificate good for the Hub's host (localhost) but not the CDN's (127.0.0.1): with the
    right CA, Hub calls work and the CDN is refused, so the host check is made on every leg."""

    @classmethod
    def setUpClass(cls):
        unittest.TestCase.setUpClass()
        hubemu.require_binary()
        cls.pki, cls.emu = start_tls_emulator(cls, dns=("localhost",), ips=())

    def test_cdn_certificate_must_name_the_cdn_host(self):
        dest = self.tmp / "wrong-host"
        r = self.sync(TINY, dest, "--ca-bundle", self.pki.ca_pem, "--part-size", "32MiB", expect_rc=None)
        self.assertNotIn(r.rc, (0, 130), r.describe())
        self.assertIn("model.safetensors", r.stderr)
        self.assertRegex(r.stderr.lower(), r"certificate|ssl|host name|subject name")
        self.assertEqual(self.emu.requests("cdn"), [], "a request got through to the CDN")
        # curl checks the name after the handshake and hangs up: one connection, not retried.
        self.assertEqual(self.emu.stats()["tls_connections_by_listener"]["cdn"], 1, "a certificate failure was retried")
        self.assertFalse(os.path.lexists(dest / "model.safetensors"))
        self.assertFalse(manifest_exists(dest))
        # Files served by the Hub itself are fine.
        self.assertIn("config.json", list_files(dest))


if __name__ == "__main__":
    unittest.main(verbosity=2)
