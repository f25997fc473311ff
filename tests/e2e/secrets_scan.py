#!/usr/bin/env python3
"""The secret scan: no test secret escapes hfmirror, in any run of the whole e2e suite.

ctest runs every e2e module with HFM_TEST_LOG_DIR set (fixture `secrets`, tests/CMakeLists.txt).
tests/support/hubemu.py then gives every hfmirror process it starts a trace-level log file in that
folder (HFMIRROR_LOG_FILE, HFMIRROR_LOG_FILE_LEVEL=trace, whatever --log-level the test chose)
and saves its stdout and stderr there too:

    <test id>.<pid>.<n>.<random>.{log,stdout,stderr,meta.json}

After the suite, `secrets_scan.py DIR` reads every .log, .stdout and .stderr file line by line
and fails (exit 1), naming file, line and category with the secret masked, when it finds

  * a secret value the tests use (and, for long ones, its first half or %-encoded form):
    hf_token               every token of tests/emulators/hub/specs/*.json, and string constants
                           named *TOKEN* or passed to --token / HF_TOKEN in tests/e2e/*.py
    aws_secret_access_key  s3env.SECRET_KEY, scripts/s3-server's SECRET_KEY, AWS_SECRET_ACCESS_KEY
                           of the S3 server's env file, constants named *SECRET* in tests/e2e/*.py
    aws_session_token      constants named *SESSION* and AWS_SESSION_TOKEN values in tests/e2e
    url_password           constants named *USERINFO*/*PASSWORD* (a password inside an endpoint URL)
    cdn_signing_key        the emulator's --cdn-secret
    cdn_signature          the emulator's real X-Amz-Signature of every signed CDN URL that a log
                           line mentions (recomputed here from the URL's path, X-Amz-Date and
                           X-Amz-Expires with the emulator's key), in any form
    xet_token              xet-emulator-<hex> access tokens of the emulator
  * a presigned or SigV4 parameter with a value other than "***" (presigned_query):
    X-Amz-Signature=, Signature=, X-Amz-Credential=, X-Amz-Security-Token=, Policy=,
    Key-Pair-Id= (also %-encoded, as inside another URL)
  * an Authorization or x-amz-security-token header value, "Bearer <token>", or a SigV4
    "AWS4-HMAC-SHA256 Credential=" string (authorization_header)
  * S3 error bodies echoing signing material: <SignatureProvided>, <StringToSign>,
    <CanonicalRequest> (s3_error_echo)

It also fails when the folder proves the harness broken: no run at all, no TRACE line at all, or a
run whose log file is missing or was not written at trace level (a run that stopped at argument
parsing, exit code 2 or --help/--version, has no log file by design; a test of the log file's own
levels passes when that run's stderr was at trace).

`secrets_scan.py --reset DIR` empties DIR of such files first (the fixture's setup).
Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import hmac
import json
import os
import re
import sys
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(os.environ.get("HFM_SOURCE_DIR") or Path(__file__).resolve().parents[2]).resolve()
SPECS = REPO_ROOT / "tests" / "emulators" / "hub" / "specs"
EMULATOR = REPO_ROOT / "tests" / "emulators" / "hub" / "hub_emulator.py"
E2E = REPO_ROOT / "tests" / "e2e"
S3ENV = REPO_ROOT / "tests" / "support" / "s3env.py"
S3_SERVER = REPO_ROOT / "scripts" / "s3-server"
DEFAULT_S3_ENV_FILE = Path("/tmp/hfm-rgw/s3.env")

SCANNED = (".log", ".stdout", ".stderr")
RUN_FILES = SCANNED + (".meta.json",)
REDACTED = "***"
TRACE_HEADER = re.compile(r"\blog\.file_open file_level=(\w+)")
TRACE_LINE = re.compile(r"^\S+ (?:\[\d+\] )?TRACE ")

# name=value of presigned-URL and SigV4 parameters, as in a URL (or %-encoded inside another one).
PRESIGNED = re.compile(
    r"(?i)(?<![A-Za-z0-9_-])(X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|Policy|Key-Pair-Id)"
    r"(=|%3D)([^&\s\"'<>,;)\]}]*)")
AUTH_HEADER = re.compile(r"(?i)\b(authorization|x-amz-security-token|x-xet-access-token)\s*[:=]\s*\"?([^\s\",]+)")
BEARER = re.compile(r"(?i)\bBearer\s+([^\s\",]+)")
SIGV4_CREDENTIAL = re.compile(r"AWS4-HMAC-SHA256\s+Credential=([^\s,\"]+)")
S3_ECHO = re.compile(r"<(SignatureProvided|StringToSign|StringToSignBytes|CanonicalRequest)>([^<]+)<")
XET_TOKEN = re.compile(r"xet-emulator-[0-9a-f]{16,}")
# A signed CDN URL as hfmirror logs it (query redacted or not): path, X-Amz-Date, X-Amz-Expires.
CDN_URL = re.compile(r"https?://[^/\s]+(/xet-bridge-us/[^?\s]+)\?([^\s\"']+)")


@dataclass
class Secret:
    category: str
    value: str
    source: str


@dataclass
class Hit:
    path: str
    line_no: int
    category: str
    masked_line: str


@dataclass
class Report:
    runs: int = 0
    runs_with_trace_log: int = 0
    runs_with_trace_stderr: int = 0  # their own log file at another level, but stderr at trace
    runs_without_log: list = field(default_factory=list)  # argument-parsing exits (allowed)
    files: int = 0
    lines: int = 0
    bytes: int = 0
    trace_lines: int = 0
    secrets: list = field(default_factory=list)
    derived_signatures: int = 0
    hits: list = field(default_factory=list)
    problems: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.hits and not self.problems


def mask(value: str) -> str:
    """Enough to recognise which secret it was, never the secret itself."""
    return f"«{value[:2]}…({len(value)} chars)»"


# --------------------------------------------------------------------------------------------
# Collecting the test secrets
# --------------------------------------------------------------------------------------------

def _spec_tokens():
    out = []
    for spec in sorted(SPECS.glob("*.json")):
        try:
            data = json.loads(spec.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for tok in data.get("tokens", {}):
            out.append(Secret("hf_token", tok, f"{spec.name} tokens"))
    return out


def _cdn_secret():
    """The default of the emulator's --cdn-secret (nobody passes another one)."""
    tree = ast.parse(EMULATOR.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument"
                and node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value == "--cdn-secret"):
            for kw in node.keywords:
                if kw.arg == "default" and isinstance(kw.value, ast.Constant):
                    return kw.value.value
    raise RuntimeError(f"no --cdn-secret default found in {EMULATOR}: the scan cannot check CDN signatures")


