// LocalStore: a folder on this machine, in one of two layouts.
//   plain     files at their repo paths (like `hf download --local-dir`)
//   hf-cache  huggingface_hub's cache: <root>/models--org--name/{blobs,refs,snapshots}
//             with relative symlinks, so transformers/vLLM load it offline.
// Partial files live under the state folder (.hfmirror/partial) until their
// hash matched; only then are they renamed into place. Paths are validated
// and no symlink on the way to a file is followed.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "store/destination.h"

namespace hfm::store {

enum class LocalLayout { kPlain, kHfCache };

class LocalStore final : public Destination {
 public:
  // For kHfCache, `root` is the cache folder and repo_type/repo_id pick the
  // repo folder inside it. Creates nothing until begin_changes().
  static Result<std::unique_ptr<LocalStore>> open(const std::filesystem::path& root, LocalLayout layout,
                                                  const std::string& repo_type, const std::string& repo_id,
                                                  bool durable_writes = true);

  ~LocalStore() override;
  std::string describe() const override;
  std::string layout() const override;
  Result<std::optional<Manifest>> read_manifest() override;
  Result<std::vector<ManifestFile>> read_journal() override;
  Status acquire_lock() override;
  void release_lock() override;
  Status begin_changes(const SyncContext& ctx) override;
  Result<bool> file_is_current(const FileSpec& file, const std::optional<Manifest>& manifest,
                               const std::vector<ManifestFile>& journal) override;
  Result<std::unique_ptr<PartialFile>> open_partial(const FileSpec& file, uint64_t part_size_bytes) override;
  Status record_pending(const std::string& path) override;
  Status record_verified(const FileSpec& file) override;
  Status remove_file(const std::string& path) override;
  Status finish(const SyncContext& ctx, const std::vector<FileSpec>& files) override;
  Status write_manifest(const Manifest& manifest) override;
  Result<bool> has_stale_state() override;
  Status remove_stale_state() override;
  Result<std::optional<uint64_t>> file_size(const ManifestFile& file) override;
  Status read_file(const ManifestFile& file, uint64_t offset, std::span<char> out) override;

  // Where a verified file ends up (plain: root/path; hf-cache: blobs/<id>).
  std::filesystem::path final_path(const std::string& path, const std::string& content_id) const;
  const std::filesystem::path& state_dir() const { return state_dir_; }

 private:
  LocalStore(std::filesystem::path root, LocalLayout layout, std::filesystem::path repo_dir, bool durable);
  Status append_journal(const std::string& line);
  void close_journal();
  // Creates the destination and state folders (first change of a sync).
  Status prepare();

  std::filesystem::path root_;
  LocalLayout layout_;
  std::filesystem::path repo_dir_;   // plain: root; hf-cache: root/models--org--name
  std::filesystem::path state_dir_;  // repo_dir/.hfmirror
  bool durable_;
  std::mutex journal_mu_;
  int journal_fd_ = -1;  // guarded by journal_mu_
  int lock_fd_ = -1;     // flock()ed .hfmirror/lock; the kernel drops it if we die
};

// Helpers shared with tests.
Status write_file_atomic(const std::filesystem::path& path, std::string_view content, bool durable);
// Creates the parent folders of root/rel, refusing any symlink or non-folder on the way.
Status make_parents_inside(const std::filesystem::path& root, const std::string& rel);
// hf-cache folder name: "models--org--name" / "datasets--org--name".
std::string hf_cache_repo_folder(const std::string& repo_type, const std::string& repo_id);

}  // namespace hfm::store
