"""A throw-away PKI for HTTPS tests, made at test time with the openssl CLI: a CA and a server
certificate signed by it. Nothing is checked in and nothing outlives the temp folder it is made in.

What it does
  * make_test_pki(folder, dns=("localhost",), ips=("127.0.0.1",)) -> Pki with the paths of
    ca.pem, server.pem (the certificate, then the CA: a chain) and server.key. The names become
    the certificate's subjectAltName; clients check the host against it.
  * Keys are P-256 (fast to make); certificates last two days.

What it does not do
  * No client certificates, no revocation, no intermediates. Python 3.11 standard library only.
"""

import os
import shutil
import subprocess
from dataclasses import dataclass


@dataclass
class Pki:
    ca_pem: str        # the CA certificate: what a client trusts (--ca-bundle)
    server_pem: str    # server certificate followed by the CA certificate
    server_key: str
    other_ca_pem: str  # a second, unrelated CA: trusting it must not help


def _openssl(*args, cwd):
    exe = shutil.which("openssl")
    if exe is None:
        raise RuntimeError("the openssl CLI is needed to make test certificates (apt-get install openssl)")
    p = subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args[:2])} failed: {p.stderr.strip()[-800:]}")


def _new_ca(folder, name):
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN=hfmirror test {name}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)


def make_test_pki(folder, dns=("localhost",), ips=("127.0.0.1",)) -> Pki:
    os.makedirs(folder, exist_ok=True)
    _new_ca(folder, "ca")
    _new_ca(folder, "other-ca")
    _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=hub-emulator", cwd=folder)
    san = ",".join([f"DNS:{d}" for d in dns] + [f"IP:{i}" for i in ips])
    with open(os.path.join(folder, "server.ext"), "w") as f:
        f.write(f"subjectAltName={san}\nbasicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server-only.pem", "-days", "2", "-extfile", "server.ext", cwd=folder)
    with open(os.path.join(folder, "server.pem"), "w") as out:
        for part in ("server-only.pem", "ca.pem"):
            with open(os.path.join(folder, part)) as f:
                out.write(f.read())
    return Pki(*(os.path.join(folder, n) for n in ("ca.pem", "server.pem", "server.key", "other-ca.pem")))
