#!/usr/bin/env python3
"""Hugging Face Hub emulator for hfmirror tests. Python 3.11 standard library only.

What it does
  * Plays the Hub as a downloading client sees it (docs: hub-protocol.md sections 1-7):
    GET /api/{t}s/{id}[/revision/{rev}] (blobs, expand), /tree/{rev}[/{path}] (recursive,
    expand, limit, cursor, Link pagination), /refs, /commits/{rev}, POST /paths-info/{rev},
    /xet-read-token/{rev} (token only), /api/whoami-v2, and HEAD|GET /{prefix}{id}/resolve/{rev}/{path}
    with the real response shapes: 307 to /api/resolve-cache for public regular files, 200 with
    the bytes for private or gated regular files, 302 to a signed CDN URL for LFS files.
  * Runs a second listener as the signed CDN ("xet bridge"). It checks the signature and expiry,
    serves Range requests, answers with ETag = xet hash, and rejects (400) any request that
    carries an Authorization header, as the real CDN does with presigned URLs.
  * Reproduces the Hub's errors (401/403/404 with X-Error-Code / X-Error-Message), RateLimit
    headers on every Hub response, 307s for renamed and case-mismatched repo ids.
  * Generates file contents deterministically from JSON specs and caches them as blob files in
    --data-dir, so big files are generated once and then served with sendfile().
  * Exposes a control API under /_emulator/ (request log, expected hashes, moving branches,
    fault injection: 429, 5xx, slow Hub answers, corrupt bytes, ignored Range, connection
    resets, slow bodies, stalled bodies, expired signed URLs).
  * With --tls-cert/--tls-key, both listeners speak HTTPS and the emitted URLs are https://.
    Each connection is sniffed: one that starts with a TLS handshake gets TLS, anything else
    plain HTTP on the same port, so the control API (and test helpers) keep using http://.

What it does not do
  * No uploads, no git smart-HTTP, no Xet CAS (reconstructions), no pull requests or
    refs/convert, no gzip content coding, no spaces/kernels specific metadata. TLS has no
    client certificates and no ALPN (HTTP/1.1 only).
  * RateLimit counters only feed the headers; nothing is throttled unless a fault says so.
  * Multi-range requests (bytes=0-1,5-6) and malformed Range headers are ignored (full 200),
    which RFC 9110 allows and S3/CloudFront do.

Run it:  python3 hub_emulator.py --spec specs/testrepos.json --data-dir /tmp/hubdata
See README.md next to this file for the spec format and the control API.
"""

import argparse
import base64
import binascii
import calendar
import datetime
import hashlib
import hmac
import http.server
import itertools
import json
import os
import random
import re
import select
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import traceback
import urllib.parse

SMALL_BLOB = 1 << 20  # generated blobs up to this size are content-addressed, no sidecar
BLOCK = 1 << 20  # generation block; each block has its own RNG so blocks are independent
LFS_POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:{sha}\nsize {size}\n"
TYPE_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/", "kernel": "kernels/"}
PLURAL = {t + "s": t for t in TYPE_PREFIX}
TREE_PAGE, TREE_PAGE_EXPANDED, COMMITS_PAGE = 1000, 50, 50
RATE_QUOTA = {"api": 1000, "resolvers": 5000}
RATE_WINDOW = 300
EXPOSE_HEADERS = ("X-Repo-Commit,X-Request-Id,X-Error-Code,X-Error-Message,X-Total-Count,ETag,Link,"
                  "Accept-Ranges,Content-Range,X-Linked-Size,X-Linked-ETag,X-Xet-Hash")
WWW_AUTH = 'Bearer realm="Authentication required", charset="UTF-8"'
MSG_BAD_CREDS = "Invalid username or password."
EXPAND_COMMON = {"author", "cardData", "createdAt", "disabled", "downloads", "downloadsAllTime",
                 "gated", "lastModified", "likes", "private", "resourceGroup", "sha", "siblings",
                 "tags", "trendingScore", "usedStorage"}
EXPAND_ALLOWED = {
    "model": EXPAND_COMMON | {"baseModels", "childrenModelCount", "config", "evalResults", "gguf",
                              "inference", "inferenceProviderMapping", "library_name", "mask_token",
                              "model-index", "pipeline_tag", "safetensors", "spaces",
                              "transformersInfo", "widgetData"},
    "dataset": EXPAND_COMMON | {"citation", "description", "mainSize", "paperswithcode_id"},
    "space": EXPAND_COMMON | {"datasets", "models", "region", "runtime", "sdk", "subdomain"},
    "kernel": EXPAND_COMMON,
}
SHA_RE = re.compile(r"[0-9a-f]{40}")
SHORT_SHA_RE = re.compile(r"[0-9a-f]{7,39}")


class SpecError(Exception):
    pass


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def iso(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


# --------------------------------------------------------------------------------------------
# Content generation and the blob cache
# --------------------------------------------------------------------------------------------

def _vocab():
    rng = random.Random("hub-emulator-vocab")
    syl = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "shi", "en", "ar", "is", "ul", "om", "pe",
           "qu", "zy", "be", "dra", "fo", "gin", "hal", "ix", "jo", "tor"]
    return ["".join(rng.choice(syl) for _ in range(rng.randint(1, 4))) for _ in range(4096)]


VOCAB = _vocab()


