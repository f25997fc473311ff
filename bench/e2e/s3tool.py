#!/usr/bin/env python3
"""boto3 helpers for the benchmark (not timed, except `upload-ceiling`).

  s3tool.py ENDPOINT mkbucket BUCKET
  s3tool.py ENDPOINT rmprefix BUCKET PREFIX          # delete objects + abort multipart uploads
  s3tool.py ENDPOINT size BUCKET PREFIX              # {"objects": n, "bytes": b} (skips .hfmirror/)
  s3tool.py ENDPOINT upload-ceiling BUCKET PREFIX FILE...   # 16 MiB parts, 8 threads, all files
Credentials and region come from the environment.
"""
import json, os, sys
import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config


def client(ep, pool=16):
    return boto3.client("s3", endpoint_url=ep, region_name=os.environ.get("AWS_REGION", "us-east-1"),
                        config=Config(s3={"addressing_style": "path"}, max_pool_connections=pool,
                                      retries={"max_attempts": 3}))


def objects(s3, bucket, prefix):
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        yield from page.get("Contents", [])


def main():
    ep, cmd, bucket = sys.argv[1], sys.argv[2], sys.argv[3]
    rest = sys.argv[4:]
    s3 = client(ep)
    if cmd == "mkbucket":
        try:
            s3.create_bucket(Bucket=bucket)
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass
        except Exception as e:  # RGW may answer BucketAlreadyExists for our own bucket
            if "BucketAlreadyExists" not in str(e):
                raise
    elif cmd == "rmprefix":
        prefix = rest[0]
        keys = [{"Key": o["Key"]} for o in objects(s3, bucket, prefix)]
        for i in range(0, len(keys), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys[i:i + 1000], "Quiet": True})
        for u in s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"])
    elif cmd == "size":
        n = b = 0
        for o in objects(s3, bucket, rest[0]):
            if "/.hfmirror/" in "/" + o["Key"]:
                continue
            n += 1; b += o["Size"]
        print(json.dumps({"objects": n, "bytes": b}))
    elif cmd == "upload-ceiling":
        prefix, files = rest[0], rest[1:]
        cfg = TransferConfig(multipart_threshold=16 << 20, multipart_chunksize=16 << 20, max_concurrency=8,
                             use_threads=True)
        from s3transfer.manager import TransferManager
        tm = TransferManager(s3, cfg)
        futs = [tm.upload(f, bucket, f"{prefix}{i:04d}-{os.path.basename(f)}") for i, f in enumerate(files)]
        for f in futs:
            f.result()
        tm.shutdown()
        print(json.dumps({"files": len(files), "bytes": sum(os.path.getsize(f) for f in files)}))
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
