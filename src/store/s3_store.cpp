#include "store/s3_store.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstring>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <nlohmann/json.hpp>
#include <random>

#include "core/crc32c.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/units.h"
#include "s3/part_plan.h"
#include "store/path_safety.h"

namespace hfm::store {
namespace {

void warn_crc32c_unconfirmed() {
  static std::once_flag once;
  std::call_once(once, [] {
    log::warn(
        "s3.crc32c_unconfirmed: the server did not confirm x-amz-checksum-algorithm CRC32C, so it may not check "
        "parts; --part-checksum crc32c then relies on TCP/TLS for each part (the whole file is still verified "
        "before it is completed)");
  });
}

constexpr const char* kMetaContentId = "hfmirror-content-id";
constexpr const char* kMetaHash = "hfmirror-hash";

std::string hash_name(ContentIdKind k) { return k == ContentIdKind::kSha256 ? "sha256" : "git-sha1"; }

// Stable per (path, content): two files with the same bytes never share an upload.
std::string upload_stem(const FileSpec& f) { return sha256_hex(f.path).substr(0, 16) + "-" + f.content_id; }

std::string unquote(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
    return std::string(etag.substr(1, etag.size() - 2));
  return std::string(etag);
}

s3::PutOptions object_options(const FileSpec& f) {
  s3::PutOptions o;
  o.metadata = {{kMetaContentId, f.content_id}, {kMetaHash, hash_name(f.id_kind)}};
  return o;
}

// A one-part file: verified bytes go up in one PutObject at commit.
class S3SinglePutFile final : public PartialFile {
 public:
  S3SinglePutFile(s3::S3Client& client, std::string bucket, std::string key, FileSpec spec)
      : client_(client), bucket_(std::move(bucket)), key_(std::move(key)), spec_(std::move(spec)) {}
  ResumeInfo resume_info() const override { return {}; }
  void write_part(size_t, uint64_t, std::span<const char>, std::function<void(Status)> done) override {
    done({});  // never called: the bytes come with commit()
  }
  Status read_part(uint64_t, std::span<char>) override {
    return unexpected(ErrorCode::kInternal, "S3 parts cannot be read back");
  }
  bool wants_bytes_at_commit() const override { return true; }
  Status commit(std::span<const char> bytes) override {
    if (bytes.size() != spec_.size_bytes) return unexpected(ErrorCode::kInternal, "commit without the file's bytes");
    return client_.put_object(bucket_, key_, bytes, object_options(spec_));
  }
  void abandon(bool) override {}

 private:
  s3::S3Client& client_;
  std::string bucket_;
  std::string key_;
  FileSpec spec_;
};

// A multipart upload whose id, part ETags and hash state are recorded under
// .hfmirror/uploads/ so that any later run (any pod) can continue it.
class S3MultipartFile final : public PartialFile {
 public:
  S3MultipartFile(s3::S3Client& client, std::string bucket, std::string key, std::string state_key, FileSpec spec,
                  uint64_t part_size)
      : client_(client),
        bucket_(std::move(bucket)),
        key_(std::move(key)),
        state_key_(std::move(state_key)),
        spec_(std::move(spec)),
        part_size_(part_size),
        part_count_(static_cast<size_t>((spec_.size_bytes + part_size - 1) / part_size)),
        parts_(part_count_) {}

  Status open() {
    HFM_ASSIGN_OR_RETURN(auto state_text, client_.get_object(bucket_, state_key_));
    if (state_text) {
      if (resume_from(*state_text)) return {};
      // Unusable record: its upload (if any) is cleaned up at the end of the run.
    }
    const auto mode = client_.settings().part_checksum;
    auto options = object_options(spec_);
    options.crc32c_algorithm = mode != s3::PartChecksum::kSha256;
    HFM_ASSIGN_OR_RETURN(auto created, client_.create_multipart_upload(bucket_, key_, options));
    upload_id_ = created.upload_id;
    crc32c_ = mode == s3::PartChecksum::kCrc32c || created.crc32c_confirmed;
    if (mode == s3::PartChecksum::kCrc32c && !created.crc32c_confirmed) warn_crc32c_unconfirmed();
    return save_state(0, "");
  }

  ResumeInfo resume_info() const override {
    ResumeInfo info;
    info.hashed_parts = resumed_hashed_parts_;
    info.hash_state = resumed_hash_state_;
    return info;
  }

