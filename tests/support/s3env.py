"""Test support for the S3 tier: the real S3 server (single-node Ceph RGW, `scripts/s3-server`)
and small boto3 helpers to set up and inspect what the uploader wrote.

What it does
  * ensure_server(): reads the server's env file ($HFM_S3_ENV_FILE, else /tmp/hfm-rgw/s3.env),
    checks that the server answers a signed request, and otherwise runs
    `scripts/s3-server up --state <folder of the env file>`. Returns a dict (see S3Info).
    Under CTest the `s3` fixture (tests/support/s3_server_fixture.cmake) has already started it
    and exports HFM_S3_ENV_FILE, so this is only a check.
  * client(), new_bucket(), read_object(), list_multipart_uploads(), delete_bucket(),
    tool_env(): boto3/aws-CLI plumbing with the settings RGW needs (path-style, SigV4, no
    flexible checksums).

Failure policy: under CI=true a server that is missing or does not start is an error (raise),
never a skip. Outside CI the tests are skipped only when the Ceph packages are not installed
(run scripts/setup); a server that is installed but does not come up is always an error.

RGW 16.2 (Ceph pacific) deviations from AWS that tests must tolerate (measured, see the report
of the test-infra work):
  * CompleteMultipartUpload answers <ETag></ETag> (boto3: ETag == ''); HEAD has the right "...-N".
  * No x-amz-checksum-* support: wrong values are accepted, nothing is echoed back.
  * ListParts after AbortMultipartUpload: 404 NoSuchKey (AWS: NoSuchUpload).
  * Error bodies carry an empty <Message></Message>; aws CLI v1 may crash formatting them.
  * A credential scope with a wrong region is accepted (AWS: AuthorizationHeaderMalformed).
  * The environment on these machines sets AWS_CA_BUNDLE, which breaks rclone 1.60:
    run it with tool_env(for_rclone=True) (i.e. `env -u AWS_CA_BUNDLE rclone ...`).

Python 3.11; boto3/botocore (installed for the pyenv python3 that CTest uses).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import threading
import time
import unittest
from pathlib import Path
from typing import Any

REPO_ROOT = Path(os.environ.get("HFM_SOURCE_DIR") or Path(__file__).resolve().parents[2]).resolve()
S3_SERVER_SCRIPT = REPO_ROOT / "scripts" / "s3-server"
DEFAULT_ENV_FILE = Path("/tmp/hfm-rgw/s3.env")

ACCESS_KEY = "TESTACCESSKEY0000001"
SECRET_KEY = "testsecretkey0000000000000000000000001"
REGION = "us-east-1"

# RGW rejects non-last multipart parts below 5 MiB (EntityTooSmall), like AWS.
MIN_PART_SIZE = 5 * 1024 * 1024

_lock = threading.Lock()
_info: dict | None = None


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def env_file() -> Path:
    p = os.environ.get("HFM_S3_ENV_FILE")
    return Path(p) if p else DEFAULT_ENV_FILE


def parse_env_file(path: Path) -> dict[str, str]:
    """`export NAME=value` lines (as written by scripts/s3-server) -> {NAME: value}."""
    out = {}
    for line in Path(path).read_text().splitlines():
        m = re.match(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip().strip("'\"")
    return out


def _info_from_env(path: Path) -> dict:
    env = parse_env_file(path)
    return {
        "endpoint": env["HFM_S3_ENDPOINT"],
        "access_key": env["AWS_ACCESS_KEY_ID"],
        "secret_key": env["AWS_SECRET_ACCESS_KEY"],
        "region": env.get("AWS_REGION", REGION),
        "server": env.get("HFM_S3_SERVER", "ceph-rgw"),
        "env_file": str(path),
        "env": env,  # the raw variables, to pass on to a child process (e.g. hfmirror)
    }


def _answers(info: dict) -> bool:
    try:
        client(info, retries=1, connect_timeout=2, read_timeout=5).list_buckets()
        return True
    except Exception:  # noqa: BLE001 -- any failure means "not usable"
        return False


def _unavailable(msg: str):
    if in_ci():
        raise RuntimeError(f"S3 server unavailable (CI=true, so this is an error): {msg}")
    if not (shutil.which("radosgw") and shutil.which("ceph-mon") and shutil.which("ceph-osd")):
        raise unittest.SkipTest(f"S3 server unavailable and Ceph is not installed "
                                f"(run scripts/setup): {msg}")
    raise RuntimeError(f"S3 server unavailable: {msg}")


def ensure_server(timeout: float = 300) -> dict:
    """The running S3 server (started if need be) as a dict:
    endpoint, access_key, secret_key, region, server, env_file, env."""
    global _info
    with _lock:
        if _info is not None and _answers(_info):
            return dict(_info)
        path = env_file()
        if path.is_file():
            try:
                info = _info_from_env(path)
            except (KeyError, OSError):
                info = None
            if info and _answers(info):
                _info = info
                return dict(info)
        if not S3_SERVER_SCRIPT.is_file():
            _unavailable(f"{S3_SERVER_SCRIPT} not found")
        cmd = [str(S3_SERVER_SCRIPT), "up", "--state", str(path.parent)]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                               stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as e:
            _unavailable(f"{' '.join(cmd)}: {e}")
        if r.returncode != 0:
            _unavailable(f"{' '.join(cmd)} exited {r.returncode}:\n{r.stderr[-4000:]}")
        written = Path(r.stdout.strip().splitlines()[-1]) if r.stdout.strip() else path.parent / "s3.env"
        info = _info_from_env(written)
        if not _answers(info):
            _unavailable(f"server from {written} does not answer a signed ListBuckets")
        _info = info
        return dict(info)


def client(info: dict | None = None, *, access_key: str | None = None, secret_key: str | None = None,
           retries: int = 3, connect_timeout: float = 5, read_timeout: float = 60, **config: Any):
    """A boto3 S3 client for the test server: path-style addressing, SigV4, and flexible
    checksums only when an operation requires them (RGW 16.2 does not implement them).
    access_key/secret_key override the test user's (e.g. a wrong secret)."""
    import boto3
    from botocore.config import Config

    info = info or ensure_server()
    cfg = Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                 retries={"max_attempts": retries, "mode": "standard"},
                 connect_timeout=connect_timeout, read_timeout=read_timeout,
                 request_checksum_calculation="when_required",
                 response_checksum_validation="when_required", **config)
    session = boto3.session.Session()
    return session.client("s3", endpoint_url=info["endpoint"], region_name=info["region"],
                          aws_access_key_id=access_key or info["access_key"],
                          aws_secret_access_key=secret_key or info["secret_key"],
                          config=cfg)


