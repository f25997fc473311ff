"""Test support for the e2e tier: the Hub emulator as a child process, a small client for its
control API (/_emulator/...), a runner for the hfmirror binary, and hashing helpers.

What it does
  * HubEmulator: starts tests/emulators/hub/hub_emulator.py with its own --data-dir in a temp
    folder, waits (bounded) for the --ready-file, and always terminates it (stop(), context
    manager, and an atexit safety net).
  * Control client: request log (get/clear), expected files of a repo at a revision, branch and
    tag moves, fault injection, stats.
  * run_hfmirror()/start_hfmirror(): the binary with a clean environment (no token, no proxy,
    HF_HOME in a temp folder) plus HF_ENDPOINT; returns rc/stdout/stderr and the --json document.
  * With HFM_TEST_LOG_DIR set (ctest sets it for every e2e test), every run also writes a trace
    log there (HFMIRROR_LOG_FILE, HFMIRROR_LOG_FILE_LEVEL=trace, whatever --log-level the test
    uses) and its stdout, stderr and a small .meta.json are saved next to it, for the secret scan
    (tests/e2e/secrets_scan.py) that runs after the whole suite.

What it does not do
  * No assertions: tests decide what is right. No sleeps except bounded polling (wait_until).

Python 3.11 standard library only. Imported by tests/e2e/test_*.py through sys.path.
"""

import atexit
import hashlib
import inspect
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(os.environ.get("HFM_SOURCE_DIR") or Path(__file__).resolve().parents[2]).resolve()
EMULATOR = REPO_ROOT / "tests" / "emulators" / "hub" / "hub_emulator.py"
SPECS = REPO_ROOT / "tests" / "emulators" / "hub" / "specs"
TESTREPOS = SPECS / "testrepos.json"

# Environment variables that would leak a real token, a real cache or a proxy into a test run.
_SCRUB = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HOME", "HF_HUB_CACHE",
          "HUGGINGFACE_HUB_CACHE", "HF_ENDPOINT", "HF_HUB_OFFLINE", "HF_HUB_DISABLE_IMPLICIT_TOKEN",
          "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
          "no_proxy", "NO_PROXY", "CURL_CA_BUNDLE", "SSL_CERT_FILE")


def hfmirror_bin() -> str:
    b = os.environ.get("HFMIRROR_BIN")
    if b:
        return str(Path(b).resolve())
    return str(REPO_ROOT / "build" / "dev" / "hfmirror")


def require_binary():
    """Raise a clear error (not a skip: STYLE.md says a missing server fails) if the binary is absent."""
    b = hfmirror_bin()
    if not os.access(b, os.X_OK):
        raise RuntimeError(f"hfmirror binary not found at {b}: build it "
                           "(cmake --build --preset dev --target hfmirror) or set HFMIRROR_BIN")
    return b


# --------------------------------------------------------------------------------------------
# Hashes
# --------------------------------------------------------------------------------------------