  void write_part(size_t part_index, uint64_t, std::span<const char> bytes, std::function<void(Status)> done) override {
    s3::PartIntegrity integrity;
    if (crc32c_) {
      integrity.crc32c_base64 = crc32c_base64(crc32c(bytes));
    } else {
      integrity.payload_sha256_hex = sha256_hex({bytes.data(), bytes.size()});
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      // Uploaded by an earlier run: reuse it if its bytes are the same (its
      // CRC32C, or else its ETag, the MD5 of the part), so only the download is repeated.
      const auto it = uploaded_.find(part_index);
      if (it != uploaded_.end() && it->second.size_bytes == bytes.size()) {
        const bool same = crc32c_ && !it->second.checksum_crc32c.empty()
                              ? it->second.checksum_crc32c == integrity.crc32c_base64
                              : unquote(it->second.etag) == md5_hex({bytes.data(), bytes.size()});
        if (same) {
          parts_[part_index] = it->second;
          parts_[part_index].checksum_crc32c = integrity.crc32c_base64;
          done({});
          return;
        }
      }
    }
    client_.upload_part(bucket_, key_, upload_id_, static_cast<int>(part_index + 1), bytes, integrity,
                        [this, part_index, done = std::move(done)](Result<s3::UploadedPart> part) {
                          if (!part) {
                            done(unexpected(std::move(part.error())));
                            return;
                          }
                          {
                            std::lock_guard<std::mutex> lock(mu_);
                            parts_[part_index] = std::move(*part);
                          }
                          done({});
                        });
  }

  Status read_part(uint64_t, std::span<char>) override {
    return unexpected(ErrorCode::kInternal, "S3 parts cannot be read back");
  }

  bool wants_progress() const override { return true; }
  Status record_progress(size_t parts_hashed, const std::string& hash_state) override {
    return save_state(parts_hashed, hash_state);
  }

  Status commit(std::span<const char>) override {
    std::vector<s3::UploadedPart> parts;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (size_t i = 0; i < part_count_; ++i) {
        if (parts_[i].etag.empty()) return unexpected(ErrorCode::kInternal, fmt::format("part {} has no ETag", i + 1));
        parts.push_back({static_cast<int>(i + 1), 0, parts_[i].etag, crc32c_ ? parts_[i].checksum_crc32c : ""});
      }
    }
    HFM_TRY(client_.complete_multipart_upload(bucket_, key_, upload_id_, parts));
    // The Complete body's ETag is unreliable (empty on Ceph RGW): HEAD tells the truth.
    HFM_ASSIGN_OR_RETURN(auto info, client_.head_object(bucket_, key_));
    if (!info || info->size_bytes != spec_.size_bytes) {
      return unexpected(ErrorCode::kIntegrity,
                        fmt::format("s3://{}/{} has the wrong size after CompleteMultipartUpload", bucket_, key_));
    }
    committed_ = true;
    const auto st = client_.delete_objects(bucket_, {state_key_});
    if (!st) log::warn("s3.state_not_deleted key={} error=\"{}\"", state_key_, st.error().message);
    return {};
  }

  void abandon(bool keep_for_resume) override {
    if (committed_ || keep_for_resume) return;
    // Known-bad bytes: nothing of this upload may be reused.
    if (auto st = client_.abort_multipart_upload(bucket_, key_, upload_id_); !st) {
      log::warn("s3.abort_failed key={} error=\"{}\"", key_, st.error().message);
    }
    (void)client_.delete_objects(bucket_, {state_key_});
  }

