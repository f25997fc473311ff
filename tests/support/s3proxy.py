"""Test support: the S3 fault proxy (tests/emulators/s3proxy/s3_fault_proxy.py) as a child
process in front of the real S3 server, and a small client for its control API.

What it does
  * S3FaultProxy(upstream).start(): starts the proxy on free loopback ports, waits (bounded) for
    its ready file, and always stops it (stop(), context manager, and an atexit safety net).
  * Control: set_rules()/clear_rules()/rules() (with seen/fired counters), release() of held
    requests, listen(False) to refuse connections, the request log (requests(), filtered by
    op/fault), stats(), and wait_for_request() -- bounded polling of the log.
  * reset(): between tests -- no rules, nothing held, accepting connections, empty log.

What it does not do
  * No assertions: tests decide what is right. The proxy never logs secrets or bodies.

Python 3.11 standard library only.
"""

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(os.environ.get("HFM_SOURCE_DIR") or Path(__file__).resolve().parents[2]).resolve()
PROXY = REPO_ROOT / "tests" / "emulators" / "s3proxy" / "s3_fault_proxy.py"

_live = set()


@atexit.register
def _stop_all():
    for p in list(_live):
        p.stop()


class ProxyError(RuntimeError):
    pass


class S3FaultProxy:
    """One proxy process. endpoint: the S3 URL to give the client under test."""

    def __init__(self, upstream: str, seed: int | None = None, start_timeout: float = 30.0):
        self.upstream = upstream
        self.seed = seed
        self.start_timeout = start_timeout
        self.proc = None
        self.tmp = None
        self.endpoint = self.control = None

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self):
        if not PROXY.is_file():
            raise ProxyError(f"proxy not found at {PROXY}")
        self.tmp = tempfile.mkdtemp(prefix="hfm-s3proxy-")
        ready = os.path.join(self.tmp, "ready.json")
        self._err = open(os.path.join(self.tmp, "stderr.log"), "wb")
        cmd = [sys.executable, str(PROXY), "--upstream", self.upstream, "--ready-file", ready]
        if self.seed is not None:
            cmd += ["--seed", str(self.seed)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self._err, stdin=subprocess.DEVNULL)
        _live.add(self)
        deadline = time.monotonic() + self.start_timeout
        while not os.path.exists(ready):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                err = self.stderr_text()
                self.stop()
                raise ProxyError(f"S3 fault proxy did not start (exit {self.proc.returncode}):\n{err}")
            time.sleep(0.02)
        with open(ready, encoding="utf-8") as f:
            info = json.load(f)
        self.endpoint, self.control = info["endpoint"], info["control"]
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        _live.discard(self)
        if getattr(self, "_err", None) is not None and not self._err.closed:
            self._err.close()
        if self.tmp and os.path.isdir(self.tmp):
            shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def stderr_text(self):
        try:
            with open(os.path.join(self.tmp, "stderr.log"), "rb") as f:
                return f.read().decode("utf-8", "replace")[-4000:]
        except (OSError, TypeError):
            return ""

    # -- control API --------------------------------------------------------------------------

    def _call(self, method, route, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.control}/{route}", data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raise ProxyError(f"{method} /{route}: HTTP {e.code}: {e.read().decode('utf-8', 'replace')}") from None

    def set_rules(self, rules, seed=None):
        """Replaces every rule (counters restart). See the proxy's docstring for the fields."""
        body = {"rules": list(rules)}
        if seed is not None:
            body["seed"] = seed
        return self._call("POST", "rules", body)

    def clear_rules(self):
        return self._call("POST", "rules/clear", {})

    def rules(self):
        """{name: rule with 'seen' and 'fired'}."""
        return {r["name"]: r for r in self._call("GET", "rules")["rules"]}

    def fired(self, name):
        return self.rules()[name]["fired"]

    def release(self, name=None):
        return self._call("POST", "release", {} if name is None else {"name": name})

    def listen(self, accept: bool):
        return self._call("POST", "listen", {"accept": accept})

    def requests(self, op=None, fault=None, since=0):
        """Log entries, oldest first; op/fault filter (fault=True: any fault)."""
        out = self._call("GET", f"requests?since={since}")
        if op is not None:
            ops = {op} if isinstance(op, str) else set(op)
            out = [e for e in out if e["op"] in ops]
        if fault is True:
            out = [e for e in out if e["fault"]]
        elif fault is not None:
            out = [e for e in out if e["fault"] == fault]
        return out

    def clear_requests(self):
        return self._call("POST", "requests/clear", {})

    def stats(self):
        return self._call("GET", "stats")

    def health(self):
        return self._call("GET", "health")

    def wait_for_request(self, predicate, timeout=30.0, what="a request"):
        """Bounded polling of the log: the first entry the predicate accepts."""
        deadline = time.monotonic() + timeout
        while True:
            for e in self.requests():
                if predicate(e):
                    return e
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what} at the S3 proxy")
            if self.proc is not None and self.proc.poll() is not None:
                raise ProxyError(f"the proxy exited with {self.proc.returncode}:\n{self.stderr_text()}")
            time.sleep(0.02)

    def reset(self):
        """Between tests: no rules (held requests released), accepting, empty log."""
        self.clear_rules()
        self.listen(True)
        self.clear_requests()
