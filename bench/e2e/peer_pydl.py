#!/usr/bin/env python3
"""The original design's download step, as a peer: what huggingface_hub's snapshot_download does.

Lists the repo with the paginated /tree API (recursive), then downloads every file with ONE
HTTP stream per file, 8 files at a time (ThreadPoolExecutor(max_workers=8), like
snapshot_download's default), following redirects to the CDN, in 10 MiB chunks into
`<path>.incomplete`, renamed into place when done. Python stdlib only.

  peer_pydl.py HUB_ENDPOINT REPO_ID OUT_DIR [--workers 8] [--revision main]
"""
import argparse, concurrent.futures, json, os, re, sys, urllib.parse, urllib.request

CHUNK = 10 * 1024 * 1024


def list_tree(hub, repo, rev):
    url = f"{hub}/api/models/{repo}/tree/{urllib.parse.quote(rev, safe='')}?recursive=true"
    out = []
    while url:
        with urllib.request.urlopen(url) as r:
            out += [e for e in json.load(r) if e.get("type") == "file"]
            m = re.search(r'<([^>]+)>;\s*rel="next"', r.headers.get("Link", "") or "")
            url = m.group(1) if m else None
    return out


def commit_of(hub, repo, rev):
    with urllib.request.urlopen(f"{hub}/api/models/{repo}/revision/{urllib.parse.quote(rev, safe='')}") as r:
        return json.load(r)["sha"]


def fetch(hub, repo, commit, path, out):
    dst = os.path.join(out, path)
    os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
    url = f"{hub}/{repo}/resolve/{commit}/{urllib.parse.quote(path)}"
    n = 0
    with urllib.request.urlopen(url) as r, open(dst + ".incomplete", "wb") as f:
        while True:
            b = r.read(CHUNK)
            if not b:
                break
            f.write(b)
            n += len(b)
    os.replace(dst + ".incomplete", dst)
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("hub"); ap.add_argument("repo"); ap.add_argument("out")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--revision", default="main")
    a = ap.parse_args()
    commit = commit_of(a.hub, a.repo, a.revision)
    files = list_tree(a.hub, a.repo, commit)
    total = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.workers) as ex:
        for n in ex.map(lambda e: fetch(a.hub, a.repo, commit, e["path"], a.out), files):
            total += n
    print(json.dumps({"files": len(files), "bytes": total}))


if __name__ == "__main__":
    sys.exit(main())