 private:
  bool resume_from(const std::string& text) {
    try {
      const auto j = nlohmann::json::parse(text);
      if (j.at("content_id") != spec_.content_id || j.at("size") != spec_.size_bytes ||
          j.at("part_size") != part_size_ || j.at("key") != key_) {
        return false;
      }
      upload_id_ = j.at("upload_id").get<std::string>();
      crc32c_ = j.value("part_checksum", "sha256") == "crc32c";
      auto parts = client_.list_parts(bucket_, key_, upload_id_);
      if (!parts) return false;  // upload gone (completed or aborted elsewhere)
      for (const auto& p : *parts) {
        if (p.part_number >= 1 && static_cast<size_t>(p.part_number) <= part_count_) {
          uploaded_[static_cast<size_t>(p.part_number - 1)] = p;
        }
      }
      const size_t hashed = j.value("hashed_parts", size_t{0});
      const std::string state = j.value("hash_state", "");
      // The hash state is usable only if every part it covers is still uploaded.
      bool covered = hashed <= part_count_;
      for (size_t i = 0; covered && i < hashed; ++i) {
        const auto it = uploaded_.find(i);
        const uint64_t want = std::min(part_size_, spec_.size_bytes - i * part_size_);
        covered = it != uploaded_.end() && it->second.size_bytes == want;
        if (covered) parts_[i] = it->second;
      }
      if (covered && hashed > 0 && !state.empty()) {
        resumed_hashed_parts_ = hashed;
        resumed_hash_state_ = state;
      }
      log::info("s3.resume key={} upload_parts={} hashed_parts={}", key_, uploaded_.size(), resumed_hashed_parts_);
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }

  Status save_state(size_t parts_hashed, const std::string& hash_state) {
    nlohmann::json j;
    j["key"] = key_;
    j["upload_id"] = upload_id_;
    j["content_id"] = spec_.content_id;
    j["size"] = spec_.size_bytes;
    j["part_size"] = part_size_;
    j["hashed_parts"] = parts_hashed;
    j["hash_state"] = hash_state;
    j["part_checksum"] = crc32c_ ? "crc32c" : "sha256";
    const std::string body = j.dump();
    return client_.put_object(bucket_, state_key_, {body.data(), body.size()}, {});
  }

  s3::S3Client& client_;
  std::string bucket_;
  std::string key_;
  std::string state_key_;
  FileSpec spec_;
  uint64_t part_size_;
  size_t part_count_;
  std::string upload_id_;
  bool crc32c_ = false;  // per-part integrity of this upload (see s3::PartChecksum)
  std::mutex mu_;
  std::vector<s3::UploadedPart> parts_;
  std::map<size_t, s3::UploadedPart> uploaded_;  // from ListParts of a resumed upload
  size_t resumed_hashed_parts_ = 0;
  std::string resumed_hash_state_;
  bool committed_ = false;
};

}  // namespace

Result<std::unique_ptr<S3Store>> S3Store::open(s3::S3Client& client, const s3::S3Uri& uri) {
  return std::unique_ptr<S3Store>(new S3Store(client, uri));
}

namespace {
// A killed run's lease blocks other hosts until it expires; it is renewed
// well before that while the run lives.
constexpr auto kLeaseTtl = std::chrono::minutes(5);
constexpr auto kLeaseRenewEvery = std::chrono::seconds(60);
// Without conditional PUT two runs can both write the lease: each waits this
// long and reads it back, and only the one that still finds itself goes on.
constexpr auto kLeaseSettle = std::chrono::milliseconds(500);

std::string host_name() {
  char host[256] = {};
  (void)::gethostname(host, sizeof host - 1);
  return host;
}

int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
}  // namespace

S3Store::~S3Store() { release_lock(); }

Status S3Store::put_lease() {
  nlohmann::json j;
  j["holder"] = lease_holder_;
  j["info"] = lease_info_;
  j["host"] = host_name();
  j["pid"] = ::getpid();
  j["expires_unix"] = unix_seconds(std::chrono::system_clock::now() + kLeaseTtl);
  const std::string body = j.dump();
  return client_.put_object(uri_.bucket, state_key("lock.json"), {body.data(), body.size()}, {});
}

Status S3Store::acquire_lock() {
  if (!lease_holder_.empty()) return {};
  const std::string key = state_key("lock.json");
  auto busy = [&](const nlohmann::json& j) {
    return unexpected(ErrorCode::kBusy,
                      fmt::format("another hfmirror run ({}) holds s3://{}/{} until {} unless it renews it; "
                                  "nothing was done — run again when it has finished",
                                  j.value("info", std::string("unknown")), uri_.bucket, key,
                                  utc_timestamp_iso8601(std::chrono::system_clock::time_point(
                                      std::chrono::seconds(j.value("expires_unix", int64_t{0}))))));
  };
  HFM_ASSIGN_OR_RETURN(auto existing, client_.get_object(uri_.bucket, key));
  if (existing) {
    const auto j = nlohmann::json::parse(*existing, nullptr, false);
    if (j.is_object()) {
      const bool expired = j.value("expires_unix", int64_t{0}) < unix_seconds(std::chrono::system_clock::now());
      // Same host and that process is gone (killed): no need to wait for expiry.
      const bool holder_dead = j.value("host", std::string()) == host_name() && j.value("pid", 0) > 0 &&
                               ::kill(j.value("pid", 0), 0) != 0 && errno == ESRCH;
      if (!expired && !holder_dead) return busy(j);
      log::info("store.lock_taken_over key={} reason={}", key, expired ? "expired" : "holder_gone");
    }
  }
  std::random_device rd;
  lease_holder_ = fmt::format("{:08x}{:08x}", rd(), rd());
  lease_info_ = fmt::format("pid {} on {} since {}", ::getpid(), host_name(),
                            utc_timestamp_iso8601(std::chrono::system_clock::now()));
  if (auto st = put_lease(); !st) {
    lease_holder_.clear();
    return st;
  }
  std::this_thread::sleep_for(kLeaseSettle);
  auto back = client_.get_object(uri_.bucket, key);
  if (!back || !*back) {
    lease_holder_.clear();
    if (!back) return unexpected(std::move(back.error()));
    return unexpected(ErrorCode::kBusy,
                      fmt::format("the lease s3://{}/{} vanished while it was taken", uri_.bucket, key));
  }
  const auto j = nlohmann::json::parse(**back, nullptr, false);
  if (!j.is_object() || j.value("holder", std::string()) != lease_holder_) {
    lease_holder_.clear();
    return j.is_object() ? busy(j) : unexpected(ErrorCode::kBusy, "another run is taking the lease");
  }
  lease_stop_ = false;
  lease_renewer_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(lease_mu_);
    while (!lease_cv_.wait_for(lock, kLeaseRenewEvery, [this] { return lease_stop_; })) {
      if (auto st = put_lease(); !st) log::warn("store.lock_renew_failed error=\"{}\"", st.error().message);
    }
  });
  return {};
}