def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def git_sha1_file(path) -> str:
    size = os.path.getsize(path)
    h = hashlib.sha1(b"blob %d\0" % size)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def git_sha1_bytes(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def content_id_on_disk(path, lfs: bool) -> str:
    """The Hub's content id of a file: sha256 for LFS/Xet files, git blob sha1 otherwise."""
    return sha256_file(path) if lfs else git_sha1_file(path)


def list_files(root, skip_state=True):
    """Relative POSIX paths of every non-directory entry under root (symlinks included, not
    followed); `.hfmirror/` is left out unless skip_state is False."""
    root = Path(root)
    out = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel_dir = Path(dirpath).relative_to(root)
        if skip_state and rel_dir == Path("."):
            dirnames[:] = [d for d in dirnames if d != ".hfmirror"]
        for name in filenames:
            out.add((rel_dir / name).as_posix())
        for d in dirnames:  # symlinked folders are entries too
            if os.path.islink(os.path.join(dirpath, d)):
                out.add((rel_dir / d).as_posix())
    return out


def tree_snapshot(root):
    """{relative path: (kind, size, mtime_ns)} of everything under root, to prove nothing
    changed (folders: presence only)."""
    root = Path(root)
    snap = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = os.lstat(p)
            kind = "link" if os.path.islink(p) else "dir" if p.is_dir() else "file"
            # A folder's own mtime changes when entries are added below it: not compared.
            snap[p.relative_to(root).as_posix()] = ((kind, 0, 0) if kind == "dir" else
                                                    (kind, st.st_size, st.st_mtime_ns))
    return snap


def wait_until(predicate, timeout, interval=0.02, what="condition"):
    """Bounded polling: returns the predicate's truthy value or raises TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# --------------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------------

_live = set()


@atexit.register
def _stop_all():
    for emu in list(_live):
        emu.stop()


class EmulatorError(RuntimeError):
    pass


class HubEmulator:
    """One emulator process with its own data dir. Use start()/stop() or `with`."""

    def __init__(self, specs=(TESTREPOS,), extra_args=(), start_timeout=60.0):
        self.specs = [str(s) for s in specs]
        self.extra_args = list(extra_args)
        self.start_timeout = start_timeout
        self.proc = None
        self.tmp = None
        self.hub = self.cdn = None
        self._control = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self):
        if not EMULATOR.is_file():
            raise EmulatorError(f"emulator not found at {EMULATOR}")
        self.tmp = tempfile.mkdtemp(prefix="hfm-e2e-emu-")
        ready = os.path.join(self.tmp, "ready.json")
        self._out = open(os.path.join(self.tmp, "stdout.log"), "wb")
        self._err = open(os.path.join(self.tmp, "stderr.log"), "wb")
        cmd = [sys.executable, str(EMULATOR)]
        for s in self.specs:
            cmd += ["--spec", s]
        cmd += ["--data-dir", os.path.join(self.tmp, "data"), "--ready-file", ready, "--quiet"]
        cmd += self.extra_args
        self.proc = subprocess.Popen(cmd, stdout=self._out, stderr=self._err, stdin=subprocess.DEVNULL)
        _live.add(self)
        deadline = time.monotonic() + self.start_timeout
        while not os.path.exists(ready):
            if self.proc.poll() is not None:
                err = self.stderr_text()
                self.stop()
                raise EmulatorError(f"emulator exited with {self.proc.returncode} before it was ready:\n{err}")
            if time.monotonic() > deadline:
                err = self.stderr_text()
                self.stop()
                raise EmulatorError(f"emulator not ready after {self.start_timeout}s:\n{err}")
            time.sleep(0.02)
        with open(ready) as f:
            info = json.load(f)
        self.hub, self.cdn = info["hub"], info["cdn"]
        # Control calls go straight to 127.0.0.1 ("localhost" may try ::1 first).
        u = urllib.parse.urlsplit(self.hub)
        self._control = f"http://127.0.0.1:{u.port}/_emulator"
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
        for fh in (getattr(self, "_out", None), getattr(self, "_err", None)):
            if fh is not None and not fh.closed:
                fh.close()
        if self.tmp and os.path.isdir(self.tmp):
            shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def stderr_text(self):
        try:
            self._err.flush()
            with open(os.path.join(self.tmp, "stderr.log"), "rb") as f:
                return f.read().decode("utf-8", "replace")[-4000:]
        except (OSError, AttributeError, TypeError):
            return ""

    @property
    def hub_port(self):
        return urllib.parse.urlsplit(self.hub).port

    @property
    def cdn_port(self):
        return urllib.parse.urlsplit(self.cdn).port

    # -- control API ----------------------------------------------------------------------

    def _call(self, method, route, body=None, query=None):
        url = f"{self._control}/{route}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raise EmulatorError(f"{method} /_emulator/{route}: HTTP {e.code}: "
                                f"{e.read().decode('utf-8', 'replace')}") from None

    def requests(self, listener=None, since=0):
        """The request log: dicts with listener ('hub'|'cdn'), method, path (raw, %-encoded),
        query, headers (lower-case names), status, range, fault, time (epoch seconds), seq."""
        q = {"since": since}
        if listener:
            q["listener"] = listener
        return self._call("GET", "requests", query=q)

    def clear_requests(self):
        return self._call("POST", "requests/clear", {})

    def expected_files(self, repo, rev=None, repo_type="model"):
        """{'commit': sha, 'commit_name': 'c1', 'files': [{path,size,sha256,git_sha1,lfs,etag,...}]}"""
        q = {"rev": rev} if rev else None
        rid = "/".join(urllib.parse.quote(p, safe="") for p in repo.split("/"))
        return self._call("GET", f"repos/{repo_type}s/{rid}/files", query=q)

    def repos(self):
        return self._call("GET", "repos")

    def repo(self, repo_id, repo_type="model"):
        for r in self.repos():
            if r["id"] == repo_id and r["type"] == repo_type:
                return r
        raise KeyError(repo_id)

    def commit_sha(self, repo_id, commit_name, repo_type="model"):
        return self.repo(repo_id, repo_type)["commits"][commit_name]

    def move_branch(self, repo, commit, branch="main", repo_type="model"):
        return self._call("POST", "branch", {"repo": repo, "type": repo_type, "branch": branch, "commit": commit})

    def move_tag(self, repo, commit, tag, repo_type="model"):
        return self._call("POST", "branch", {"repo": repo, "type": repo_type, "tag": tag, "commit": commit})

    def set_faults(self, faults: dict):
        return self._call("POST", "faults", faults)

    def faults(self):
        return self._call("GET", "faults")

    def clear_faults(self):
        return self._call("POST", "faults/clear", {})

    def stats(self):
        return self._call("GET", "stats")

    def reset(self):
        """Between tests: no faults, empty log."""
        self.clear_faults()
        self.clear_requests()


# --------------------------------------------------------------------------------------------
# Request-log helpers
# --------------------------------------------------------------------------------------------

def unquoted(entry) -> str:
    return urllib.parse.unquote(entry["path"])


def resolve_path_of(entry, repo_id, repo_type="model"):
    """Repo file path of a resolve or resolve-cache request, else None."""
    p = unquoted(entry)
    prefix = "" if repo_type == "model" else f"{repo_type}s/"
    head = f"/{prefix}{repo_id}/resolve/"
    if p.startswith(head):
        rest = p[len(head):]
        return rest.split("/", 1)[1] if "/" in rest else None
    head = f"/api/resolve-cache/{repo_type}s/{repo_id}/"
    if p.startswith(head):
        rest = p[len(head):]
        return rest.split("/", 1)[1] if "/" in rest else None
    return None


def cdn_sha256_of(entry):
    """The sha256 a CDN request fetches (/xet-bridge-us/<objid>/<sha256>), else None."""
    parts = entry["path"].split("/")
    return parts[3] if len(parts) == 4 and parts[1] == "xet-bridge-us" else None


def parse_range(header):
    """'bytes=a-b' -> (a, b) inclusive; None when absent."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    a, _, b = spec.partition("-")
    return int(a), (int(b) if b else None)


# --------------------------------------------------------------------------------------------
# Running hfmirror
# --------------------------------------------------------------------------------------------

@dataclass
class RunResult:
    args: list
    rc: int
    stdout: str
    stderr: str
    duration: float
    json: object = None
    json_error: str = ""
    env_extra: dict = field(default_factory=dict)

    def describe(self):
        return (f"hfmirror {' '.join(self.args)}\n rc={self.rc} ({self.duration:.2f}s)\n"
                f" stdout:\n{self.stdout[-3000:]}\n stderr:\n{self.stderr[-3000:]}")


_home = None


def _empty_home():
    """One empty HF_HOME/HOME per test process (removed at exit): no token file, no cache."""
    global _home
    if _home is None or not os.path.isdir(_home):
        _home = tempfile.mkdtemp(prefix="hfm-e2e-home-")
        atexit.register(shutil.rmtree, _home, True)
    return _home


def base_env(endpoint=None, home=None, extra=None):
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    if home is None:
        home = _empty_home()
    env["HF_HOME"] = home            # no token file, no cache of the user's
    env["HOME"] = home
    env["NO_PROXY"] = env["no_proxy"] = "*"
    if endpoint:
        env["HF_ENDPOINT"] = endpoint
    harness_log = _new_harness_log()
    if harness_log:
        env["HFMIRROR_LOG_FILE"] = harness_log
    if extra:
        for k, v in extra.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
    if harness_log and env.get("HFMIRROR_LOG_FILE") == harness_log:
        # Trace, whatever the test's environment (or its --log-level) says.
        env["HFMIRROR_LOG_FILE_LEVEL"] = "trace"
    return env


# --------------------------------------------------------------------------------------------
# Run capture for the secret scan (HFM_TEST_LOG_DIR)
# --------------------------------------------------------------------------------------------

LOG_DIR_ENV = "HFM_TEST_LOG_DIR"
_run_seq = itertools.count(1)
_harness_logs = set()


def _new_harness_log():
    """A fresh <dir>/<test>.<pid>.<n>.<random>.log under HFM_TEST_LOG_DIR, or None when unset."""
    d = os.environ.get(LOG_DIR_ENV)
    if not d:
        return None
    os.makedirs(d, exist_ok=True)
    label = re.sub(r"[^A-Za-z0-9_.-]+", "_", _calling_test())[-80:].lstrip(".-") or "run"
    path = os.path.join(d, f"{label}.{os.getpid()}.{next(_run_seq)}.{secrets.token_hex(3)}.log")
    _harness_logs.add(path)
    return path


def _calling_test():
    """The id of the unittest.TestCase method (or class, in setUpClass) that started a run."""
    import unittest
    f = inspect.currentframe()
    while f is not None:
        me = f.f_locals.get("self")
        if isinstance(me, unittest.TestCase):
            return me.id()
        cls = f.f_locals.get("cls")
        if isinstance(cls, type) and issubclass(cls, unittest.TestCase):
            return f"{cls.__module__}.{cls.__qualname__}"
        f = f.f_back
    return os.path.basename(sys.argv[-1]) if sys.argv else "unknown"


def _masked_args(args):
    """The command line for the .meta.json, with the value of --token (a secret) masked."""
    out, mask_next = [], False
    for a in args:
        if mask_next:
            out.append("***")
            mask_next = False
        elif a == "--token":
            out.append(a)
            mask_next = True
        elif a.startswith("--token="):
            out.append("--token=***")
        else:
            out.append(a)
    return out


def _flag_value(args, flag):
    for i, a in enumerate(args):
        if a == flag and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(flag + "="):
            return a[len(flag) + 1:]
    return None


class _Capture:
    """One run's files in HFM_TEST_LOG_DIR: <base>.log (hfmirror's own --log-file output at
    trace), <base>.stdout, <base>.stderr and <base>.meta.json. Inactive (every method a no-op)
    when the variable is unset."""

    def __init__(self, args, env):
        """env: the run's full environment, from base_env() (which chose the log file)."""
        self.dir = os.environ.get(LOG_DIR_ENV)
        self.args = args
        self.t0 = time.time()
        if not self.dir:
            return
        self.test = _calling_test()
        env_log = env.get("HFMIRROR_LOG_FILE")
        if env_log in _harness_logs:
            self.base = env_log[:-len(".log")]
        else:
            self.base = _new_harness_log()[:-len(".log")]
        # A test's own log file (a test of --log-file or HFMIRROR_LOG_FILE; the flag wins) is
        # left where the test wants it and copied here afterwards.
        self.own_log = _flag_value(args, "--log-file")
        if self.own_log is None and env_log not in _harness_logs:
            self.own_log = env_log

    def stdio(self):
        """(stdout, stderr) files for Popen: in the log dir, else anonymous temp files."""
        if not self.dir:
            return tempfile.TemporaryFile(), tempfile.TemporaryFile()
        return open(self.base + ".stdout", "w+b"), open(self.base + ".stderr", "w+b")

    def discard(self):
        if self.dir:
            for ext in (".stdout", ".stderr", ".log"):
                try:
                    os.unlink(self.base + ext)
                except OSError:
                    pass

    def save(self, rc, stdout=None, stderr=None):
        """Writes what the run printed (bytes; None when already in the .stdout/.stderr files),
        the test's own log file if it had one, and the meta data."""
        if not self.dir:
            return
        for ext, data in ((".stdout", stdout), (".stderr", stderr)):
            if data is not None:
                with open(self.base + ext, "wb") as f:
                    f.write(data)
        if self.own_log and os.path.isfile(self.own_log):
            shutil.copyfile(self.own_log, self.base + ".log")
        meta = {"test": self.test, "args": _masked_args(self.args), "rc": rc,
                "seconds": round(time.time() - self.t0, 3), "pid_of_test": os.getpid(),
                "log": "test" if self.own_log else "harness"}
        with open(self.base + ".meta.json", "w", encoding="utf-8") as f:
            json.dump(meta, f)


def run_hfmirror(args, endpoint=None, env=None, timeout=120, cwd=None, parse_json=None):
    """Run the binary to completion. `env` adds/overrides (None removes) variables on top of
    base_env(). --json output is parsed when the args contain --json (or parse_json=True)."""
    args = [str(a) for a in args]
    full_env = base_env(endpoint, extra=env)
    cap = _Capture(args, full_env)
    t0 = time.monotonic()
    try:
        p = subprocess.run([hfmirror_bin()] + args, env=full_env, cwd=cwd, capture_output=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        cap.save("timeout", e.stdout or b"", e.stderr or b"")
        raise
    cap.save(p.returncode, p.stdout, p.stderr)
    res = RunResult(args, p.returncode, p.stdout.decode("utf-8", "replace"),
                    p.stderr.decode("utf-8", "replace"), time.monotonic() - t0, env_extra=env or {})
    if parse_json or (parse_json is None and "--json" in args):
        try:
            res.json = json.loads(res.stdout)
        except ValueError as e:
            res.json_error = str(e)
    return res


def start_hfmirror(args, endpoint=None, env=None, cwd=None):
    """Start the binary without waiting (for signals). Output goes to temp files (the run's files
    in HFM_TEST_LOG_DIR when set): read them with finish_hfmirror()."""
    args = [str(a) for a in args]
    full_env = base_env(endpoint, extra=env)
    cap = _Capture(args, full_env)
    out, err = cap.stdio()
    try:
        p = subprocess.Popen([hfmirror_bin()] + args, env=full_env, cwd=cwd,
                             stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    except OSError:
        cap.discard()  # nothing ran: nothing to scan
        raise
    p._hfm = (args, out, err, time.monotonic(), cap)
    return p


def finish_hfmirror(p, timeout=60):
    args, out, err, t0, cap = p._hfm
    try:
        rc = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=10)
        cap.save("timeout")
        raise
    cap.save(rc)
    out.seek(0)
    err.seek(0)
    res = RunResult(args, rc, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"),
                    time.monotonic() - t0)
    out.close()
    err.close()
    if "--json" in args:
        try:
            res.json = json.loads(res.stdout)
        except ValueError as e:
            res.json_error = str(e)
    return res


def interrupt(p, sig=signal.SIGINT):
    if p.poll() is None:
        p.send_signal(sig)


# --------------------------------------------------------------------------------------------
# Mirror state
# --------------------------------------------------------------------------------------------

def read_manifest(dest):
    with open(Path(dest) / ".hfmirror" / "manifest.json", encoding="utf-8") as f:
        return json.load(f)


def manifest_exists(dest):
    return (Path(dest) / ".hfmirror" / "manifest.json").exists()


def partial_states(dest):
    """Parsed .hfmirror/partial/*.state files of a plain mirror: [{path, content_id, size,
    part_size, done: [part indexes]}]."""
    out = []
    d = Path(dest) / ".hfmirror" / "partial"
    if not d.is_dir():
        return out
    for p in sorted(d.glob("*.state")):
        try:
            out.append(json.loads(p.read_text()))
        except (OSError, ValueError):
            pass  # being replaced right now: the next poll sees it
    return out


# --------------------------------------------------------------------------------------------
# huggingface_hub glob semantics (filter_repo_objects), for computing expectations
# --------------------------------------------------------------------------------------------

def hf_filter(paths, include=None, exclude=None):
    """huggingface_hub.utils.filter_repo_objects: fnmatch.fnmatch (where '*' crosses '/'),
    a pattern ending in '/' gets '*' appended."""
    import fnmatch

    def fix(ps):
        if ps is None:
            return None
        return [p + "*" if p.endswith("/") else p for p in ps]

    include, exclude = fix(include), fix(exclude)
    out = []
    for p in paths:
        if include is not None and not any(fnmatch.fnmatch(p, pat) for pat in include):
            continue
        if exclude is not None and any(fnmatch.fnmatch(p, pat) for pat in exclude):
            continue
        out.append(p)
    return out
