#!/usr/bin/env python3
"""Signs SigV4 test cases with botocore, as an independent oracle for src/auth/sigv4.

Reads a JSON array of cases on stdin and writes
{"botocore_version": "...", "results": [...]} on stdout (results in case order). Driven by the gtest SigV4.MatchesBotocore; can be run by
hand:  echo '[{...}]' | python3 tests/unit/sigv4_botocore_check.py

A case:
  {"id": 3, "method": "PUT", "scheme": "https", "host": "localhost:9000",
   "raw_path": "/bucket/dir/a b.bin",            # decoded; encoded here the way botocore's
                                                 # REST serializer encodes a {Key+} label
   "query": [["partNumber", "1"], ["uploadId", "a/b"]],   # decoded pairs
   "headers": [["x-amz-meta-a", "  b  c "]],
   "body": "hello", "unsigned": false,           # UNSIGNED-PAYLOAD when unsigned
   "access_key": "...", "secret_key": "...", "token": null,
   "timestamp": "20130524T000000Z", "region": "us-east-1",
   "presign": false, "expires": 3600}
A result:
  {"id": 3, "path": "/bucket/dir/a%20b.bin", "signature": "…",
   "authorization": "…", "canonical_request": "…"}       # header auth
  {"id": 3, "path": "…", "signature": "…", "url": "…"}   # presign

Exit status 77 when botocore cannot be imported (the caller decides whether
that skips or fails: under CI=true it fails).
"""

import datetime
import json
import sys
from unittest import mock

try:
    import botocore
    from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.config import Config
    from botocore.credentials import Credentials
    from botocore.utils import percent_encode
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"sigv4_botocore_check: botocore is not importable: {e}", file=sys.stderr)
    sys.exit(77)

from urllib.parse import parse_qs, urlsplit


def sign_case(case):
    # botocore's rest-xml serializer encodes greedy {Key+} labels like this.
    path = percent_encode(case["raw_path"], safe="/~")
    url = f'{case.get("scheme", "https")}://{case["host"]}{path}'
    body = case.get("body")
    request = AWSRequest(
        method=case["method"],
        url=url,
        data=body.encode("utf-8") if body else None,
        params=[tuple(p) for p in case.get("query", [])],
    )
    for name, value in case.get("headers", []):
        request.headers[name] = value  # HTTPMessage appends: repeated headers stay repeated
    if case.get("unsigned"):
        request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    creds = Credentials(case["access_key"], case["secret_key"], case.get("token"))
    when = datetime.datetime.strptime(case["timestamp"], "%Y%m%dT%H%M%SZ")

    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        if case.get("presign"):
            signer = S3SigV4QueryAuth(creds, "s3", case["region"], expires=case["expires"])
            signer.add_auth(request)
            signature = parse_qs(urlsplit(request.url).query)["X-Amz-Signature"][0]
            return {"id": case["id"], "path": path, "signature": signature, "url": request.url}
        signer = S3SigV4Auth(creds, "s3", case["region"])
        signer.add_auth(request)
        authorization = request.headers["Authorization"]
        # Recompute the canonical request for diagnostics, without the header just added.
        del request.headers["Authorization"]
        canonical_request = signer.canonical_request(request)
    signature = authorization.rsplit("Signature=", 1)[1]
    return {
        "id": case["id"],
        "path": path,
        "signature": signature,
        "authorization": authorization,
        "canonical_request": canonical_request,
    }


def main():
    cases = json.load(sys.stdin)
    results = [sign_case(c) for c in cases]
    json.dump({"botocore_version": botocore.__version__, "results": results}, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