void S3Store::release_lock() {
  if (lease_holder_.empty()) return;
  {
    std::lock_guard<std::mutex> lock(lease_mu_);
    lease_stop_ = true;
  }
  lease_cv_.notify_all();
  if (lease_renewer_.joinable()) lease_renewer_.join();
  const std::string key = state_key("lock.json");
  // Delete only our own lease (one that expired may belong to another run now).
  auto cur = client_.get_object(uri_.bucket, key);
  if (cur && *cur) {
    const auto j = nlohmann::json::parse(**cur, nullptr, false);
    if (j.is_object() && j.value("holder", std::string()) == lease_holder_) {
      if (auto st = client_.delete_objects(uri_.bucket, {key}); !st) {
        log::warn("store.lock_not_released key={} error=\"{}\"", key, st.error().message);
      }
    }
  }
  lease_holder_.clear();
}

std::string S3Store::describe() const { return fmt::format("s3://{}/{}", uri_.bucket, uri_.prefix); }

std::string S3Store::key_for(const std::string& path) const {
  return uri_.prefix.empty() ? path : uri_.prefix + "/" + path;
}

std::string S3Store::state_key(const std::string& name) const { return key_for(".hfmirror/" + name); }

// One marker per path, named by its hash so any path fits in a key.
std::string S3Store::pending_key(const std::string& path) const {
  return state_key("pending/" + sha256_hex(path).substr(0, 32));
}

Result<std::optional<Manifest>> S3Store::read_manifest() {
  HFM_ASSIGN_OR_RETURN(auto text, client_.get_object(uri_.bucket, state_key("manifest.json")));
  if (!text) return std::optional<Manifest>{};
  HFM_ASSIGN_OR_RETURN(Manifest m, manifest_from_json(*text));
  return std::optional<Manifest>(std::move(m));
}

