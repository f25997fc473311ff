// The destination manifest, `<dest>/.hfmirror/manifest.json`. It is written
// last: its presence means every listed file is at the destination, complete
// and verified against its content id at `commit`. This unit only converts it
// to and from JSON; reading and writing it is the stores' job.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/hash.h"
#include "core/result.h"

namespace hfm::store {

// Which hash a file's content id is: sha256 for LFS/Xet files, the git blob
// sha1 for regular files (hub-protocol.md §7.1). The same values as the
// hasher's kind, so a manifest entry selects its verifier directly.
using ContentIdKind = HashKind;

struct ManifestFile {
  std::string path;  // repo path, validated by validate_repo_path
  uint64_t size_bytes = 0;
  ContentIdKind id_kind = ContentIdKind::kGitSha1;
  std::string content_id;  // lowercase hex: 64 for kSha256, 40 for kGitSha1
  std::string git_oid;     // the tree's git blob oid (for LFS files, of the pointer)
};

struct Manifest {
  std::string repo_id;
  std::string repo_type;  // "model" | "dataset"
  std::string revision;   // as requested, e.g. "main"
  std::string commit;     // the 40-hex commit it resolved to
  std::string layout;     // "plain" | "hf-cache"
  // The --include / --exclude patterns the files were selected with: the same
  // commit mirrored with other patterns is a different mirror.
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  std::string tool_version;
  std::string created_at;           // ISO 8601 UTC
  std::vector<ManifestFile> files;  // sorted by path (byte order)

  uint64_t total_bytes() const;
  // nullptr when absent. Binary search: `files` must be sorted by path.
  const ManifestFile* find(std::string_view path) const;
};

// Pretty-printed JSON with a fixed key order and files sorted by path, so the
// same mirror always yields the same bytes.
std::string manifest_to_json(const Manifest& manifest);

// Parses and checks every field (format marker and version, repo id and type,
// 40-hex commit, layout, each path via validate_repo_path, content id length
// for its kind, no duplicate paths, file_count and total_bytes consistent);
// ErrorCode::kProtocol naming the problem otherwise. Files come back sorted.
// "include"/"exclude" may be absent (no patterns). Unknown keys are ignored so
// that later version-1 writers may add fields.
Result<Manifest> manifest_from_json(std::string_view text);

}  // namespace hfm::store
