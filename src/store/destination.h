// Destination: where a mirror is written. The pipeline talks only to this
// interface; local folders (plain and hf-cache layouts) implement it now, S3
// next. Contract: a file becomes visible only through PartialFile::commit(),
// which the pipeline calls after the whole-file hash matched; the manifest is
// written last, and only by write_manifest().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/manifest.h"

namespace hfm::store {

// One file to mirror, as the Hub's tree describes it.
struct FileSpec {
  std::string path;  // validated repo path
  uint64_t size_bytes = 0;
  ContentIdKind id_kind = ContentIdKind::kGitSha1;
  std::string content_id;  // sha256 (LFS/Xet) or git blob sha1
  std::string git_oid;
};

// What an interrupted run left of a file.
struct ResumeInfo {
  // Parts whose bytes are at the destination and can be read back (local).
  std::vector<bool> readable_parts;
  // Parts [0, hashed_parts) are durable and `hash_state` is the whole-file
  // hash after them (S3: parts cannot be read back before completion).
  size_t hashed_parts = 0;
  std::string hash_state;
};

// A file being written. write_part() may run concurrently for distinct parts.
class PartialFile {
 public:
  virtual ~PartialFile() = default;
  virtual ResumeInfo resume_info() const = 0;
  // Makes one part durable (and recorded for resume). `done` may run on any
  // thread, before or after write_part returns.
  virtual void write_part(size_t part_index, uint64_t offset, std::span<const char> bytes,
                          std::function<void(Status)> done) = 0;
  // Re-reads a readable part so the in-order hash can cover it without a download.
  virtual Status read_part(uint64_t offset, std::span<char> out) = 0;
  // Whether record_progress() is useful (the pipeline then keeps hash states).
  virtual bool wants_progress() const { return false; }
  // Parts [0, parts_hashed) are durable and hash to `hash_state`.
  virtual Status record_progress(size_t /*parts_hashed*/, const std::string& /*hash_state*/) { return {}; }
  // A one-part file hands its bytes to commit() instead of write_part()
  // (S3: one PutObject after verification).
  virtual bool wants_bytes_at_commit() const { return false; }
  // Verified: make the file visible at its final path.
  virtual Status commit(std::span<const char> whole_file_when_wanted) = 0;
  // Failed or cancelled: drop the partial data unless it may be resumed.
  virtual void abandon(bool keep_for_resume) = 0;
};

struct SyncContext {
  std::string repo_id;
  std::string repo_type;  // "model" | "dataset"
  std::string revision;
  std::string commit;
};

class Destination {
 public:
  virtual ~Destination() = default;
  virtual std::string describe() const = 0;
  virtual std::string layout() const = 0;
  // The manifest of the last complete sync, if any.
  virtual Result<std::optional<Manifest>> read_manifest() = 0;
  // Files known verified when no complete manifest exists: the withdrawn
  // manifest of an interrupted run plus its journal, in order (later wins; a
  // "pending" record appears with an empty content_id).
  virtual Result<std::vector<ManifestFile>> read_journal() = 0;
  // The exclusive right to change this destination, taken before the first
  // change and kept until release_lock() (or the process ends). Another live
  // holder: ErrorCode::kBusy naming it. Read-only runs never take it.
  virtual Status acquire_lock() = 0;
  virtual void release_lock() = 0;
  // State a run killed after writing its manifest had no time to remove
  // (withdrawn manifest, journal, upload records): true next to a complete
  // manifest means an up-to-date run should clean it up, under the lock.
  virtual Result<bool> has_stale_state() = 0;
  virtual Status remove_stale_state() = 0;
  // Called once before the first change: withdraws the manifest, since the
  // destination is about to stop matching it.
  virtual Status begin_changes(const SyncContext& ctx) = 0;
  // Present at its final place with this size and content id recorded (cheap: no re-hash).
  virtual Result<bool> file_is_current(const FileSpec& file, const std::optional<Manifest>& manifest,
                                       const std::vector<ManifestFile>& journal) = 0;
  virtual Result<std::unique_ptr<PartialFile>> open_partial(const FileSpec& file, uint64_t part_size_bytes) = 0;
  // Journal entries around PartialFile::commit(): "pending" before the file at
  // `path` is replaced, "verified" after, so a killed run never trusts a stale
  // record for a path whose bytes changed.
  virtual Status record_pending(const std::string& path) = 0;
  virtual Status record_verified(const FileSpec& file) = 0;
  virtual Status remove_file(const std::string& path) = 0;
  // After every file is in place: layout-specific links and refs.
  virtual Status finish(const SyncContext& ctx, const std::vector<FileSpec>& files) = 0;
  virtual Status write_manifest(const Manifest& manifest) = 0;
  // For verify: size (nullopt when missing) and bytes of a mirrored file.
  virtual Result<std::optional<uint64_t>> file_size(const ManifestFile& file) = 0;
  virtual Status read_file(const ManifestFile& file, uint64_t offset, std::span<char> out) = 0;
  // The content id the destination recorded with the file itself (S3 object
  // metadata), for a quick verify without reading the bytes; nullopt when the
  // destination keeps none.
  virtual Result<std::optional<std::string>> stored_content_id(const ManifestFile&) {
    return std::optional<std::string>{};
  }
};

}  // namespace hfm::store
