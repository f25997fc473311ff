// S3Store: a prefix in an S3 bucket, keys = repo paths (flat, as Ray, vLLM
// and runai-model-streamer read them). Bytes stream from the pipeline's part
// buffers straight into UploadPart (no staging disk, no copy); an object
// becomes visible only through CompleteMultipartUpload (or one PutObject for
// a one-part file), called after the whole-file hash matched. Each object
// carries its content id as x-amz-meta-hfmirror-content-id.
//
// State lives under <prefix>/.hfmirror/ so any pod can resume:
//   manifest.json           the complete mirror (written last)
//   previous-manifest.json  the withdrawn manifest while a changing sync runs
//   pending/<id>            a path whose object is being replaced
//   uploads/<id>.json       an unfinished multipart upload: id, part ETags,
//                           and the hash state after the durable prefix
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "s3/s3_client.h"
#include "store/destination.h"

namespace hfm::store {

class S3Store final : public Destination {
 public:
  static Result<std::unique_ptr<S3Store>> open(s3::S3Client& client, const s3::S3Uri& uri);
  ~S3Store() override;

  std::string describe() const override;
  std::string layout() const override { return "plain"; }
  Result<std::optional<Manifest>> read_manifest() override;
  Result<std::vector<ManifestFile>> read_journal() override;
  // A lease object, .hfmirror/lock.json, renewed while held (S3 has no locks;
  // RGW 16 has no conditional PUT either, so it is write, settle, read back).
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
  Result<std::optional<std::string>> stored_content_id(const ManifestFile& file) override;

  std::string key_for(const std::string& path) const;
  std::string state_key(const std::string& name) const;
  std::string pending_key(const std::string& path) const;

 private:
  S3Store(s3::S3Client& client, s3::S3Uri uri) : client_(client), uri_(std::move(uri)) {}
  Status load_listing();
  Status put_lease();

  s3::S3Client& client_;
  s3::S3Uri uri_;
  std::mutex mu_;
  bool listed_ = false;
  std::map<std::string, uint64_t> sizes_;  // repo path -> object size, from one listing
  std::set<std::string> pending_;          // paths whose objects may be half-replaced
  bool stale_state_ = false;               // state objects besides the manifest and the lease
  // The lease, while held: our holder id and the thread that renews it.
  std::string lease_holder_;
  std::string lease_info_;  // pid, host, start time (for the other run's message)
  std::thread lease_renewer_;
  std::mutex lease_mu_;
  std::condition_variable lease_cv_;
  bool lease_stop_ = false;  // guarded by lease_mu_
};

}  // namespace hfm::store