def _category_for_name(name: str):
    n = name.upper()
    if "USERINFO" in n or "PASSWORD" in n:
        return "url_password"
    if "SESSION" in n:
        return "aws_session_token"
    if "SECRET" in n:
        return "aws_secret_access_key"
    if "TOKEN" in n:
        return "hf_token"
    return None


_ENV_CATEGORIES = {"HF_TOKEN": "hf_token", "HUGGING_FACE_HUB_TOKEN": "hf_token",
                   "AWS_SECRET_ACCESS_KEY": "aws_secret_access_key", "AWS_SESSION_TOKEN": "aws_session_token",
                   "AWS_SECURITY_TOKEN": "aws_session_token"}


def _python_constants(path: Path):
    """String constants a test module uses as secrets: assigned to a *TOKEN*/*SECRET*/*SESSION*
    name, given as a value of HF_TOKEN/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN in a dict or as a
    secret_key=/session_token=/token= argument, or following "--token" in a list."""
    out = []
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return out

    def add(cat, node, how):
        if cat and isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) >= 6:
            out.append(Secret(cat, node.value, f"{path.name}: {how}"))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    add(_category_for_name(t.id), node.value, t.id)
        elif isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values):
                if isinstance(k, ast.Constant) and k.value in _ENV_CATEGORIES:
                    add(_ENV_CATEGORIES[k.value], v, k.value)
        elif isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg:
                    add(_category_for_name(kw.arg), kw.value, f"{kw.arg}=")
        elif isinstance(node, (ast.List, ast.Tuple)):
            for a, b in zip(node.elts, node.elts[1:]):
                if isinstance(a, ast.Constant) and a.value == "--token":
                    add("hf_token", b, "--token")
    return out


def _env_file_secrets(paths):
    out = []
    for p in paths:
        try:
            text = Path(p).read_text(encoding="utf-8")
        except OSError:
            continue
        for line in text.splitlines():
            m = re.match(r"\s*(?:export\s+)?(AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN)=(.*)$", line)
            if m and m.group(2).strip().strip("'\""):
                out.append(Secret(_ENV_CATEGORIES[m.group(1)], m.group(2).strip().strip("'\""), f"{p}"))
    return out


