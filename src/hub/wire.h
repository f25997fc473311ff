// Pure parsers of Hub wire data: tree pages, Link and RateLimit headers,
// Retry-After, ETags, and the mapping of Hub error answers to Errors
// (hub-protocol.md §2.2, §3.3, §4, §6). No I/O: the Hub client feeds them
// bodies and header values. Every answer is untrusted; anything malformed is
// ErrorCode::kProtocol, never a crash or a silently wrong value.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/repo_id.h"
#include "core/result.h"

namespace hfm::hub {

enum class RepoType { kModel, kDataset };

std::string_view api_plural(RepoType type);      // "models" | "datasets", as in /api/{plural}/{id}
std::string_view resolve_prefix(RepoType type);  // "" | "datasets/", as in /{prefix}{id}/resolve/…
// "model" / "dataset" (also the plurals); anything else is ErrorCode::kUsage.
Result<RepoType> parse_repo_type(std::string_view text);

using ::hfm::validate_repo_id;  // defined in core: the CLI and config check ids too

// One entry of GET /api/{type}s/{id}/tree/{rev}?recursive=true.
struct TreeEntry {
  std::string path;                       // relative to the repo root, not yet checked for safety
  bool is_file = true;                    // false for directories
  uint64_t size_bytes = 0;                // the real content size, also for LFS files
  std::string oid;                        // git blob oid (for LFS files, of the pointer) or tree oid
  std::optional<std::string> lfs_sha256;  // lfs.oid: sha256 of the content
  std::optional<std::string> xet_hash;    // Xet file hash (not a sha256)

  bool is_lfs() const { return lfs_sha256.has_value(); }
  // The id the downloaded bytes must hash to: sha256 for LFS/Xet, else git sha1.
  std::string content_id() const { return lfs_sha256 ? *lfs_sha256 : oid; }
};

// A JSON array of entries. Files need a 40-hex oid and a size; an lfs object
// needs a 64-hex oid and, if it has a size, the same size as the entry.
// Hex ids are returned lowercase. Directories are kept with is_file = false.
Result<std::vector<TreeEntry>> parse_tree_page(std::string_view json);

// A listing that has a path both as a file and as a folder (a listed
// directory, or the parent of another entry) cannot be mirrored: no filesystem
// holds both, and writing one would clobber the other. git cannot record such
// a tree, so the Hub never sends one; a listing that does is refused whole.
// Returns {that path, an entry below it} for the first one, else nullopt.
struct FileFolderClash {
  std::string path;   // listed as a file
  std::string below;  // an entry that needs `path` to be a folder
};
std::optional<FileFolderClash> find_file_folder_clash(const std::vector<TreeEntry>& entries);

// `text` for a message about an untrusted name: control bytes become \xNN,
// a backslash or a double quote gets a backslash before it; cut after
// `max_bytes` (with "...").
std::string quote_untrusted(std::string_view text, size_t max_bytes = 200);

// The URL of the rel="next" link of a GitHub-style Link header, if any.
std::optional<std::string> parse_link_next(std::string_view link_header);

// {"sha": "<40 hex>", …} from /api/{type}s/{id}/revision/{rev}; lowercase.
Result<std::string> parse_revision_sha(std::string_view json);

// W/"abc" → abc, "abc" → abc (huggingface_hub's _normalize_etag).
std::string normalize_etag(std::string_view etag);

// RateLimit: "api";r=4992;t=9 (draft-ietf-httpapi-ratelimit-headers v9).
struct RateLimit {
  std::string bucket;
  int64_t remaining = -1;      // r; -1 when absent
  int64_t reset_seconds = -1;  // t; -1 when absent
};
std::optional<RateLimit> parse_ratelimit(std::string_view header);

// Retry-After as a delay from `now`: delta-seconds ("120") or an IMF-fixdate
// ("Wed, 21 Oct 2026 07:28:00 GMT"); a date in the past is zero.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view header,
                                                      std::chrono::system_clock::time_point now);

// Maps a Hub error answer to an Error in huggingface_hub's order (§4.2):
// RevisionNotFound, EntryNotFound, GatedRepo, disabled repo, RepoNotFound or a
// 401 (other than "Invalid credentials in Authorization header"), then by
// status. `what` names the object, e.g. "repo acme/tiny". The message says
// what to do next; the server's own message, if any, is quoted in it.
Error map_hub_error(int status, std::string_view x_error_code, std::string_view x_error_message, std::string_view body,
                    std::string_view request_id, std::string_view what);

}  // namespace hfm::hub