def binary_chunks(seed, size):
    for block in range((size + BLOCK - 1) // BLOCK):
        yield random.Random(f"{seed}:{block}").randbytes(min(BLOCK, size - block * BLOCK))


def text_chunks(seed, size):
    """Printable, JSON-looking lines ("  \"word_123\": 4567,\n"); exactly `size` bytes."""
    nblocks = (size + BLOCK - 1) // BLOCK
    for block in range(nblocks):
        n = min(BLOCK, size - block * BLOCK)
        rng = random.Random(f"{seed}:{block}")
        parts, total = [], 0
        while total < n:
            k = n // 24 + 8  # lines average ~24 bytes
            words = rng.choices(VOCAB, k=k)
            nums = rng.choices(range(1_000_000), k=k)
            chunk = "".join(f'  "{w}_{i % 997}": {v},\n' for i, (w, v) in enumerate(zip(words, nums)))
            parts.append(chunk)
            total += len(chunk)
        data = "".join(parts).encode("ascii")[:n]
        if block == nblocks - 1:
            data = data[:-1] + b"\n"  # end the file on a line break
        yield data


def json_bytes(seed, size) -> bytes:
    """A valid JSON document (tokenizer-like) of exactly `size` bytes; built in memory."""
    if size < 3:
        return b"0\n"[:size] if size else b""
    head = '{"version": "1.0", "truncation": null, "model": {"type": "BPE", "vocab": {'
    tail = '}}, "padding": ""}\n'
    if size < len(head) + len(tail):
        return ('"' + "x" * (size - 3) + '"\n').encode()
    rng = random.Random(f"{seed}:json")
    budget = size - len(head) - len(tail)
    entries, used = [], 0
    for i in itertools.count():
        e = f'"{rng.choice(VOCAB)}{i}": {i}'
        add = len(e) + (2 if entries else 0)
        if used + add > budget:
            break
        entries.append(e)
        used += add
    pad = "x" * (budget - used)
    doc = head + ", ".join(entries) + '}}, "padding": "' + pad + '"}\n'
    return doc.encode("ascii")


class Blob:
    """One file content with its hashes. Big blobs live on disk; small ones are kept in memory
    (`data`) and written to `path` only when someone asks for the path (file creation is the
    slow part of loading a 2,500-file repo)."""
    __slots__ = ("_path", "size", "git_sha1", "sha256", "xet_hash", "data", "_lock")

    def __init__(self, path, size, git_sha1, sha256, data=None):
        self._path, self.size, self.git_sha1, self.sha256 = path, size, git_sha1, sha256
        self.data = data
        self._lock = threading.Lock() if data is not None else None
        # A stand-in for the Xet Merkle hash: deterministic, 64 hex, and deliberately != sha256.
        self.xet_hash = hashlib.sha256(b"xet-emulator:" + sha256.encode()).hexdigest()

    @property
    def path(self):
        if self._lock is not None:
            with self._lock:
                if not (os.path.exists(self._path) and os.path.getsize(self._path) == self.size):
                    tmp = f"{self._path}.tmp-{os.getpid()}-{threading.get_ident()}"
                    with open(tmp, "wb") as f:
                        f.write(self.data)
                    os.replace(tmp, self._path)
                self._lock = None
        return self._path


class BlobStore:
    """Content-addressed by *descriptor* (kind, seed, size) so a data dir can be reused."""

    def __init__(self, data_dir):
        self.dir = os.path.join(os.path.abspath(data_dir), "blobs")
        os.makedirs(self.dir, exist_ok=True)
        self._memo = {}
        self._lock = threading.Lock()

    def _tmp(self, path):
        return f"{path}.tmp-{os.getpid()}-{threading.get_ident()}"

    def literal(self, content: bytes) -> Blob:
        sha256 = hashlib.sha256(content).hexdigest()
        key = "lit-" + sha256
        with self._lock:
            if key in self._memo:
                return self._memo[key]
        blob = Blob(os.path.join(self.dir, key), len(content), git_blob_sha1(content), sha256, data=content)
        with self._lock:
            self._memo[key] = blob
        return blob

    def generated(self, kind, seed, size) -> Blob:
        if kind not in ("binary", "text", "json"):
            raise SpecError(f"unknown kind {kind!r}")
        if size <= SMALL_BLOB:
            # Cheaper to regenerate than to keep a metadata sidecar (2,500-file repos).
            data = b"".join(binary_chunks(seed, size) if kind == "binary" else
                            text_chunks(seed, size) if kind == "text" else [json_bytes(seed, size)])
            return self.literal(data)
        desc = f"v1|{kind}|{seed}|{size}"
        key = "gen-" + hashlib.sha256(desc.encode()).hexdigest()[:40]
        with self._lock:
            if key in self._memo:
                return self._memo[key]
        path = os.path.join(self.dir, key)
        meta_path = path + ".json"
        blob = None
        try:  # reuse a blob generated by an earlier run
            with open(meta_path) as f:
                meta = json.load(f)
            if meta["descriptor"] == desc and os.path.getsize(path) == size:
                blob = Blob(path, size, meta["git_sha1"], meta["sha256"])
        except (OSError, ValueError, KeyError):
            pass
        if blob is None:
            blob = self._generate(kind, seed, size, desc, path, meta_path)
        with self._lock:
            self._memo[key] = blob
        return blob

    def _generate(self, kind, seed, size, desc, path, meta_path) -> Blob:
        # Streamed and hashed while written: a 1 GiB file never sits in memory.
        h1, h256 = hashlib.sha1(b"blob %d\0" % size), hashlib.sha256()
        if kind == "binary":
            chunks = binary_chunks(seed, size)
        elif kind == "text":
            chunks = text_chunks(seed, size)
        else:
            chunks = [json_bytes(seed, size)]
        tmp = self._tmp(path)
        with open(tmp, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
                h1.update(chunk)
                h256.update(chunk)
        os.replace(tmp, path)
        blob = Blob(path, size, h1.hexdigest(), h256.hexdigest())
        tmp = self._tmp(meta_path)
        with open(tmp, "w") as f:
            json.dump({"descriptor": desc, "size": size, "git_sha1": blob.git_sha1,
                       "sha256": blob.sha256}, f)
        os.replace(tmp, meta_path)
        return blob


# --------------------------------------------------------------------------------------------
# Repos, commits, trees
# --------------------------------------------------------------------------------------------

class FileEntry:
    """A file at a commit. Shared between commits while unchanged, so `commit` is the last
    commit that touched it (what /tree?expand=true reports as lastCommit)."""
    __slots__ = ("path", "blob", "lfs", "oid", "pointer_size", "commit", "gen")

    def __init__(self, path, blob, lfs, commit, gen):
        self.path, self.blob, self.lfs, self.commit, self.gen = path, blob, lfs, commit, gen
        if lfs:
            pointer = LFS_POINTER.format(sha=blob.sha256, size=blob.size).encode()
            self.oid, self.pointer_size = git_blob_sha1(pointer), len(pointer)
        else:
            self.oid, self.pointer_size = blob.git_sha1, None

    @property
    def etag(self):
        return self.blob.sha256 if self.lfs else self.blob.git_sha1

    def entry(self):
        d = {"type": "file", "oid": self.oid, "size": self.blob.size, "path": self.path}
        if self.lfs:
            d["lfs"] = {"oid": self.blob.sha256, "size": self.blob.size, "pointerSize": self.pointer_size}
            d["xetHash"] = self.blob.xet_hash
        return d


class Commit:
    def __init__(self, repo, name, index, parent, title, date):
        self.repo, self.name, self.index, self.parent = repo, name, index, parent
        self.title, self.date = title, date
        self.files = {}      # path -> FileEntry (normal files only)
        self.extras = []     # FileEntry or raw dict (hostile tree entries)
        self.sha = None
        self._root = None
        self._listings = {}
        self._lock = threading.Lock()

    def compute_sha(self):
        # Deterministic stand-in for a git commit id. The repo id and commit name are mixed in
        # so that two repos (or two commits) with identical files still get distinct ids.
        h = hashlib.sha1()
        h.update(f"commit\nrepo {self.repo.type}/{self.repo.id}\nname {self.name}\n"
                 f"parent {self.parent.sha if self.parent else ''}\n".encode())
        for path in sorted(self.files):
            h.update(f"{path}\0{self.files[path].oid}\n".encode())
        for e in self.extras:
            h.update(f"extra {e.path if isinstance(e, FileEntry) else e.get('path')}\n".encode())
        self.sha = h.hexdigest()

    def lookup(self, path):
        fe = self.files.get(path)
        if fe is None:
            for e in self.extras:
                if isinstance(e, FileEntry) and e.path == path:
                    return e
        return fe

    # -- tree structure -------------------------------------------------------------------

    def _tree(self):
        with self._lock:
            if self._root is None:
                root = {"dirs": {}, "files": {}}
                for path, fe in self.files.items():
                    parts = path.split("/")
                    node = root
                    for p in parts[:-1]:
                        node = node["dirs"].setdefault(p, {"dirs": {}, "files": {}})
                    node["files"][parts[-1]] = fe
                self._finish(root)
                self._root = root
            return self._root

    def _finish(self, node):
        """Compute git-like tree oids and each directory's last commit, bottom-up."""
        h = hashlib.sha1(b"tree\n")
        last = None
        for name, kind, child in self._children(node):
            if kind == "dir":
                self._finish(child)
                oid, c = child["oid"], child["commit"]
                h.update(f"40000 {name}\0{oid}\n".encode())
            else:
                c = child.commit
                h.update(f"100644 {name}\0{child.oid}\n".encode())
            if last is None or c.index > last.index:
                last = c
        node["oid"], node["commit"] = h.hexdigest(), last or self

    @staticmethod
    def _children(node):
        # git orders tree entries by name, with directories compared as "name/".
        items = [(n + "/", n, "dir", c) for n, c in node["dirs"].items()]
        items += [(n, n, "file", c) for n, c in node["files"].items()]
        items.sort(key=lambda t: t[0])
        return [(n, k, c) for _, n, k, c in items]

    def find_dir(self, path):
        node = self._tree()
        if path:
            for p in path.split("/"):
                node = node["dirs"].get(p)
                if node is None:
                    return None
        return node

    @property
    def root_oid(self):
        return self._tree()["oid"]

    def listing(self, path, recursive):
        """Tree entries (dicts + the object behind each) for a directory, or None if `path`
        is not a directory. Cached: commits are immutable."""
        key = (path, recursive)
        with self._lock:
            if key in self._listings:
                return self._listings[key]
        node = self.find_dir(path)
        if node is None:
            return None
        out = []

        def walk(n, prefix):
            for name, kind, child in self._children(n):
                p = prefix + name
                if kind == "dir":
                    out.append(({"type": "directory", "oid": child["oid"], "size": 0, "path": p}, child))
                    if recursive:
                        walk(child, p + "/")
                else:
                    out.append((child.entry(), child))

        walk(node, path + "/" if path else "")
        for e in self.extras:  # spec extra_tree_entries (hostile paths) go at the end
            epath = e.path if isinstance(e, FileEntry) else str(e.get("path", ""))
            if not path or epath.startswith(path + "/"):
                out.append((e.entry() if isinstance(e, FileEntry) else dict(e), e))
        index = {d["path"]: i for i, (d, _) in enumerate(out)}
        with self._lock:
            self._listings[key] = (out, index)
        return out, index

    def path_info(self, path):
        fe = self.lookup(path)
        if fe is not None:
            return fe.entry(), fe
        node = self.find_dir(path) if path else None
        if node is not None:
            return {"type": "directory", "oid": node["oid"], "size": 0, "path": path}, node
        return None

    def all_files(self):
        out = sorted(self.files.values(), key=lambda f: f.path)
        return out + [e for e in self.extras if isinstance(e, FileEntry)]


def expanded(entry, obj):
    """Add the expand=true fields to a tree entry."""
    d = dict(entry)
    c = obj.commit if isinstance(obj, FileEntry) else (obj.get("commit") if isinstance(obj, dict) else None)
    if isinstance(c, Commit):
        d["lastCommit"] = {"id": c.sha, "title": c.title, "date": c.date}
    if d.get("type") == "file":
        d["securityFileStatus"] = {"status": "safe", "avScan": {"status": "safe"},
                                   "pickleImportScan": {"status": "unscanned"}}
    return d


class Repo:
    def __init__(self, spec, world):
        self.id = spec["id"]
        self.type = spec.get("type", "model")
        if self.type not in TYPE_PREFIX:
            raise SpecError(f"{self.id}: unknown type {self.type!r}")
        self.private = bool(spec.get("private", False))
        self.gated = spec.get("gated", False)
        if self.gated not in (False, "auto", "manual"):
            raise SpecError(f"{self.id}: gated must be false, 'auto' or 'manual'")
        self.renamed_from = list(spec.get("renamed_from", []))
        self.info_extra = dict(spec.get("info", {}))
        self.objid = hashlib.sha1(f"{self.type}/{self.id}".encode()).hexdigest()[:24]
        self.commits, self.by_sha, self.order = {}, {}, []
        self.blobs_by_sha256 = {}  # sha256 -> (Blob, set of repo paths), for the CDN
        self.world = world
        self.spec_extras = list(spec.get("extra_tree_entries", []))
        base_ts = calendar.timegm((2026, 1, 1, 0, 0, 0))
        for i, cs in enumerate(spec.get("commits", [])):
            self._add_commit(cs, i, base_ts + i * 86400, world.store)
        if not self.order:
            raise SpecError(f"{self.id}: no commits")
        self.created_at = self.order[0].date
        self.branches = {}
        self.tags = {}
        for b, c in spec.get("branches", {"main": self.order[-1].name}).items():
            self.branches[b] = self._commit_ref(c).sha
        for t, c in spec.get("tags", {}).items():
            self.tags[t] = self._commit_ref(c).sha
        self.default_branch = spec.get("default_branch", "main")
        if self.default_branch not in self.branches:
            raise SpecError(f"{self.id}: default branch {self.default_branch!r} missing")

    @property
    def prefix(self):
        return TYPE_PREFIX[self.type]

    def _commit_ref(self, ref):
        c = self.commits.get(ref) or self.by_sha.get(ref)
        if c is None and isinstance(ref, str) and SHORT_SHA_RE.fullmatch(ref):
            hits = [c for s, c in self.by_sha.items() if s.startswith(ref)]
            c = hits[0] if len(hits) == 1 else None
        if c is None:
            raise SpecError(f"{self.id}: unknown commit {ref!r}")
        return c

    def _file(self, fs, commit, store, default_seed, inherit=None):
        path = fs.get("path")
        if not isinstance(path, str) or not path:
            raise SpecError(f"{self.id}: file without path: {fs}")
        lfs = bool(fs.get("lfs", inherit.lfs if inherit else False))
        if "content" in fs:
            blob, gen = store.literal(fs["content"].encode("utf-8")), None
        elif "content_base64" in fs:
            blob, gen = store.literal(base64.b64decode(fs["content_base64"])), None
        else:
            kind = fs.get("kind", inherit.gen[0] if inherit and inherit.gen else "binary")
            size = fs.get("size", inherit.blob.size if inherit else None)
            if not isinstance(size, int) or size < 0:
                raise SpecError(f"{self.id}: {path}: needs content or a size")
            seed = fs.get("seed", default_seed)
            blob, gen = store.generated(kind, seed, size), (kind, seed, size)
        fe = FileEntry(path, blob, lfs, commit, gen)
        if inherit is not None and inherit.oid == fe.oid:
            return inherit  # unchanged content keeps its last commit
        return fe

    @staticmethod
    def _check_path(repo_id, path):
        parts = path.split("/")
        if path.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise SpecError(f"{repo_id}: unsafe path {path!r} (use extra_tree_entries for hostile paths)")

    def _expand_files(self, specs):
        for fs in specs:
            if "generate" in fs:
                g = fs["generate"]
                for i in range(g.get("start", 0), g.get("start", 0) + g["count"]):
                    f = {k: v for k, v in g.items() if k not in ("pattern", "count", "start", "seed")}
                    f["path"] = g["pattern"].format(i=i)
                    f["seed"] = f"{g.get('seed', g['pattern'])}:{i}"
                    yield f
            else:
                yield fs

    def _add_commit(self, cs, index, ts, store):
        name = cs.get("name") or f"c{index + 1}"
        if name in self.commits:
            raise SpecError(f"{self.id}: duplicate commit {name}")
        parent = self.commits.get(cs["parent"]) if cs.get("parent") else None
        if cs.get("parent") and parent is None:
            raise SpecError(f"{self.id}: {name}: unknown parent {cs['parent']}")
        c = Commit(self, name, index, parent, cs.get("title", f"Commit {name}"), iso(ts))
        if "files" in cs:
            for fs in self._expand_files(cs["files"]):
                self._check_path(self.id, fs.get("path", ""))
                prev = parent.files.get(fs["path"]) if parent else None
                fe = self._file(fs, c, store, fs["path"])
                c.files[fs["path"]] = prev if prev is not None and prev.oid == fe.oid else fe
        elif parent is not None:
            ch = cs.get("changes", {})
            c.files = dict(parent.files)
            for p in ch.get("delete", []):
                if c.files.pop(p, None) is None:
                    raise SpecError(f"{self.id}: {name}: cannot delete missing {p}")
            for fs in self._expand_files(ch.get("modify", [])):
                prev = c.files.get(fs.get("path"))
                if prev is None:
                    raise SpecError(f"{self.id}: {name}: cannot modify missing {fs.get('path')}")
                c.files[fs["path"]] = self._file(fs, c, store, f"{fs['path']}@{name}", inherit=prev)
            for fs in self._expand_files(ch.get("add", [])):
                self._check_path(self.id, fs.get("path", ""))
                if fs["path"] in c.files:
                    raise SpecError(f"{self.id}: {name}: cannot add existing {fs['path']}")
                c.files[fs["path"]] = self._file(fs, c, store, fs["path"])
        else:
            raise SpecError(f"{self.id}: {name}: needs files or parent+changes")
        # A file and a directory cannot share a name.
        dirs = {p.rsplit("/", 1)[0] for p in c.files if "/" in p}
        for d in list(dirs):
            while "/" in d:
                d = d.rsplit("/", 1)[0]
                dirs.add(d)
        clash = dirs & set(c.files)
        if clash:
            raise SpecError(f"{self.id}: {name}: paths are both file and directory: {sorted(clash)}")
        for e in self.spec_extras:
            if "type" in e:
                c.extras.append(dict(e))
            else:
                c.extras.append(self._file(e, c, store, e["path"]))
        c.compute_sha()
        for fe in list(c.files.values()) + [e for e in c.extras if isinstance(e, FileEntry)]:
            self.blobs_by_sha256.setdefault(fe.blob.sha256, (fe.blob, set()))[1].add(fe.path)
        self.commits[name] = c
        self.by_sha[c.sha] = c
        self.order.append(c)

    def resolve(self, rev):
        """branch | tag | refs/heads/x | refs/tags/x | full sha | unique short sha (>= 7 hex)."""
        if rev is None:
            return None
        with self.world.lock:
            if rev.startswith("refs/heads/"):
                sha = self.branches.get(rev[len("refs/heads/"):])
            elif rev.startswith("refs/tags/"):
                sha = self.tags.get(rev[len("refs/tags/"):])
            else:
                sha = self.branches.get(rev) or self.tags.get(rev)
        if sha:
            return self.by_sha[sha]
        low = rev.lower()
        if SHA_RE.fullmatch(low):
            return self.by_sha.get(low)
        if SHORT_SHA_RE.fullmatch(low):
            hits = [c for s, c in self.by_sha.items() if s.startswith(low)]
            return hits[0] if len(hits) == 1 else None
        return None

    def used_storage(self):
        return sum(b.size for b, _ in self.blobs_by_sha256.values())


class World:
    def __init__(self, specs, store):
        self.store = store
        self.lock = threading.RLock()
        self.repos = []
        self.by_key = {}    # (type, lower id) -> repo
        self.old_ids = {}   # (type, lower old id) -> repo
        self.tokens = {}    # token -> {"grants": set, "user": str}
        for spec in specs:
            for tok, t in spec.get("tokens", {}).items():
                cur = self.tokens.setdefault(tok, {"grants": set(), "user": t.get("user", tok)})
                cur["grants"].update(t.get("grants", []))
            for rs in spec.get("repos", []):
                if "id" not in rs:
                    raise SpecError(f"repo without id: {rs}")
                repo = Repo(rs, self)
                key = (repo.type, repo.id.lower())
                if key in self.by_key:
                    raise SpecError(f"duplicate repo {repo.type} {repo.id}")
                self.by_key[key] = repo
                self.repos.append(repo)
                for old in repo.renamed_from:
                    self.old_ids[(repo.type, old.lower())] = repo
        self.by_objid = {r.objid: r for r in self.repos}

    def find(self, rtype, repo_id):
        """-> (repo or None, needs_redirect)."""
        key = (rtype, repo_id.lower())
        repo = self.by_key.get(key)
        if repo is not None:
            return repo, repo.id != repo_id
        repo = self.old_ids.get(key)
        return repo, repo is not None

    def granted(self, token, repo):
        t = self.tokens.get(token)
        if t is None:
            return False
        g = t["grants"]
        return "*" in g or repo.id in g or f"{repo.type}s/{repo.id}" in g


# --------------------------------------------------------------------------------------------
# Faults, request log, rate-limit counters
# --------------------------------------------------------------------------------------------

class Faults:
    KNOWN = {"rate_limit", "server_error", "cdn_server_error", "corrupt", "cdn_ignore_range",
             "cdn_reset", "cdn_expire", "cdn_slow", "cdn_stall", "hub_delay"}

    def __init__(self):
        self._f = {}
        self._lock = threading.Lock()

    def merge(self, d):
        if not isinstance(d, dict):
            raise ValueError("faults must be a JSON object")
        unknown = set(d) - self.KNOWN
        if unknown:
            raise ValueError(f"unknown faults: {sorted(unknown)}")
        with self._lock:
            for name, cfg in d.items():
                cfg = dict(cfg or {})
                if name == "corrupt" and not cfg.get("path"):
                    raise ValueError("corrupt needs a path")
                # corrupt without a count lasts forever; everything else defaults to once
                cfg["count"] = cfg.get("count", None if name == "corrupt" else 1)
                if cfg["count"] is not None and cfg["count"] <= 0:
                    self._f.pop(name, None)
                else:
                    self._f[name] = cfg

    def clear(self):
        with self._lock:
            self._f.clear()

    def snapshot(self):
        with self._lock:
            return {k: dict(v) for k, v in self._f.items()}

    def take(self, name, url_path="", repo=None, repo_paths=(), when=None):
        """Consume one use of fault `name` if it applies; returns its config or None.
        `when(cfg)` lets the caller say whether the fault would really bite (for example a
        corrupt byte outside the requested range), so that it is not spent for nothing."""
        with self._lock:
            f = self._f.get(name)
            if f is None:
                return None
            if f.get("paths") and f["paths"] not in url_path and f["paths"] not in urllib.parse.unquote(url_path):
                return None
            if f.get("path") and f["path"] not in repo_paths:
                return None
            if f.get("repo") and (repo is None or f["repo"] != repo.id):
                return None
            if when is not None and not when(f):
                return None
            if f["count"] is not None:
                f["count"] -= 1
                if f["count"] <= 0:
                    del self._f[name]
            return dict(f)


class RequestLog:
    def __init__(self):
        self._entries = []
        self._lock = threading.Lock()

    def add(self, entry):
        with self._lock:
            entry["seq"] = len(self._entries)
            self._entries.append(entry)

    def update(self, entry, **kw):
        with self._lock:
            entry.update(kw)

    def dump(self, listener=None, since=0):
        with self._lock:
            return [dict(e) for e in self._entries[since:] if listener in (None, e["listener"])]

    def clear(self):
        with self._lock:
            self._entries.clear()


class RateCounters:
    """Fixed 5-minute windows from server start, one counter per bucket (headers only)."""

    def __init__(self):
        self.t0 = time.monotonic()
        self.counts = {}
        self._lock = threading.Lock()

    def hit(self, bucket):
        elapsed = time.monotonic() - self.t0
        window = int(elapsed // RATE_WINDOW)
        reset = max(1, int(RATE_WINDOW - elapsed % RATE_WINDOW + 0.999))
        with self._lock:
            key = (bucket, window)
            self.counts[key] = self.counts.get(key, 0) + 1
            n = self.counts[key]
            for k in [k for k in self.counts if k[1] < window]:
                del self.counts[k]
        return max(0, RATE_QUOTA[bucket] - n), reset


class State:
    def __init__(self, world, args):
        self.world = world
        self.quiet = args.quiet
        self.faults = Faults()
        self.log = RequestLog()
        self.rate = RateCounters()
        self.secret = args.cdn_secret.encode()
        self.cdn_expires = args.cdn_expires
        self.data_dir = os.path.abspath(args.data_dir)
        self.hub_base = self.cdn_base = None
        self.stats = {"cdn_authorization_rejected": 0, "tls_connections": 0, "tls_handshake_failures": 0,
                      "tls_connections_by_listener": {"hub": 0, "cdn": 0}}
        self.tls_errors = []  # the last few handshake failures, for messages
        self.stats_lock = threading.Lock()
        self.req_counter = itertools.count(1)

    def sign(self, path, date, expires):
        return hmac.new(self.secret, f"{path}\n{date}\n{expires}".encode(), hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------------------------
# HTTP plumbing shared by both listeners
# --------------------------------------------------------------------------------------------

UNSATISFIABLE = "unsatisfiable"


def parse_range(header, size):
    """-> None (serve the whole file), UNSATISFIABLE, or (start, end_inclusive).
    Only a single bytes range is honoured; anything else is ignored as RFC 9110 allows."""
    if header is None:
        return None
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header)
    if not m or m.groups() == ("", ""):
        return None
    a, b = m.groups()
    if a == "":  # suffix range: the last n bytes
        n = int(b)
        if n == 0 or size == 0:
            return UNSATISFIABLE
        return max(0, size - n), size - 1
    start = int(a)
    if b != "" and int(b) < start:
        return None  # syntactically invalid: ignore
    if start >= size:
        return UNSATISFIABLE
    return start, size - 1 if b == "" else min(int(b), size - 1)


def etag_list_matches(header, etag, weak_ok=True):
    if header is None:
        return False
    if header.strip() == "*":
        return True
    for tag in header.split(","):
        tag = tag.strip()
        if tag.startswith("W/"):
            if not weak_ok:
                continue
            tag = tag[2:]
        if tag.strip('"') == etag:
            return True
    return False


def content_disposition(filename):
    name = filename.rsplit("/", 1)[-1]
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in name)
    return f"inline; filename*=UTF-8''{urllib.parse.quote(name, safe='')}; filename=\"{ascii_name}\";"


def content_type_for(path):
    ext = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if ext == "json":
        return "application/json; charset=utf-8"
    if ext in ("txt", "md", "csv", "py", "yaml", "yml", "jsonl"):
        return "text/plain; charset=utf-8"
    return "application/octet-stream"


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True       # idle keep-alive connections must not block shutdown
    request_queue_size = 512
    allow_reuse_address = True

    def __init__(self, addr, handler, state, ssl_context=None):
        self.state = state
        self.ssl_context = ssl_context  # None: plain HTTP only
        super().__init__(addr, handler)

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError, OSError)):
            return  # clients hang up all the time in fault tests
        super().handle_error(request, client_address)


class BaseHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hub-emulator/1"

    def version_string(self):
        return self.server_version
    timeout = 120  # an idle keep-alive connection frees its thread eventually
    listener = "?"
    _entry = None

    @property
    def state(self) -> State:
        return self.server.state

    def setup(self):
        self.tls = False
        if self.server.ssl_context is not None:
            self._start_tls_if_asked()
        super().setup()
        # Without this, header and body writes of small responses hit Nagle + delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _start_tls_if_asked(self):
        """TLS when the client's first byte opens a TLS handshake record (0x16), else plain HTTP
        on the same port. Runs on the connection's own thread, so a slow or failing handshake
        blocks nobody else."""
        st = self.state
        self.request.settimeout(self.timeout)
        try:
            first = self.request.recv(1, socket.MSG_PEEK)
        except OSError:
            return  # gone already: handle() sees EOF
        if first != b"\x16":
            return
        try:
            self.request = self.server.ssl_context.wrap_socket(self.request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            # Typically the client refused our certificate (alert "unknown ca"): counted, so a
            # test can tell a TLS refusal from a connection that never happened.
            with st.stats_lock:
                st.stats["tls_handshake_failures"] += 1
                st.tls_errors.append(str(e)[:200])
                del st.tls_errors[:-10]
            raise
        self.tls = True
        with st.stats_lock:
            st.stats["tls_connections"] += 1
            st.stats["tls_connections_by_listener"][self.listener] += 1

    def log_message(self, fmt, *args):
        if not self.state.quiet:
            sys.stderr.write(f"[{self.listener}] {self.address_string()} {fmt % args}\n")

    def send_response(self, code, message=None):
        self._sent = set()
        self._status = code
        super().send_response(code, message)
        if self._entry is not None:
            self.state.log.update(self._entry, status=code)

    def send_header(self, keyword, value):
        value = str(value)
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:  # header values are bytes on the wire: send raw UTF-8
            value = value.encode("utf-8").decode("latin-1")
        if hasattr(self, "_sent"):
            self._sent.add(keyword.lower())
        super().send_header(keyword, value)

    def end_headers(self):
        self.extra_headers()
        super().end_headers()

    def extra_headers(self):
        pass

    # -- request entry point -------------------------------------------------------------

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                line = self.rfile.readline(1024)
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(n)
                self.rfile.readline(1024)
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0:
            raise ValueError("negative Content-Length")
        return self.rfile.read(n) if n else b""

    def _dispatch(self):
        self._entry = None
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self.send_error(400, "Bad request body")
            return
        target = self.path
        if "://" in target.split("?", 1)[0]:  # absolute-form request target
            target = urllib.parse.urlsplit(target)._replace(scheme="", netloc="").geturl()
        self.raw_path, _, self.query_string = target.partition("?")
        self.raw_path = self.raw_path or "/"
        self.query = urllib.parse.parse_qsl(self.query_string, keep_blank_values=True)
        if self.should_record():
            hdrs = {}
            for k, v in self.headers.items():
                k = k.lower()
                hdrs[k] = f"{hdrs[k]}, {v}" if k in hdrs else v
            self._entry = {"listener": self.listener, "host": self.headers.get("Host"),
                           "method": self.command, "path": self.raw_path, "query": self.query_string,
                           "headers": hdrs, "status": None, "range": self.headers.get("Range"),
                           "time": time.time(), "tls": self.tls}
            self.state.log.add(self._entry)
        self._status = None
        self.body = body
        try:
            self.handle_request(body)
        except (ConnectionError, TimeoutError, socket.timeout):
            self.close_connection = True
        except Exception:  # a bug in the emulator: say so loudly, keep serving
            traceback.print_exc()
            self.close_connection = True
            if self._status is None:
                self.respond(500, json.dumps({"error": "emulator bug, see its stderr"}),
                             content_type="application/json; charset=utf-8")
        finally:
            # The handler object lives as long as the keep-alive connection: reset per-request state.
            self._entry = None
            self.reset_request_state()

    def reset_request_state(self):
        pass

    def handle_expect_100(self):
        self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        return True

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _dispatch

    def should_record(self):
        return True

    def note_fault(self, name):
        if self._entry is not None:
            self.state.log.update(self._entry, fault=name)

    def qget(self, name, default=None):
        for k, v in self.query:
            if k == name:
                return v
        return default

    def qall(self, *names):
        return [v for k, v in self.query if k in names]

    # -- responses ----------------------------------------------------------------------

    def respond(self, status, body=b"", headers=(), content_type=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def serve_blob(self, blob, etag, headers, content_type, repo=None, repo_paths=(), cdn=False):
        """200/206/304/416 for a blob, with faults applied. `headers` are sent on every answer."""
        size = blob.size
        headers = list(headers) + [("ETag", f'"{etag}"'), ("Accept-Ranges", "bytes")]
        if etag_list_matches(self.headers.get("If-None-Match"), etag):
            self.send_response(304)
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            return
        rng_header = self.headers.get("Range")
        if rng_header is not None and self.headers.get("If-Range") is not None \
                and not etag_list_matches(self.headers.get("If-Range"), etag, weak_ok=False):
            rng_header = None  # validator changed (or is a date we cannot check): full body
        faults, path = self.state.faults, self.raw_path
        if cdn and rng_header is not None and faults.take("cdn_ignore_range", path, repo, repo_paths):
            self.note_fault("cdn_ignore_range")
            rng_header = None
        rng = parse_range(rng_header, size)
        if rng == UNSATISFIABLE:
            body = self.unsatisfiable_body()
            self.respond(416, body, headers + [("Content-Range", f"bytes */{size}")],
                         content_type="application/xml" if cdn else "text/plain; charset=utf-8")
            return
        start, end = rng if rng else (0, size - 1)
        length = end - start + 1 if size else 0
        self.send_response(206 if rng else 200)
        self.send_header("Content-Type", content_type)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(length))
        if rng:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if self.command == "HEAD" or length == 0:
            return

        def corrupt_hits(f):
            off = min(int(f.get("offset", size // 2)), size - 1)
            return start <= off <= end

        corrupt = faults.take("corrupt", path, repo, repo_paths, when=corrupt_hits)
        reset = slow = stall = None
        if cdn:
            reset = faults.take("cdn_reset", path, repo, repo_paths,
                                when=lambda f: int(f.get("after_bytes", 0)) < length)
            if not reset:
                stall = faults.take("cdn_stall", path, repo, repo_paths,
                                    when=lambda f: int(f.get("after_bytes", 0)) < length)
            slow = faults.take("cdn_slow", path, repo, repo_paths)
        for name, f in (("corrupt", corrupt), ("cdn_reset", reset), ("cdn_stall", stall), ("cdn_slow", slow)):
            if f:
                self.note_fault(name)
        cut = reset or stall
        budget = min(length, int(cut.get("after_bytes", 0))) if cut else length
        flip = min(int(corrupt.get("offset", size // 2)), size - 1) if corrupt else None
        if blob.data is not None:
            self._send_memory(blob.data, start, budget, flip, slow)
        else:
            with open(blob.path, "rb") as fh:
                self._send_range(fh, start, budget, flip, slow)
        if reset:
            self._drop_connection(bool(reset.get("rst")))
        if stall:
            self._stall(float(stall.get("hold_seconds", 300)))

    def _stall(self, hold_seconds):
        """The body stops mid-way and the connection stays open, silent, until the client gives up
        (closes it) or hold_seconds pass; the log entry says which and when."""
        t0 = time.monotonic()
        ended = "hold_expired"
        while time.monotonic() - t0 < hold_seconds:
            try:
                readable, _, _ = select.select([self.connection], [], [], 0.2)
            except (OSError, ValueError):
                readable = True
            if readable:  # EOF (or a byte we will never read): the client is done with us
                ended = "client_closed"
                break
        if self._entry is not None:
            self.state.log.update(self._entry, stall_end=ended, stall_seconds=round(time.monotonic() - t0, 3))
        self._drop_connection(False)

    def _send_memory(self, data, start, count, flip, slow):
        buf = bytearray(data[start:start + count])
        if flip is not None and start <= flip < start + count:
            buf[flip - start] ^= 0xFF
        if not slow:
            self.wfile.write(buf)
            return
        fast = max(0, min(count, int(slow.get("after_bytes", 0))))
        self.wfile.write(buf[:fast])
        rate = max(1, int(slow.get("bytes_per_sec", 1 << 20)))
        step = max(1, rate // 20)
        for pos in range(fast, count, step):
            self.wfile.write(buf[pos:pos + step])
            time.sleep(len(buf[pos:pos + step]) / rate)

    def _send_range(self, fh, start, count, flip, slow):
        sock = self.connection
        pos, end = start, start + count
        while pos < end:
            if flip is not None and pos == flip:
                b = os.pread(fh.fileno(), 1, pos)
                self.wfile.write(bytes([b[0] ^ 0xFF]))  # one flipped byte, headers unchanged
                pos += 1
                continue
            stop = flip if flip is not None and pos < flip < end else end
            if slow:
                # Slow tail: full speed up to after_bytes, then bytes_per_sec in small steps.
                fast_until = start + int(slow.get("after_bytes", 0))
                if pos < fast_until:
                    stop = min(stop, fast_until)
                else:
                    rate = max(1, int(slow.get("bytes_per_sec", 1 << 20)))
                    step = min(stop - pos, max(1, rate // 20))
                    sock.sendfile(fh, pos, step)
                    pos += step
                    time.sleep(step / rate)
                    continue
            pos += sock.sendfile(fh, pos, stop - pos)

    def _drop_connection(self, rst):
        self.close_connection = True
        try:
            if rst:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()  # RST instead of FIN
            else:
                self.connection.shutdown(socket.SHUT_WR)  # FIN: the body is simply short
        except OSError:
            pass

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass
        if self.tls:
            # The server closes the socket it accepted, which wrap_socket detached: close ours.
            try:
                self.request.close()
            except OSError:
                pass

    def unsatisfiable_body(self):
        return "Requested Range Not Satisfiable"


# --------------------------------------------------------------------------------------------
# The CDN listener (signed URLs, host 127.0.0.1)
# --------------------------------------------------------------------------------------------

class CdnHandler(BaseHandler):
    listener = "cdn"

    def s3_error(self, status, code, message, extra=""):
        rid = f"{next(self.state.req_counter):016X}"
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                f"<Message>{message}</Message>{extra}<RequestId>{rid}</RequestId></Error>")
        self.respond(status, body, content_type="application/xml")

    def unsatisfiable_body(self):
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidRange</Code>'
                "<Message>The requested range is not satisfiable</Message></Error>")

    def handle_request(self, body):
        st = self.state
        if self.command not in ("GET", "HEAD"):
            return self.s3_error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
        if "Authorization" in self.headers:
            # The real CDN refuses presigned URL + Authorization; a client that sends its HF
            # token here is leaking it. Counted so tests can assert on it cheaply.
            with st.stats_lock:
                st.stats["cdn_authorization_rejected"] += 1
            self.note_fault("authorization_rejected")
            return self.s3_error(400, "InvalidArgument",
                                 "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                                 "Signature query string parameter or the Authorization header should be specified",
                                 "<ArgumentName>Authorization</ArgumentName>")
        segs = self.raw_path.split("/")
        repo = st.world.by_objid.get(segs[2]) if len(segs) == 4 and segs[1] == "xet-bridge-us" else None
        found = repo.blobs_by_sha256.get(segs[3]) if repo else None
        paths = found[1] if found else ()
        f = st.faults.take("cdn_server_error", self.raw_path, repo, paths)
        if f:
            self.note_fault("cdn_server_error")
            return self.s3_error(int(f.get("status", 503)), "ServiceUnavailable", "Please reduce your request rate.")
        expired_body = "Request has expired"
        if st.faults.take("cdn_expire", self.raw_path, repo, paths):
            self.note_fault("cdn_expire")
            return self.s3_error(403, "AccessDenied", expired_body)
        date, expires = self.qget("X-Amz-Date"), self.qget("X-Amz-Expires")
        sig = self.qget("X-Amz-Signature")
        if not (date and expires and sig and expires.isdigit()):
            return self.s3_error(403, "AccessDenied", "Query-string authentication requires the "
                                 "X-Amz-Date, X-Amz-Expires and X-Amz-Signature parameters")
        if not hmac.compare_digest(sig, st.sign(self.raw_path, date, expires)):
            return self.s3_error(403, "SignatureDoesNotMatch", "The request signature we calculated does not "
                                 "match the signature you provided.")
        try:
            t0 = calendar.timegm(time.strptime(date, "%Y%m%dT%H%M%SZ"))
        except ValueError:
            return self.s3_error(403, "AccessDenied", "X-Amz-Date must be in the ISO8601 Long Format")
        now = time.time()
        if now > t0 + int(expires):
            return self.s3_error(403, "AccessDenied", expired_body,
                                 f"<X-Amz-Expires>{expires}</X-Amz-Expires>"
                                 f"<Expires>{iso(t0 + int(expires))}</Expires><ServerTime>{iso(now)}</ServerTime>")
        if not found:
            return self.s3_error(404, "NoSuchKey", "The specified key does not exist.")
        blob = found[0]
        headers = [("Last-Modified", self.date_time_string(t0 - 86400)),
                   ("X-Cache", "Hit from emulator")]
        disp = self.qget("response-content-disposition")
        if disp:
            headers.append(("Content-Disposition", disp))
        # ETag is the xet hash, not the sha256: clients must take the content id from the Hub.
        self.serve_blob(blob, blob.xet_hash, headers, "application/octet-stream", repo=repo, repo_paths=paths, cdn=True)


# --------------------------------------------------------------------------------------------
# The Hub listener (host localhost)
# --------------------------------------------------------------------------------------------

API_KEYWORDS = {"revision", "tree", "refs", "paths-info", "commits", "xet-read-token", "resolve"}


class HubHandler(BaseHandler):
    listener = "hub"
    _bucket = None

    def reset_request_state(self):
        self._bucket = None

    def should_record(self):
        return not self.raw_path.startswith("/_emulator/")

    def extra_headers(self):
        if self._bucket and "ratelimit" not in getattr(self, "_sent", ()):
            b, (r, t) = self._bucket, self._rate
            self.send_header("RateLimit", f'"{b}";r={r};t={t}')
            self.send_header("RateLimit-Policy", f'"fixed window";"{b}";q={RATE_QUOTA[b]};w={RATE_WINDOW}')
        if "x-request-id" not in getattr(self, "_sent", ()):
            rid = f"Root=1-{int(time.time()):08x}-{next(self.state.req_counter):024x}"
            hdrs = getattr(self, "headers", None)
            trace = hdrs.get("X-Amzn-Trace-Id") if hdrs is not None else None
            self.send_header("X-Request-Id", f"{rid};{trace}" if trace else rid)
        self.send_header("Access-Control-Expose-Headers", EXPOSE_HEADERS)
        self.send_header("X-Powered-By", "huggingface-moon")

    # -- helpers ------------------------------------------------------------------------

    def send_json(self, status, obj, headers=()):
        body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = list(headers)
        if status == 200:
            digest = base64.b64encode(hashlib.sha1(body).digest()).decode()[:27]
            headers.append(("ETag", f'W/"{len(body):x}-{digest}"'))
        if not any(k.lower() == "vary" for k, _ in headers):
            headers.append(("Vary", "Origin"))
        self.respond(status, body, headers, content_type="application/json; charset=utf-8")

    def fail(self, status, message, code=None, api=True, headers=()):
        hdrs = list(headers)
        if code:
            hdrs.append(("X-Error-Code", code))
        hdrs.append(("X-Error-Message", message))
        if status == 401:
            hdrs.append(("WWW-Authenticate", WWW_AUTH))
        if api:
            self.send_json(status, {"error": message}, hdrs)
        else:
            self.respond(status, message, hdrs, content_type="text/plain; charset=utf-8")

    def fail_revision(self, rev):
        # RevisionNotFound carries a JSON body on every route, resolve included.
        msg = f"Invalid rev id: {rev}"
        self.send_json(404, {"error": msg}, [("X-Error-Code", "RevisionNotFound"), ("X-Error-Message", msg)])

    def check_access(self, repo, content, api):
        """Hub auth rules (hub-protocol.md §4.1, §5). Sends the error and returns False."""
        w = self.state.world
        if self.token_invalid:
            self.fail(401, MSG_BAD_CREDS, api=api)
            return False
        if repo is None or (repo.private and not w.granted(self.token, repo)):
            if self.token is None:  # nonexistent and private look the same without a token
                self.fail(401, MSG_BAD_CREDS, api=api)
            else:
                self.fail(404, "Repository not found", "RepoNotFound", api=api)
            return False
        if content and repo.gated and not w.granted(self.token, repo):
            if self.token is None:
                self.fail(401, f"Access to {repo.type} {repo.id} is restricted. You must have access to it "
                               "and be authenticated to access it. Please log in.", "GatedRepo", api=api)
            else:
                self.fail(403, f"Access to {repo.type} {repo.id} is restricted and you are not in the "
                               f"authorized list. Visit {self.state.hub_base}/{repo.prefix}{repo.id} to ask "
                               "for access.", "GatedRepo", api=api)
            return False
        return True

    def match_repo(self, rtype, segs):
        """Find the repo id at the start of raw path segments: known ids (2 then 1 segments)
        first, else guess. -> (repo or None, segments used, id as the client wrote it)."""
        w = self.state.world
        for n in (2, 1):
            if len(segs) >= n:
                rid = urllib.parse.unquote("/".join(segs[:n]))
                repo, _ = w.find(rtype, rid)
                if repo is not None:
                    return repo, n, rid
        n = 2 if len(segs) >= 2 and segs[1] not in API_KEYWORDS else 1
        return None, n, urllib.parse.unquote("/".join(segs[:n]))

    def redirect_to_canonical(self, head, repo, n, segs):
        """Relative 307 with the canonical id (renamed or case-mismatched ids)."""
        new = "/".join(urllib.parse.quote(p, safe="") for p in repo.id.split("/"))
        loc = head + new + ("/" + "/".join(segs[n:]) if len(segs) > n else "")
        if self.query_string:
            loc += "?" + self.query_string
        self.respond(307, f"Temporary Redirect. Redirecting to {loc}", [("Location", loc)],
                     content_type="text/plain; charset=utf-8")

    @staticmethod
    def split_rev(segs):
        """Revision = one %2F-encoded segment; tolerate a raw refs/pr/N from hand-written clients."""
        if not segs:
            return None, []
        first = urllib.parse.unquote(segs[0])
        if first == "refs" and len(segs) >= 3 and segs[1] in ("pr", "convert", "heads", "tags"):
            return f"refs/{segs[1]}/{urllib.parse.unquote(segs[2])}", segs[3:]
        return first, segs[1:]

    # -- dispatch -----------------------------------------------------------------------

    def handle_request(self, body):
        st = self.state
        segs = self.raw_path.split("/")[1:]
        if segs[0] == "_emulator":
            return self.control(segs[1:], body)
        resolvers = "/resolve/" in self.raw_path or self.raw_path.startswith("/api/resolve-cache/")
        self._bucket = "resolvers" if resolvers else "api"
        self._rate = st.rate.hit(self._bucket)
        api = self.raw_path.startswith("/api/")
        f = st.faults.take("hub_delay", self.raw_path)
        if f:  # a slow Hub: the answer (whatever it is) comes late
            self.note_fault("hub_delay")
            time.sleep(max(0.0, float(f.get("seconds", 1))))
        f = st.faults.take("rate_limit", self.raw_path)
        if f:
            self.note_fault("rate_limit")
            retry_after = f.get("retry_after", 1)  # null: no Retry-After header, RateLimit only
            reset = int(f.get("ratelimit_reset", 1 if retry_after is None else retry_after))
            self._rate = (0, reset)
            headers = [] if retry_after is None else [("Retry-After", str(int(retry_after)))]
            return self.fail(429, "You have been rate-limited; you can retry this action in about "
                                  f"{reset} seconds.", api=api, headers=headers)
        f = st.faults.take("server_error", self.raw_path)
        if f:
            self.note_fault("server_error")
            status = int(f.get("status", 503))
            return self.fail(status, "Service temporarily unavailable (injected fault)", api=api)
        auth = self.headers.get("Authorization")
        self.token, self.token_invalid = None, False
        if auth is not None:
            scheme, _, tok = auth.strip().partition(" ")
            if scheme.lower() == "bearer" and tok.strip() in st.world.tokens:
                self.token = tok.strip()
            else:
                self.token_invalid = True
        if self.command not in ("GET", "HEAD", "POST"):
            return self.fail(405, "Method not allowed", api=api)
        if segs[0] == "api" and len(segs) >= 2:
            if segs[1] == "whoami-v2":
                return self.whoami()
            if segs[1] == "resolve-cache" and len(segs) >= 3 and segs[2] in PLURAL:
                return self.route_resolve(PLURAL[segs[2]], segs[3:], f"/api/resolve-cache/{segs[2]}/", cache=True)
            if segs[1] in PLURAL:
                return self.route_api(PLURAL[segs[1]], segs[2:])
        else:
            rtype, rest, head = "model", segs, "/"
            if segs[0] in ("datasets", "spaces", "kernels"):
                rtype, rest, head = segs[0][:-1], segs[1:], f"/{segs[0]}/"
            if "resolve" in rest[1:3]:
                return self.route_resolve(rtype, rest, head, cache=False)
        self.fail(404, "Sorry, we can't find the page you are looking for.", api=api)

    def whoami(self):
        if self.token_invalid:
            return self.fail(401, "Invalid credentials in Authorization header")
        if self.token is None:
            return self.fail(401, MSG_BAD_CREDS)
        t = self.state.world.tokens[self.token]
        self.send_json(200, {"type": "user", "id": hashlib.sha1(t["user"].encode()).hexdigest()[:24],
                             "name": t["user"], "fullname": t["user"], "orgs": [],
                             "auth": {"type": "access_token",
                                      "accessToken": {"displayName": self.token[:12], "role": "read"}}})

    # -- /api/{type}s/{id}/... -----------------------------------------------------------

    def route_api(self, rtype, segs):
        repo, n, rid = self.match_repo(rtype, segs)
        head = f"/api/{rtype}s/"
        if not segs or not segs[0]:
            return self.fail(404, "Sorry, we can't find the page you are looking for.")
        if repo is not None and rid != repo.id:
            return self.redirect_to_canonical(head, repo, n, segs)
        rest = segs[n:]
        op = rest[0] if rest else None
        content = op == "xet-read-token"
        if not self.check_access(repo, content=content, api=True):
            return
        if op is None or op == "":
            return self.api_info(repo, repo.default_branch)
        if op == "revision":
            rev, extra = self.split_rev(rest[1:])
            if rev is not None and not extra:
                return self.api_info(repo, rev)
        elif op == "tree":
            rev, path_segs = self.split_rev(rest[1:])
            if rev is not None:
                return self.api_tree(repo, rev, urllib.parse.unquote("/".join(path_segs)).strip("/"))
        elif op == "refs" and len(rest) == 1:
            return self.api_refs(repo)
        elif op == "commits":
            rev, extra = self.split_rev(rest[1:])
            if rev is not None and not extra:
                return self.api_commits(repo, rev)
        elif op == "paths-info" and self.command == "POST":
            rev, extra = self.split_rev(rest[1:])
            if rev is not None and not extra:
                return self.api_paths_info(repo, rev, self.body)
        elif op == "xet-read-token":
            rev, extra = self.split_rev(rest[1:])
            if rev is not None and not extra:
                return self.api_xet_token(repo, rev)
        self.fail(404, "Sorry, we can't find the page you are looking for.")

    def commit_or_fail(self, repo, rev):
        c = repo.resolve(rev)
        if c is None:
            self.fail_revision(rev)
        return c

    def api_info(self, repo, rev):
        expand = [e for v in self.qall("expand", "expand[]") for e in v.split(",") if e]
        bad = [e for e in expand if e not in EXPAND_ALLOWED[repo.type]]
        if bad:
            return self.fail(400, f'"expand" must be one of {sorted(EXPAND_ALLOWED[repo.type])}, got {bad}')
        c = self.commit_or_fail(repo, rev)
        if c is None:
            return
        blobs = self.qget("blobs") in ("true", "1", "True")
        siblings = []
        for fe in c.all_files():
            s = {"rfilename": fe.path}
            if blobs:
                s.update(blobId=fe.oid, size=fe.blob.size)
                if fe.lfs:
                    s["lfs"] = {"sha256": fe.blob.sha256, "size": fe.blob.size, "pointerSize": fe.pointer_size}
            siblings.append(s)
        info = {"_id": repo.objid, "id": repo.id}
        if repo.type == "model":
            info["modelId"] = repo.id
        info.update({"author": repo.id.split("/")[0] if "/" in repo.id else None,
                     "sha": c.sha, "lastModified": c.date, "private": repo.private,
                     "gated": repo.gated, "disabled": False, "downloads": 0, "likes": 0, "tags": [],
                     "createdAt": repo.created_at, "cardData": {}, "siblings": siblings,
                     "usedStorage": repo.used_storage()})
        if repo.type == "model":
            info.update({"config": {}, "model-index": None, "spaces": [], "transformersInfo": {},
                         "widgetData": {}})
        elif repo.type == "dataset":
            info.update({"description": "", "citation": "", "paperswithcode_id": None})
        info.update(repo.info_extra)
        if expand:  # only the listed properties (plus the ids) are returned
            info = {k: v for k, v in info.items() if k in ("_id", "id") or k in expand}
        self.send_json(200, info)

    def page_bounds(self, default_size, listing_len, index_of, tree_oid):
        """Shared cursor/limit handling. -> (start, stop) or None after sending a 400."""
        size = default_size
        limit = self.qget("limit")
        if limit is not None:
            if not limit.isdigit() or int(limit) <= 0:
                self.fail(400, "Invalid limit")
                return None
            size = min(size, int(limit))
        start = 0
        cursor = self.qget("cursor")
        if cursor:
            # Opaque to clients: base64(JSON {file_name, tree_oid, index}).
            try:
                cur = json.loads(base64.b64decode(cursor, validate=True))
                start = index_of(cur["file_name"]) + 1
                if cur.get("tree_oid") != tree_oid:
                    raise ValueError("cursor from another tree")
            except (ValueError, KeyError, TypeError, binascii.Error):
                self.fail(400, "Invalid cursor")
                return None
        return start, min(listing_len, start + size), size

    def next_link(self, cursor_obj, size):
        params = [(k, v) for k, v in self.query if k != "cursor"]
        if not any(k == "limit" for k, _ in params):
            params.append(("limit", str(size)))
        cursor = base64.b64encode(json.dumps(cursor_obj, separators=(",", ":")).encode()).decode()
        params.append(("cursor", cursor))
        q = urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
        return f'<{self.state.hub_base}{self.raw_path}?{q}>; rel="next"'

    def api_tree(self, repo, rev, path):
        c = self.commit_or_fail(repo, rev)
        if c is None:
            return
        recursive = self.qget("recursive") in ("true", "1", "True")
        expand = self.qget("expand") in ("true", "1", "True")
        got = c.listing(path, recursive)
        if got is None:  # a file, or nothing at all
            return self.fail(404, f'Entry not found: "{path}" is not a directory on "{rev}"', "EntryNotFound",
                             headers=[("X-Repo-Commit", c.sha)])
        entries, index = got

        def index_of(name):
            if name not in index:
                raise ValueError(name)
            return index[name]

        bounds = self.page_bounds(TREE_PAGE_EXPANDED if expand else TREE_PAGE, len(entries), index_of, c.root_oid)
        if bounds is None:
            return
        start, stop, size = bounds
        page = [expanded(e, o) if expand else e for e, o in entries[start:stop]]
        headers = [("X-Repo-Commit", c.sha)]
        if stop < len(entries):
            headers.append(("Link", self.next_link({"file_name": entries[stop - 1][0]["path"],
                                                    "tree_oid": c.root_oid}, size)))
        self.send_json(200, page, headers)

    def api_commits(self, repo, rev):
        c = self.commit_or_fail(repo, rev)
        if c is None:
            return
        chain = []
        while c is not None:
            chain.append(c)
            c = c.parent
        ids = {x.sha: i for i, x in enumerate(chain)}

        def index_of(sha):
            return ids[sha]

        bounds = self.page_bounds(COMMITS_PAGE, len(chain), index_of, chain[0].sha)
        if bounds is None:
            return
        start, stop, size = bounds
        out = [{"id": x.sha, "title": x.title, "message": "", "authors": [{"user": "hfmirror-emulator"}],
                "date": x.date} for x in chain[start:stop]]
        headers = [("X-Total-Count", str(len(chain)))]
        if stop < len(chain):
            headers.append(("Link", self.next_link({"file_name": chain[stop - 1].sha,
                                                    "tree_oid": chain[0].sha}, size)))
        self.send_json(200, out, headers)

    def api_refs(self, repo):
        with self.state.world.lock:
            branches = sorted(repo.branches.items())
            tags = sorted(repo.tags.items())
        out = {"branches": [{"name": b, "ref": f"refs/heads/{b}", "targetCommit": s} for b, s in branches],
               "tags": [{"name": t, "ref": f"refs/tags/{t}", "targetCommit": s} for t, s in tags],
               "converts": []}
        if self.qget("include_prs") in ("1", "true", "True"):
            out["pullRequests"] = []
        self.send_json(200, out)

    def api_paths_info(self, repo, rev, body):
        ctype = self.headers.get("Content-Type", "")
        try:
            if ctype.startswith("application/json"):
                data = json.loads(body or b"{}")
                paths, expand = list(data.get("paths", [])), bool(data.get("expand", False))
            else:
                form = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True)
                paths = form.get("paths", [])
                expand = (form.get("expand") or ["false"])[0] in ("true", "1", "True")
        except (ValueError, UnicodeDecodeError, AttributeError):
            return self.fail(400, "Invalid body")
        c = self.commit_or_fail(repo, rev)
        if c is None:
            return
        out = []
        for p in paths:
            got = c.path_info(p.strip("/"))
            if got is not None:  # missing paths are silently omitted
                out.append(expanded(*got) if expand else got[0])
        self.send_json(200, out, [("X-Repo-Commit", c.sha)])

    def api_xet_token(self, repo, rev):
        c = self.commit_or_fail(repo, rev)
        if c is None:
            return
        exp = int(time.time()) + 3600
        tok = "xet-emulator-" + hmac.new(self.state.secret, f"{repo.objid}:{c.sha}:{exp}".encode(),
                                         hashlib.sha256).hexdigest()
        cas = self.state.cdn_base
        self.send_json(200, {"accessToken": tok, "casUrl": cas, "exp": exp},
                       [("X-Xet-Cas-Url", cas), ("X-Xet-Access-Token", tok), ("X-Xet-Token-Expiration", str(exp))])

    # -- resolve and resolve-cache -------------------------------------------------------

    def route_resolve(self, rtype, segs, head, cache):
        repo, n, rid = self.match_repo(rtype, segs)
        if cache:
            rest = segs[n:]
        else:
            if repo is None:  # unknown repo: the id is whatever precedes "resolve"
                n = segs.index("resolve", 1)
                rid = urllib.parse.unquote("/".join(segs[:n]))
            elif len(segs) <= n or segs[n] != "resolve":
                return self.fail(404, "Sorry, we can't find the page you are looking for.", api=False)
            rest = segs[n + 1:]
        if repo is not None and rid != repo.id:
            return self.redirect_to_canonical(head, repo, n, segs)
        if not self.check_access(repo, content=True, api=cache):
            return
        rev, path_segs = self.split_rev(rest)
        c = self.commit_or_fail(repo, rev)
        if c is None:
            return
        path = urllib.parse.unquote("/".join(path_segs))
        fe = c.lookup(path) if path else None
        common = [("X-Repo-Commit", c.sha), ("Accept-Ranges", "bytes")]
        if fe is None:
            return self.fail(404, "Entry not found", "EntryNotFound", api=cache, headers=[("X-Repo-Commit", c.sha)])
        disp = [("Content-Disposition", content_disposition(path))]
        if cache:
            return self.serve_blob(fe.blob, fe.etag, [("X-Repo-Commit", c.sha)] + disp,
                                   content_type_for(path), repo=repo, repo_paths={fe.path})
        if fe.lfs:
            return self.redirect_cdn(repo, c, fe, common)
        if repo.private or repo.gated:
            # Private and gated repos serve regular files directly (no resolve-cache hop).
            return self.serve_blob(fe.blob, fe.etag, [("X-Repo-Commit", c.sha)] + disp,
                                   content_type_for(path), repo=repo, repo_paths={fe.path})
        q = urllib.parse.quote(f"/{repo.prefix}{repo.id}/resolve/{rev}/{path}", safe="")
        loc = (f"/api/resolve-cache/{repo.type}s/{repo.id}/{c.sha}/{urllib.parse.quote(path)}"
               f"?{q}=&etag=%22{fe.blob.git_sha1}%22")
        self.respond(307, f"Temporary Redirect. Redirecting to {loc}",
                     common + disp + [("Location", loc), ("X-Linked-Etag", f'"{fe.blob.git_sha1}"'),
                                      ("X-Linked-Size", str(fe.blob.size)), ("Vary", "Origin, Accept")],
                     content_type="text/plain; charset=utf-8")

    def redirect_cdn(self, repo, c, fe, common):
        st = self.state
        cdn_path = f"/xet-bridge-us/{repo.objid}/{fe.blob.sha256}"
        date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        expires = str(st.cdn_expires)
        params = [("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
                  ("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"),
                  ("X-Amz-Credential", f"cas/{date[:8]}/us-east-1/s3/aws4_request"),
                  ("X-Amz-Date", date), ("X-Amz-Expires", expires),
                  ("X-Amz-Signature", st.sign(cdn_path, date, expires)),
                  ("X-Amz-SignedHeaders", "host"),
                  ("X-Xet-Cas-Uid", "public" if self.token is None else hashlib.sha1(self.token.encode()).hexdigest()[:24]),
                  ("response-content-disposition", content_disposition(fe.path)),
                  ("x-id", "GetObject")]
        loc = f"{st.cdn_base}{cdn_path}?{urllib.parse.urlencode(params, quote_via=urllib.parse.quote)}"
        link = (f'<{st.hub_base}/api/{repo.type}s/{repo.id}/xet-read-token/{c.sha}>; rel="xet-auth", '
                f'<{st.cdn_base}/v1/reconstructions/{fe.blob.xet_hash}>; rel="xet-reconstruction-info"')
        self.respond(302, f"Found. Redirecting to {loc}",
                     common + [("Location", loc), ("X-Linked-Etag", f'"{fe.blob.sha256}"'),
                               ("X-Linked-Size", str(fe.blob.size)), ("X-Xet-Hash", fe.blob.xet_hash),
                               ("Link", link), ("Cache-Control", "no-store"), ("Vary", "Origin, Accept")],
                     content_type="text/plain; charset=utf-8")

    # -- control API (/_emulator/...) ---------------------------------------------------

    def control(self, segs, body):
        st, w = self.state, self.state.world
        route = "/".join(segs)
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            return self.send_json(400, {"error": "body must be JSON"})
        if route == "requests" and self.command == "GET":
            since = int(self.qget("since", "0") or 0)
            return self.send_json(200, st.log.dump(self.qget("listener"), since))
        if route == "requests/clear" and self.command == "POST":
            st.log.clear()
            return self.send_json(200, {"ok": True})
        if route == "faults" and self.command == "GET":
            return self.send_json(200, st.faults.snapshot())
        if route == "faults" and self.command == "POST":
            try:
                st.faults.merge(data)
            except (ValueError, TypeError) as e:
                return self.send_json(400, {"error": str(e)})
            return self.send_json(200, st.faults.snapshot())
        if route == "faults/clear" and self.command == "POST":
            st.faults.clear()
            return self.send_json(200, {})
        if route == "stats" and self.command == "GET":
            with st.stats_lock:
                out = json.loads(json.dumps(st.stats))  # a deep copy, taken under the lock
                out["tls_errors"] = list(st.tls_errors)
            return self.send_json(200, out)
        if route == "config" and self.command == "GET":
            return self.send_json(200, {"hub": st.hub_base, "cdn": st.cdn_base, "pid": os.getpid(),
                                        "data_dir": st.data_dir, "cdn_expires": st.cdn_expires})
        if route == "branch" and self.command == "POST":
            return self.control_branch(data)
        if route == "repos" and self.command == "GET":
            with w.lock:
                return self.send_json(200, [{"id": r.id, "type": r.type, "private": r.private, "gated": r.gated,
                                             "renamed_from": r.renamed_from, "branches": dict(r.branches),
                                             "tags": dict(r.tags), "commits": {c.name: c.sha for c in r.order}}
                                            for r in w.repos])
        if len(segs) >= 4 and segs[0] == "repos" and segs[-1] == "files" and self.command == "GET":
            rtype = PLURAL.get(segs[1], segs[1])
            repo, _ = w.find(rtype, urllib.parse.unquote("/".join(segs[2:-1])))
            if repo is None:
                return self.send_json(404, {"error": "no such repo"})
            rev = self.qget("rev", repo.default_branch)
            c = repo.commits.get(rev) or repo.resolve(rev)
            if c is None:
                return self.send_json(404, {"error": f"no such revision {rev}"})
            normal = {id(fe) for fe in c.files.values()}
            files = [{"path": fe.path, "size": fe.blob.size, "sha256": fe.blob.sha256,
                      "git_sha1": fe.blob.git_sha1, "lfs": fe.lfs, "oid": fe.oid, "etag": fe.etag,
                      "xet_hash": fe.blob.xet_hash, "blob_path": fe.blob.path,
                      "extra": id(fe) not in normal} for fe in c.all_files()]
            return self.send_json(200, {"commit": c.sha, "commit_name": c.name, "files": files})
        self.send_json(404, {"error": f"unknown control route {self.command} /_emulator/{route}"})

    def control_branch(self, data):
        w = self.state.world
        repo, _ = w.find(data.get("type", "model"), str(data.get("repo", "")))
        if repo is None:
            return self.send_json(404, {"error": "no such repo"})
        kind, name = ("tags", data["tag"]) if "tag" in data else ("branches", data.get("branch", "main"))
        with w.lock:
            refs = getattr(repo, kind)
            if data.get("commit") is None:
                if name == repo.default_branch and kind == "branches":
                    return self.send_json(400, {"error": "cannot delete the default branch"})
                refs.pop(name, None)
            else:
                try:
                    refs[name] = repo._commit_ref(data["commit"]).sha
                except SpecError as e:
                    return self.send_json(404, {"error": str(e)})
            return self.send_json(200, {"branches": dict(repo.branches), "tags": dict(repo.tags)})


# --------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description="Hugging Face Hub emulator (tests only)")
    ap.add_argument("--spec", action="append", required=True, help="repo spec JSON (repeatable)")
    ap.add_argument("--data-dir", required=True, help="where generated blobs are cached")
    ap.add_argument("--port", type=int, default=0, help="Hub port (0 = any free port)")
    ap.add_argument("--cdn-port", type=int, default=0, help="CDN port (0 = any free port)")
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--hub-host", default="localhost", help="host name in Hub URLs")
    ap.add_argument("--cdn-host", default="127.0.0.1", help="host name in CDN URLs (keep it != hub host)")
    ap.add_argument("--cdn-expires", type=int, default=3600, help="X-Amz-Expires of signed URLs")
    ap.add_argument("--cdn-secret", default="hub-emulator-cdn-secret")
    ap.add_argument("--tls-cert", help="PEM certificate (chain) for HTTPS on both listeners; needs --tls-key")
    ap.add_argument("--tls-key", help="PEM private key of --tls-cert")
    ap.add_argument("--ready-file")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")

    t0 = time.monotonic()
    try:
        specs = []
        for p in args.spec:
            with open(p) as f:
                specs.append(json.load(f))
        world = World(specs, BlobStore(args.data_dir))
    except (OSError, ValueError, SpecError, KeyError) as e:
        print(f"hub_emulator: bad spec: {e}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(f"hub_emulator: {len(world.repos)} repos ready in {time.monotonic() - t0:.1f}s", file=sys.stderr)

    ssl_context = None
    if args.tls_cert:
        ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ssl_context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            ssl_context.load_cert_chain(args.tls_cert, args.tls_key)
        except (OSError, ssl.SSLError) as e:
            print(f"hub_emulator: cannot load --tls-cert/--tls-key: {e}", file=sys.stderr)
            return 2
    scheme = "https" if ssl_context else "http"
    state = State(world, args)
    hub = Server((args.bind, args.port), HubHandler, state, ssl_context)
    cdn = Server((args.bind, args.cdn_port), CdnHandler, state, ssl_context)
    state.hub_base = f"{scheme}://{args.hub_host}:{hub.server_address[1]}"
    state.cdn_base = f"{scheme}://{args.cdn_host}:{cdn.server_address[1]}"
    for srv in (hub, cdn):
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    ready = json.dumps({"hub": state.hub_base, "cdn": state.cdn_base, "pid": os.getpid()})
    if args.ready_file:
        tmp = f"{args.ready_file}.tmp-{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(ready + "\n")
        os.replace(tmp, args.ready_file)
    print(ready, flush=True)

    while not stop.wait(0.5):
        pass
    for srv in (hub, cdn):
        srv.shutdown()
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
