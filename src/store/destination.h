// Destination: where a mirror is written. The pipeline talks only to this
// interface; local folders (plain and hf-cache layouts) implement it now, S3
// next. Contract: a file becomes visible only through PartialFile::commit(),
// which the pipeline calls after the whole-file hash matched; the manifest is
// written last, and only by write_manifest().
#pragma once

#include <cstdint>
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

// A file being written. write_part() may run concurrently for distinct parts.
class PartialFile {
 public:
  virtual ~PartialFile() = default;
  // Parts already durable from an earlier, interrupted run (resume).
  virtual std::vector<bool> completed_parts() const = 0;
  virtual Status write_part(size_t part_index, uint64_t offset, std::span<const char> bytes) = 0;
  // Re-reads a completed part so the in-order hash can cover it without a download.
  virtual Status read_part(uint64_t offset, std::span<char> out) = 0;
  // Records that a part is durable, so a killed run resumes after it.
  virtual Status mark_part_done(size_t part_index) = 0;
  // Verified: make the file visible at its final path.
  virtual Status commit() = 0;
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
};

}  // namespace hfm::store