_default: Any = None


def _default_client(s3):
    global _default
    if s3 is not None:
        return s3
    if _default is None:
        _default = client()
    return _default


def new_bucket(prefix: str = "hfm", *, s3=None, testcase: unittest.TestCase | None = None) -> str:
    """Creates a bucket with a unique, valid name starting with `prefix`; returns its name.
    With `testcase`, the bucket (and everything in it) is deleted at the test's cleanup."""
    s3 = _default_client(s3)
    p = re.sub(r"[^a-z0-9-]+", "-", prefix.lower()).strip("-")[:30] or "hfm"
    name = f"{p}-{time.strftime('%H%M%S')}-{secrets.token_hex(4)}"
    if len(name) < 3 or not name[0].isalnum():
        name = "b" + name
    s3.create_bucket(Bucket=name)
    if testcase is not None:
        testcase.addCleanup(delete_bucket, name, s3=s3)
    return name


def read_object(bucket: str, key: str, *, s3=None, **kw) -> bytes:
    """The object's bytes (kw go to GetObject, e.g. Range='bytes=0-9')."""
    return _default_client(s3).get_object(Bucket=bucket, Key=key, **kw)["Body"].read()


def head_object(bucket: str, key: str, *, s3=None) -> dict:
    """HEAD: use this for a multipart object's final ETag (RGW's Complete body has none)."""
    return _default_client(s3).head_object(Bucket=bucket, Key=key)


def list_keys(bucket: str, prefix: str = "", *, s3=None) -> list[str]:
    s3 = _default_client(s3)
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys


def list_multipart_uploads(bucket: str, prefix: str = "", *, s3=None) -> list[dict]:
    """In-progress multipart uploads: [{'Key', 'UploadId', 'Initiated', ...}, ...]."""
    s3 = _default_client(s3)
    out = []
    kw: dict[str, Any] = {"Bucket": bucket}
    if prefix:
        kw["Prefix"] = prefix
    while True:
        r = s3.list_multipart_uploads(**kw)
        out += r.get("Uploads", [])
        if not r.get("IsTruncated"):
            return out
        kw["KeyMarker"] = r.get("NextKeyMarker", "")
        kw["UploadIdMarker"] = r.get("NextUploadIdMarker", "")


def list_parts(bucket: str, key: str, upload_id: str, *, s3=None) -> list[dict]:
    """Parts of an in-progress upload: [{'PartNumber', 'ETag', 'Size', ...}, ...]."""
    s3 = _default_client(s3)
    out, marker = [], 0
    while True:
        r = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id, PartNumberMarker=marker)
        out += r.get("Parts", [])
        if not r.get("IsTruncated"):
            return out
        marker = int(r["NextPartNumberMarker"])


def delete_bucket(bucket: str, *, s3=None) -> None:
    """Aborts its uploads, deletes every object (one DELETE each: no DeleteObjects, whose
    Content-MD5/checksum requirements differ between botocore and RGW 16.2) and the bucket."""
    s3 = _default_client(s3)
    try:
        for u in list_multipart_uploads(bucket, s3=s3):
            s3.abort_multipart_upload(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"])
        for k in list_keys(bucket, s3=s3):
            s3.delete_object(Bucket=bucket, Key=k)
        s3.delete_bucket(Bucket=bucket)
    except s3.exceptions.NoSuchBucket:
        pass


def tool_env(info: dict | None = None, *, for_rclone: bool = False, base: dict | None = None) -> dict:
    """Environment for a child process (aws CLI, hfmirror, rclone) that talks to the server:
    the server's variables plus AWS_DEFAULT_REGION, no profile or session token from the
    caller, and flexible checksums only when required. for_rclone drops AWS_CA_BUNDLE
    (rclone 1.60 fails with LoadCustomCABundleError when it is set)."""
    info = info or ensure_server()
    env = dict(os.environ if base is None else base)
    for k in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
              "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        env.pop(k, None)
    env.update(info["env"])
    env["AWS_DEFAULT_REGION"] = info["region"]
    env["AWS_REQUEST_CHECKSUM_CALCULATION"] = "when_required"
    env["AWS_RESPONSE_CHECKSUM_VALIDATION"] = "when_required"
    if for_rclone:
        env.pop("AWS_CA_BUNDLE", None)
    return env