def collect_secrets(extra_env_files=()):
    secrets = _spec_tokens()
    secrets.append(Secret("cdn_signing_key", _cdn_secret(), "hub_emulator.py --cdn-secret"))
    for node in ast.walk(ast.parse(S3ENV.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "SECRET_KEY" for t in node.targets):
            if isinstance(node.value, ast.Constant):
                secrets.append(Secret("aws_secret_access_key", node.value.value, "s3env.SECRET_KEY"))
    try:  # the key scripts/s3-server gives the server, whether or not its env file still exists
        m = re.search(r"^readonly SECRET_KEY=(\S+)", S3_SERVER.read_text(encoding="utf-8"), re.M)
        if m:
            secrets.append(Secret("aws_secret_access_key", m.group(1), "scripts/s3-server SECRET_KEY"))
    except OSError:
        pass
    env_files = [DEFAULT_S3_ENV_FILE, *extra_env_files]
    if os.environ.get("HFM_S3_ENV_FILE"):
        env_files.append(os.environ["HFM_S3_ENV_FILE"])
    secrets += _env_file_secrets(env_files)
    for py in sorted(E2E.glob("*.py")):
        if py.name != Path(__file__).name:
            secrets += _python_constants(py)
    # One entry per value (the first category wins).
    seen, out = set(), []
    for s in secrets:
        if s.value not in seen:
            seen.add(s.value)
            out.append(s)
    return out


def _needles(secret: Secret):
    """The forms of a secret to look for: itself, %-encoded, and the first half of a long one."""
    v = secret.value
    forms = {v, urllib.parse.quote(v, safe=""), urllib.parse.quote_plus(v)}
    if len(v) >= 16:
        forms.add(v[: len(v) // 2])
    return sorted(forms, key=len, reverse=True)


def derive_cdn_signatures(text: str, key: str):
    """The emulator's real signature of every signed CDN URL in `text` (redacted or not)."""
    sigs = set()
    for m in CDN_URL.finditer(text):
        q = dict(urllib.parse.parse_qsl(m.group(2), keep_blank_values=True))
        date, expires = q.get("X-Amz-Date"), q.get("X-Amz-Expires")
        if date and expires:
            sigs.add(hmac.new(key.encode(), f"{m.group(1)}\n{date}\n{expires}".encode(), hashlib.sha256).hexdigest())
    return sigs


# --------------------------------------------------------------------------------------------
# Scanning
# --------------------------------------------------------------------------------------------

def _pattern_hits(line: str):
    """(category, offending value) of every non-redacted signing parameter or header."""
    out = []
    for m in PRESIGNED.finditer(line):
        v = m.group(3)
        if v and not v.startswith(REDACTED) and not v.startswith("%2A%2A%2A"):
            out.append(("presigned_query", v))
    for m in AUTH_HEADER.finditer(line):
        v = m.group(2)
        if not v.startswith(REDACTED) and v.lower() not in ("bearer", "yes", "no", "none", "true", "false"):
            out.append(("authorization_header", v))
    for m in BEARER.finditer(line):
        if not m.group(1).startswith(REDACTED):
            out.append(("authorization_header", m.group(1)))
    for m in SIGV4_CREDENTIAL.finditer(line):
        if not m.group(1).startswith(REDACTED):
            out.append(("authorization_header", m.group(1)))
    for m in S3_ECHO.finditer(line):
        out.append(("s3_error_echo", m.group(2)))
    for m in XET_TOKEN.finditer(line):
        out.append(("xet_token", m.group(0)))
    return out


def _run_base(name: str):
    for ext in RUN_FILES:
        if name.endswith(ext):
            return name[: -len(ext)]
    return None


def scan(directory, extra_env_files=()) -> Report:
    d = Path(directory)
    rep = Report()
    if not d.is_dir():
        rep.problems.append(f"{d}: no such folder (was HFM_TEST_LOG_DIR set for the tests?)")
        return rep
    secrets = collect_secrets(extra_env_files)
    cdn_key = next(s.value for s in secrets if s.category == "cdn_signing_key")

    runs: dict[str, dict[str, Path]] = {}
    for p in sorted(d.iterdir()):
        base = _run_base(p.name) if p.is_file() else None
        if base is not None:
            runs.setdefault(base, {})[p.name[len(base):]] = p

    contents = {}
    for files in runs.values():
        for ext, p in files.items():
            if ext in SCANNED:
                contents[p] = p.read_text(encoding="utf-8", errors="replace")

    # Signatures are per URL: recompute them from every signed CDN URL that was logged.
    derived = set()
    for text in contents.values():
        derived |= derive_cdn_signatures(text, cdn_key)
    rep.derived_signatures = len(derived)
    all_secrets = secrets + [Secret("cdn_signature", s, "recomputed from a logged CDN URL") for s in sorted(derived)]
    rep.secrets = secrets
    needles = [(s, n) for s in all_secrets for n in _needles(s)]

    for p, text in contents.items():
        rep.files += 1
        rep.bytes += len(text.encode("utf-8", "replace"))
        for i, line in enumerate(text.splitlines(), 1):
            rep.lines += 1
            if TRACE_LINE.match(line):
                rep.trace_lines += 1
            found = []
            for s, n in needles:
                if n in line:
                    found.append((s.category, n))
            found += _pattern_hits(line)
            if found:
                masked = line
                for _, v in sorted(found, key=lambda f: len(f[1]), reverse=True):
                    masked = masked.replace(v, mask(v))
                cats = ",".join(sorted({c for c, _ in found}))
                rep.hits.append(Hit(str(p), i, cats, masked[:400]))

    # Every run must have been logged at trace, or the scan proves nothing about it.
    for base, files in sorted(runs.items()):
        rep.runs += 1
        meta = {}
        if ".meta.json" in files:
            try:
                meta = json.loads(files[".meta.json"].read_text(encoding="utf-8"))
            except ValueError:
                rep.problems.append(f"{files['.meta.json']}: unreadable")
        log = files.get(".log")
        err = files.get(".stderr")
        if log is not None:
            levels = TRACE_HEADER.findall(contents[log])
            if levels and all(lv == "trace" for lv in levels):
                rep.runs_with_trace_log += 1
            elif err is not None and any(TRACE_LINE.match(ln) for ln in contents[err].splitlines()):
                # A test of the log file's own levels: its trace output went to stderr instead.
                rep.runs_with_trace_stderr += 1
            else:
                rep.problems.append(f"{log}: not written at trace level (log.file_open says {levels or 'nothing'}; "
                                    f"test {meta.get('test', '?')})")
            continue
        args = meta.get("args", [])
        if meta.get("rc") == 2 or any(a in ("-h", "--help", "--version") for a in args):
            rep.runs_without_log.append(base)
        else:
            rep.problems.append(f"{d / base}.*: a run without a log file (test {meta.get('test', '?')}, "
                                f"rc {meta.get('rc', '?')}, args {' '.join(args)}): the harness did not reach it")
    if rep.runs == 0:
        rep.problems.append(f"{d}: no hfmirror run was recorded (is HFM_TEST_LOG_DIR reaching tests/support/hubemu.py?)")
    if rep.trace_lines == 0:
        rep.problems.append(f"{d}: no TRACE line in any output: trace logging never reached the files")
    return rep


def summary(rep: Report) -> str:
    cats = sorted({s.category for s in rep.secrets} | ({"cdn_signature"} if rep.derived_signatures else set()))
    lines = [
        f"secrets.scan: {rep.runs} hfmirror runs ({rep.runs_with_trace_log} with a trace log, "
        f"{rep.runs_with_trace_stderr} with trace on stderr, {len(rep.runs_without_log)} stopped at argument "
        f"parsing), {rep.files} files, {rep.lines} lines, "
        f"{rep.bytes} bytes, {rep.trace_lines} TRACE lines",
        f"secrets.scan: {len(rep.secrets)} secret values + {rep.derived_signatures} recomputed CDN signatures "
        f"({', '.join(cats)}); patterns: presigned_query, authorization_header, s3_error_echo, xet_token",
    ]
    for h in rep.hits:
        lines.append(f"LEAK {h.path}:{h.line_no}: [{h.category}] {h.masked_line}")
    for p in rep.problems:
        lines.append(f"PROBLEM {p}")
    lines.append(f"secrets.scan: {'OK' if rep.ok else 'FAILED'}: {len(rep.hits)} leaks, {len(rep.problems)} problems")
    return "\n".join(lines)


def reset(directory):
    """Removes the run files of an earlier suite (only those) and makes sure the folder exists."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    removed = 0
    for p in d.iterdir():
        if p.is_file() and _run_base(p.name) is not None:
            p.unlink()
            removed += 1
    print(f"secrets.logdir_setup: {d} ready ({removed} old files removed)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", nargs="?", default=os.environ.get("HFM_TEST_LOG_DIR"),
                    help="the folder of run files (default: $HFM_TEST_LOG_DIR)")
    ap.add_argument("--reset", action="store_true", help="empty the folder for a new suite and exit")
    ap.add_argument("--s3-env-file", action="append", default=[], help="another S3 server env file to take secrets from")
    a = ap.parse_args(argv)
    if not a.dir:
        ap.error("no folder: pass DIR or set HFM_TEST_LOG_DIR")
    if a.reset:
        reset(a.dir)
        return 0
    rep = scan(a.dir, a.s3_env_file)
    print(summary(rep))
    return 0 if rep.ok else 1


if __name__ == "__main__":
    sys.exit(main())