Status S3Store::load_listing() {
  std::lock_guard<std::mutex> lock(mu_);
  if (listed_) return {};
  const std::string prefix = uri_.prefix.empty() ? "" : uri_.prefix + "/";
  HFM_ASSIGN_OR_RETURN(auto objects, client_.list_objects_v2(uri_.bucket, prefix));
  const std::string pending_prefix = prefix + ".hfmirror/pending/";
  const std::string state_prefix = prefix + ".hfmirror/";
  for (const auto& o : objects) {
    const std::string rel = o.key.substr(prefix.size());
    if (o.key.rfind(state_prefix, 0) == 0 && rel != ".hfmirror/manifest.json") {
      stale_state_ = true;  // meaningful only next to a complete manifest (a lease: maybe a dead run's)
    }
    if (o.key.rfind(pending_prefix, 0) == 0) continue;
    sizes_[o.key.substr(prefix.size())] = o.size_bytes;
  }
  listed_ = true;
  return {};
}

Result<std::vector<ManifestFile>> S3Store::read_journal() {
  std::vector<ManifestFile> out;
  HFM_ASSIGN_OR_RETURN(auto prev, client_.get_object(uri_.bucket, state_key("previous-manifest.json")));
  if (prev) {
    if (auto m = manifest_from_json(*prev)) out = m->files;
  }
  // Objects no manifest describes but that carry our content id were written
  // by an interrupted run: they are ours (to keep if current, to remove if not).
  // Anything else under the prefix belongs to someone else and is left alone.
  HFM_ASSIGN_OR_RETURN(auto current, read_manifest());
  HFM_TRY(load_listing());
  std::vector<std::string> unknown;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& entry : sizes_) {
      const std::string& path = entry.first;  // not a structured binding: clang 14 cannot capture those
      if (path.rfind(".hfmirror/", 0) == 0) continue;
      const bool described = (current && current->find(path)) ||
                             std::any_of(out.begin(), out.end(), [&](const ManifestFile& f) { return f.path == path; });
      if (!described) unknown.push_back(path);
    }
  }
  for (const auto& path : unknown) {
    if (!validate_repo_path(path)) continue;
    HFM_ASSIGN_OR_RETURN(auto info, client_.head_object(uri_.bucket, key_for(path)));
    if (!info || !info->metadata.count(kMetaContentId)) continue;
    ManifestFile f;
    f.path = path;
    f.size_bytes = info->size_bytes;
    f.content_id = info->metadata.at(kMetaContentId);
    f.id_kind = info->metadata.count(kMetaHash) && info->metadata.at(kMetaHash) == "sha256" ? ContentIdKind::kSha256
                                                                                            : ContentIdKind::kGitSha1;
    out.push_back(std::move(f));
  }
  HFM_ASSIGN_OR_RETURN(auto pend, client_.list_objects_v2(uri_.bucket, state_key("pending/")));
  for (const auto& o : pend) {
    HFM_ASSIGN_OR_RETURN(auto path, client_.get_object(uri_.bucket, o.key));
    if (path && validate_repo_path(*path)) {
      ManifestFile f;
      f.path = *path;  // content_id empty: not trusted
      out.push_back(f);
      std::lock_guard<std::mutex> lock(mu_);
      pending_.insert(*path);
    }
  }
  return out;
}

Status S3Store::begin_changes(const SyncContext&) {
  HFM_ASSIGN_OR_RETURN(auto text, client_.get_object(uri_.bucket, state_key("manifest.json")));
  if (!text) return {};
  // Withdraw: keep it as a planning aid, then remove the claim of completeness.
  HFM_TRY(client_.put_object(uri_.bucket, state_key("previous-manifest.json"), {text->data(), text->size()}, {}));
  return client_.delete_objects(uri_.bucket, {state_key("manifest.json")});
}

Result<bool> S3Store::file_is_current(const FileSpec& file, const std::optional<Manifest>& manifest,
                                      const std::vector<ManifestFile>& journal) {
  HFM_TRY(load_listing());
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto it = sizes_.find(file.path);
    if (it == sizes_.end() || it->second != file.size_bytes) return false;
    if (pending_.count(file.path)) return false;
  }
  // A complete manifest describes every object exactly. The journal of an
  // interrupted run does not: its run may have replaced the object after the
  // withdrawn manifest was written (and deleted the pending marker), so then
  // the object's own content id decides.
  if (manifest) {
    const ManifestFile* mf = manifest->find(file.path);
    if (mf && mf->content_id == file.content_id) return true;
  }
  (void)journal;
  HFM_ASSIGN_OR_RETURN(auto info, client_.head_object(uri_.bucket, key_for(file.path)));
  return info && info->metadata.count(kMetaContentId) && info->metadata.at(kMetaContentId) == file.content_id;
}

Result<std::unique_ptr<PartialFile>> S3Store::open_partial(const FileSpec& file, uint64_t part_size_bytes) {
  const std::string key = key_for(file.path);
  HFM_TRY(s3::plan_parts(file.size_bytes, part_size_bytes));  // S3's part limits, with a clear message
  if (file.size_bytes <= part_size_bytes) {
    return std::unique_ptr<PartialFile>(new S3SinglePutFile(client_, uri_.bucket, key, file));
  }
  auto f = std::make_unique<S3MultipartFile>(
      client_, uri_.bucket, key, state_key("uploads/" + upload_stem(file) + ".json"), file, part_size_bytes);
  HFM_TRY(f->open());
  return std::unique_ptr<PartialFile>(std::move(f));
}

Status S3Store::record_pending(const std::string& path) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!sizes_.count(path)) return {};  // nothing there to half-replace
  }
  return client_.put_object(uri_.bucket, pending_key(path), {path.data(), path.size()}, {});
}

Status S3Store::record_verified(const FileSpec& file) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!sizes_.count(file.path)) return {};
    sizes_[file.path] = file.size_bytes;
  }
  return client_.delete_objects(uri_.bucket, {pending_key(file.path)});
}

Status S3Store::remove_file(const std::string& path) {
  HFM_ASSIGN_OR_RETURN(std::string safe, validate_repo_path(path));
  return client_.delete_objects(uri_.bucket, {key_for(safe)});
}

Status S3Store::finish(const SyncContext&, const std::vector<FileSpec>&) { return {}; }

Status S3Store::write_manifest(const Manifest& manifest) {
  const std::string body = manifest_to_json(manifest);
  HFM_TRY(client_.put_object(uri_.bucket, state_key("manifest.json"), {body.data(), body.size()}, {}));
  return remove_stale_state();
}

Result<bool> S3Store::has_stale_state() {
  HFM_TRY(load_listing());
  std::lock_guard<std::mutex> lock(mu_);
  return stale_state_;
}

Status S3Store::remove_stale_state() {
  // A finished run leaves no multipart upload and no resume record behind.
  HFM_ASSIGN_OR_RETURN(auto uploads, client_.list_multipart_uploads(uri_.bucket, key_for("")));
  for (const auto& u : uploads) {
    log::info("s3.abort_stale_upload key={}", u.key);
    HFM_TRY(client_.abort_multipart_upload(uri_.bucket, u.key, u.upload_id));
  }
  std::vector<std::string> stale;
  for (const char* dir : {"uploads/", "pending/"}) {
    HFM_ASSIGN_OR_RETURN(auto objs, client_.list_objects_v2(uri_.bucket, state_key(dir)));
    for (const auto& o : objs) stale.push_back(o.key);
  }
  stale.push_back(state_key("previous-manifest.json"));
  return client_.delete_objects(uri_.bucket, stale);
}

Result<std::optional<uint64_t>> S3Store::file_size(const ManifestFile& file) {
  HFM_TRY(load_listing());
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = sizes_.find(file.path);
  if (it == sizes_.end()) return std::optional<uint64_t>{};
  return std::optional<uint64_t>(it->second);
}

Status S3Store::read_file(const ManifestFile& file, uint64_t offset, std::span<char> out) {
  if (out.empty()) return {};
  HFM_ASSIGN_OR_RETURN(auto bytes, client_.get_object(uri_.bucket, key_for(file.path),
                                                      http::ByteRange{offset, offset + out.size() - 1}));
  if (!bytes || bytes->size() != out.size()) {
    return unexpected(ErrorCode::kIntegrity, fmt::format("short read of s3://{}/{}", uri_.bucket, key_for(file.path)));
  }
  std::memcpy(out.data(), bytes->data(), out.size());
  return {};
}

Result<std::optional<std::string>> S3Store::stored_content_id(const ManifestFile& file) {
  HFM_ASSIGN_OR_RETURN(auto info, client_.head_object(uri_.bucket, key_for(file.path)));
  if (!info) return std::optional<std::string>{};
  const auto it = info->metadata.find(kMetaContentId);
  return std::optional<std::string>(it == info->metadata.end() ? "" : it->second);
}

}  // namespace hfm::store
