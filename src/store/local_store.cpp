#include "store/local_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/hash.h"
#include "core/log.h"
#include "core/units.h"
#include "store/path_safety.h"

namespace hfm::store {
namespace fs = std::filesystem;
namespace {

Error io_error(const std::string& what, const fs::path& p, int err) {
  return make_error(ErrorCode::kIo, fmt::format("{} {}: {}", what, p.string(), std::strerror(err)));
}

Status fsync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open folder", dir, errno);
  ::fsync(fd);
  ::close(fd);
  return {};
}

Result<std::string> read_small_file(const fs::path& p, size_t max_bytes) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return io_error("cannot read", p, errno);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > max_bytes) return unexpected(ErrorCode::kProtocol, fmt::format("{} is too large", p.string()));
  return s;
}

// Reads exactly out.size() bytes at offset; a short file is an I/O error.
Status pread_all(int fd, uint64_t offset, std::span<char> out, const fs::path& p) {
  size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::pread(fd, out.data() + got, out.size() - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return io_error("cannot read", p, n < 0 ? errno : EIO);
    got += static_cast<size_t>(n);
  }
  return {};
}

std::string id_kind_name(ContentIdKind k) { return k == ContentIdKind::kSha256 ? "sha256" : "git-sha1"; }

// Partial-file names: unique per (path, content) so two repo files with the
// same bytes never share a partial.
std::string partial_stem(const FileSpec& f) { return sha256_hex(f.path).substr(0, 16) + "-" + f.content_id; }

class LocalPartialFile final : public PartialFile {
 public:
  LocalPartialFile(fs::path data_path, fs::path state_path, fs::path final_path, fs::path root, FileSpec spec,
                   uint64_t part_size, bool durable, bool plain_layout)
      : data_path_(std::move(data_path)),
        state_path_(std::move(state_path)),
        final_path_(std::move(final_path)),
        root_(std::move(root)),
        spec_(std::move(spec)),
        part_size_(part_size),
        durable_(durable),
        plain_layout_(plain_layout) {}

  ~LocalPartialFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status open() {
    const size_t parts =
        spec_.size_bytes == 0 ? 0 : static_cast<size_t>((spec_.size_bytes + part_size_ - 1) / part_size_);
    done_.assign(parts, false);
    bool resumed = false;
    // A one-part file has no resume record: metadata calls are slow on some
    // filesystems, and thousands of small files would pay for them.
    multi_part_ = parts > 1;
    if (multi_part_ && fs::exists(data_path_) && fs::exists(state_path_)) {
      auto text = read_small_file(state_path_, 4u << 20);
      if (text) {
        try {
          const auto j = nlohmann::json::parse(*text);
          if (j.at("content_id") == spec_.content_id && j.at("size") == spec_.size_bytes &&
              j.at("part_size") == part_size_) {
            for (const auto& idx : j.at("done")) {
              const auto i = idx.get<size_t>();
              if (i < parts) done_[i] = true;
            }
            resumed = true;
          }
        } catch (const std::exception&) {
          resumed = false;  // unreadable state: start over
        }
      }
    }
    if (!resumed && multi_part_) {
      std::error_code ec;
      fs::remove(state_path_, ec);
      done_.assign(parts, false);
    }
    fd_ = ::open(data_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | (resumed ? 0 : O_TRUNC), 0644);
    if (fd_ < 0) return io_error("cannot create", data_path_, errno);
    if (::ftruncate(fd_, static_cast<off_t>(spec_.size_bytes)) != 0) return io_error("cannot size", data_path_, errno);
    size_t reused = 0;
    for (bool d : done_) reused += d ? 1 : 0;
    if (reused > 0) log::info("store.resume path={} parts_reused={}/{}", spec_.path, reused, parts);
    return {};
  }

  ResumeInfo resume_info() const override {
    std::lock_guard<std::mutex> lock(mu_);
    ResumeInfo info;
    info.readable_parts = done_;
    return info;
  }

  void write_part(size_t part_index, uint64_t offset, std::span<const char> bytes,
                  std::function<void(Status)> done) override {
    Status st = pwrite_all(offset, bytes);
    // A one-part file is committed right away: no resume record needed.
    if (st && done_.size() > 1) st = mark_part_done(part_index);
    done(std::move(st));
  }

  Status pwrite_all(uint64_t offset, std::span<const char> bytes) {
    size_t written = 0;
    while (written < bytes.size()) {
      const ssize_t n =
          ::pwrite(fd_, bytes.data() + written, bytes.size() - written, static_cast<off_t>(offset + written));
      if (n < 0) {
        if (errno == EINTR) continue;
        return io_error("cannot write", data_path_, errno);
      }
      written += static_cast<size_t>(n);
    }
    return {};
  }

  Status read_part(uint64_t offset, std::span<char> out) override { return pread_all(fd_, offset, out, data_path_); }

  Status mark_part_done(size_t part_index) {
    std::lock_guard<std::mutex> lock(mu_);
    if (part_index >= done_.size()) return unexpected(ErrorCode::kInternal, "part index out of range");
    done_[part_index] = true;
    nlohmann::json j;
    j["path"] = spec_.path;
    j["content_id"] = spec_.content_id;
    j["size"] = spec_.size_bytes;
    j["part_size"] = part_size_;
    auto& done = j["done"] = nlohmann::json::array();
    for (size_t i = 0; i < done_.size(); ++i)
      if (done_[i]) done.push_back(i);
    // Not fsynced: it only has to survive a killed process, and the final
    // hash check catches anything a crash of the machine could leave behind.
    return write_file_atomic(state_path_, j.dump(), false);
  }

  Status commit(std::span<const char>) override {
    if (durable_ && ::fdatasync(fd_) != 0) return io_error("cannot flush", data_path_, errno);
    ::close(fd_);
    fd_ = -1;
    if (plain_layout_) {
      // The repo path itself: fs::relative would resolve a planted symlink first.
      HFM_TRY(make_parents_inside(root_, spec_.path));
      // Refuse to replace a symlink (or anything but a regular file) planted at the target.
      struct stat st {};
      if (::lstat(final_path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
        return unexpected(ErrorCode::kUnsafePath,
                          fmt::format("refusing to replace non-regular file at {}", final_path_.string()));
      }
    } else {
      std::error_code ec;
      fs::create_directories(final_path_.parent_path(), ec);
      if (ec) return io_error("cannot create folder", final_path_.parent_path(), ec.value());
    }
    if (::rename(data_path_.c_str(), final_path_.c_str()) != 0)
      return io_error("cannot move into place", final_path_, errno);
    std::error_code ec;
    if (multi_part_) fs::remove(state_path_, ec);
    if (durable_) HFM_TRY(fsync_dir(final_path_.parent_path()));
    committed_ = true;
    return {};
  }

  void abandon(bool keep_for_resume) override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (committed_ || keep_for_resume) return;
    std::error_code ec;
    fs::remove(data_path_, ec);
    if (multi_part_) fs::remove(state_path_, ec);
  }

 private:
  bool multi_part_ = false;
  fs::path data_path_;
  fs::path state_path_;
  fs::path final_path_;
  fs::path root_;
  FileSpec spec_;
  uint64_t part_size_;
  bool durable_;
  bool plain_layout_;
  int fd_ = -1;
  bool committed_ = false;
  mutable std::mutex mu_;
  std::vector<bool> done_;
};

}  // namespace

std::string hf_cache_repo_folder(const std::string& repo_type, const std::string& repo_id) {
  std::string name = repo_type + "s--" + repo_id;
  size_t pos = 0;
  while ((pos = name.find('/', pos)) != std::string::npos) name.replace(pos, 1, "--");
  return name;
}

Status write_file_atomic(const fs::path& path, std::string_view content, bool durable) {
  const fs::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("cannot create", tmp, errno);
  size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return io_error("cannot write", tmp, err);
    }
    written += static_cast<size_t>(n);
  }
  if (durable && ::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    return io_error("cannot flush", tmp, err);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error("cannot move into place", path, errno);
  if (durable) return fsync_dir(path.parent_path());
  return {};
}

Status make_parents_inside(const fs::path& root, const std::string& rel) {
  fs::path cur = root;
  const fs::path relp(rel);
  auto it = relp.begin();
  auto end = relp.end();
  if (it == end) return {};
  --end;  // the last element is the file itself
  for (; it != end; ++it) {
    cur /= *it;
    struct stat st {};
    if (::lstat(cur.c_str(), &st) == 0) {
      if (S_ISLNK(st.st_mode))
        return unexpected(ErrorCode::kUnsafePath,
                          fmt::format("refusing to follow symlink {} inside the destination", cur.string()));
      if (!S_ISDIR(st.st_mode))
        return unexpected(ErrorCode::kIo, fmt::format("{} exists and is not a folder", cur.string()));
      continue;
    }
    if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) return io_error("cannot create folder", cur, errno);
  }
  return {};
}

LocalStore::LocalStore(fs::path root, LocalLayout layout, fs::path repo_dir, bool durable)
    : root_(std::move(root)),
      layout_(layout),
      repo_dir_(std::move(repo_dir)),
      state_dir_(repo_dir_ / ".hfmirror"),
      durable_(durable) {}

Result<std::unique_ptr<LocalStore>> LocalStore::open(const fs::path& root, LocalLayout layout,
                                                     const std::string& repo_type, const std::string& repo_id,
                                                     bool durable_writes) {
  // Nothing is created here: a dry run or a verify must leave no trace.
  std::error_code ec;
  if (fs::exists(root, ec) && !fs::is_directory(root, ec)) {
    return unexpected(ErrorCode::kUsage, fmt::format("destination {} exists and is not a folder", root.string()));
  }
  const fs::path abs_root = fs::absolute(root, ec).lexically_normal();
  fs::path repo_dir = abs_root;
  if (layout == LocalLayout::kHfCache) repo_dir = abs_root / hf_cache_repo_folder(repo_type, repo_id);
  return std::unique_ptr<LocalStore>(new LocalStore(abs_root, layout, repo_dir, durable_writes));
}

Status LocalStore::prepare() {
  std::error_code ec;
  fs::create_directories(state_dir_ / "partial", ec);
  if (ec) return io_error("cannot create", state_dir_ / "partial", ec.value());
  if (layout_ == LocalLayout::kHfCache) {
    // Cache-directory tagging standard, as huggingface_hub writes it.
    const fs::path tag = root_ / "CACHEDIR.TAG";
    if (!fs::exists(tag)) {
      HFM_TRY(write_file_atomic(tag, "Signature: 8a477f597d28d172789f06886806bc55\n", false));
    }
  }
  return {};
}

std::string LocalStore::describe() const { return repo_dir_.string(); }
std::string LocalStore::layout() const { return layout_ == LocalLayout::kPlain ? "plain" : "hf-cache"; }

fs::path LocalStore::final_path(const std::string& path, const std::string& content_id) const {
  if (layout_ == LocalLayout::kHfCache) return repo_dir_ / "blobs" / content_id;
  return repo_dir_ / path;
}

Result<std::optional<Manifest>> LocalStore::read_manifest() {
  const fs::path p = state_dir_ / "manifest.json";
  if (!fs::exists(p)) return std::optional<Manifest>{};
  HFM_ASSIGN_OR_RETURN(std::string text, read_small_file(p, 1u << 30));
  HFM_ASSIGN_OR_RETURN(Manifest m, manifest_from_json(text));
  return std::optional<Manifest>(std::move(m));
}

Result<std::vector<ManifestFile>> LocalStore::read_journal() {
  std::vector<ManifestFile> out;
  const fs::path prev = state_dir_ / "previous-manifest.json";
  if (fs::exists(prev)) {
    auto text = read_small_file(prev, 1u << 30);
    if (text) {
      auto m = manifest_from_json(*text);
      if (m) out = m->files;
    }
  }
  std::ifstream in(state_dir_ / "journal.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    try {
      const auto j = nlohmann::json::parse(line);
      ManifestFile f;
      f.path = j.at("path").get<std::string>();
      if (!validate_repo_path(f.path)) continue;
      if (j.contains("content_id")) {
        f.content_id = j.at("content_id").get<std::string>();
        f.size_bytes = j.at("size").get<uint64_t>();
        f.id_kind = j.at("hash") == "sha256" ? ContentIdKind::kSha256 : ContentIdKind::kGitSha1;
        f.git_oid = j.value("git_oid", "");
      }
      out.push_back(std::move(f));
    } catch (const std::exception&) {
      break;  // a torn last line from a killed run ends the journal
    }
  }
  return out;
}

Status LocalStore::begin_changes(const SyncContext&) {
  HFM_TRY(prepare());
  const fs::path m = state_dir_ / "manifest.json";
  if (fs::exists(m)) {
    const fs::path prev = state_dir_ / "previous-manifest.json";
    if (::rename(m.c_str(), prev.c_str()) != 0) return io_error("cannot withdraw manifest", m, errno);
    close_journal();
    std::error_code ec;
    fs::remove(state_dir_ / "journal.jsonl", ec);
    if (durable_) HFM_TRY(fsync_dir(state_dir_));
  }
  return {};
}

Result<bool> LocalStore::file_is_current(const FileSpec& file, const std::optional<Manifest>& manifest,
                                         const std::vector<ManifestFile>& journal) {
  const fs::path p = final_path(file.path, file.content_id);
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  if (static_cast<uint64_t>(st.st_size) != file.size_bytes) return false;
  // hf-cache blobs are named by content and only placed after verification.
  if (layout_ == LocalLayout::kHfCache) return true;
  std::string known;
  if (manifest) {
    if (const ManifestFile* mf = manifest->find(file.path)) known = mf->content_id;
  }
  for (const auto& j : journal) {
    if (j.path == file.path) known = j.content_id;  // later records win; pending clears
  }
  return known == file.content_id;
}

Result<std::unique_ptr<PartialFile>> LocalStore::open_partial(const FileSpec& file, uint64_t part_size_bytes) {
  const std::string stem = partial_stem(file);
  auto pf = std::make_unique<LocalPartialFile>(state_dir_ / "partial" / (stem + ".part"),
                                               state_dir_ / "partial" / (stem + ".state"),
                                               final_path(file.path, file.content_id), repo_dir_, file, part_size_bytes,
                                               durable_, layout_ == LocalLayout::kPlain);
  HFM_TRY(pf->open());
  return std::unique_ptr<PartialFile>(std::move(pf));
}

Status LocalStore::append_journal(const std::string& line) {
  std::lock_guard<std::mutex> lock(journal_mu_);
  const fs::path p = state_dir_ / "journal.jsonl";
  if (journal_fd_ < 0) {
    // Kept open for the run: one open, not one per file.
    journal_fd_ = ::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (journal_fd_ < 0) return io_error("cannot open journal", p, errno);
  }
  const std::string data = line + "\n";
  const ssize_t n = ::write(journal_fd_, data.data(), data.size());
  if (n != static_cast<ssize_t>(data.size())) return io_error("cannot append journal", p, errno);
  return {};
}

void LocalStore::close_journal() {
  std::lock_guard<std::mutex> lock(journal_mu_);
  if (journal_fd_ >= 0) ::close(journal_fd_);
  journal_fd_ = -1;
}

LocalStore::~LocalStore() {
  close_journal();
  release_lock();
}

Status LocalStore::acquire_lock() {
  if (lock_fd_ >= 0) return {};
  HFM_TRY(prepare());
  const fs::path p = state_dir_ / "lock";
  // The holder deletes the file when done, so a lock taken on a file that is
  // no longer at `p` is stale: try again on the new one.
  for (int attempt = 0;; ++attempt) {
    const int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return io_error("cannot open lock file", p, errno);
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      struct stat held {
      }, now{};
      if (::fstat(fd, &held) == 0 && ::stat(p.c_str(), &now) == 0 && held.st_ino == now.st_ino &&
          held.st_dev == now.st_dev) {
        lock_fd_ = fd;
        break;
      }
      ::close(fd);
      if (attempt < 10) continue;
      return unexpected(ErrorCode::kBusy, fmt::format("the lock {} keeps changing hands", p.string()));
    }
    const int err = errno;
    char holder[256] = {};
    const ssize_t n = ::pread(fd, holder, sizeof holder - 1, 0);
    ::close(fd);
    if (err != EWOULDBLOCK) return io_error("cannot lock", p, err);
    std::string who = n > 0 ? std::string(holder, static_cast<size_t>(n)) : "unknown";
    while (!who.empty() && (who.back() == '\n' || who.back() == ' ')) who.pop_back();
    return unexpected(ErrorCode::kBusy, fmt::format("another hfmirror run ({}) is changing {}; nothing was done — "
                                                    "run again when it has finished",
                                                    who, repo_dir_.string()));
  }
  const int fd = lock_fd_;
  char host[256] = {};
  (void)::gethostname(host, sizeof host - 1);
  const std::string me =
      fmt::format("pid {} on {} since {}", ::getpid(), host, utc_timestamp_iso8601(std::chrono::system_clock::now()));
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) != static_cast<ssize_t>(me.size())) {
    log::warn("store.lock_info_not_written path={}", p.string());  // the lock itself holds
  }
  return {};
}

void LocalStore::release_lock() {
  if (lock_fd_ < 0) return;
  // Unlink while still holding it; a run that opened the old file notices (see acquire_lock).
  std::error_code ec;
  fs::remove(state_dir_ / "lock", ec);
  ::close(lock_fd_);
  lock_fd_ = -1;
}

Status LocalStore::record_pending(const std::string& path) {
  if (layout_ == LocalLayout::kHfCache) return {};  // blobs are never replaced in place
  struct stat st {};
  if (::lstat((repo_dir_ / path).c_str(), &st) != 0) return {};  // nothing there to half-replace
  return append_journal(nlohmann::json{{"path", path}}.dump());
}

Status LocalStore::record_verified(const FileSpec& file) {
  return append_journal(nlohmann::json{
      {"path", file.path},
      {"content_id", file.content_id},
      {"size", file.size_bytes},
      {"hash", id_kind_name(file.id_kind)},
      {"git_oid",
       file.git_oid}}.dump());
}

Status LocalStore::remove_file(const std::string& path) {
  if (layout_ == LocalLayout::kHfCache) return {};  // old snapshots keep their links, as in huggingface_hub
  HFM_ASSIGN_OR_RETURN(std::string safe, validate_repo_path(path));
  const fs::path p = repo_dir_ / safe;
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return {};
  if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) return {};
  HFM_TRY(append_journal(nlohmann::json{{"path", path}}.dump()));
  if (::unlink(p.c_str()) != 0) return io_error("cannot remove", p, errno);
  // Drop folders left empty, up to the root.
  std::error_code ec;
  for (fs::path dir = p.parent_path(); dir != repo_dir_ && dir.string().size() > repo_dir_.string().size();
       dir = dir.parent_path()) {
    if (!fs::is_empty(dir, ec) || ec) break;
    fs::remove(dir, ec);
  }
  return {};
}

Status LocalStore::finish(const SyncContext& ctx, const std::vector<FileSpec>& files) {
  if (layout_ != LocalLayout::kHfCache) return {};
  const fs::path snapshot = repo_dir_ / "snapshots" / ctx.commit;
  for (const auto& f : files) {
    HFM_TRY(make_parents_inside(snapshot.parent_path().parent_path(), "snapshots/" + ctx.commit + "/" + f.path));
    // Relative link: one "../" per folder between the link and the repo folder.
    const size_t depth = 2 + static_cast<size_t>(std::count(f.path.begin(), f.path.end(), '/'));
    std::string target;
    for (size_t i = 0; i < depth; ++i) target += "../";
    target += "blobs/" + f.content_id;
    const fs::path link = snapshot / f.path;
    std::error_code ec;
    if (fs::is_symlink(link, ec)) {
      if (fs::read_symlink(link, ec) == target) continue;
      fs::remove(link, ec);
    }
    if (::symlink(target.c_str(), link.c_str()) != 0) return io_error("cannot link", link, errno);
  }
  // refs/<revision> holds the commit, without newline; refs/pr/1 nests.
  if (!ctx.revision.empty() && ctx.revision != ctx.commit) {
    HFM_ASSIGN_OR_RETURN(std::string rev, validate_repo_path(ctx.revision));
    HFM_TRY(make_parents_inside(repo_dir_, "refs/" + rev));
    HFM_TRY(write_file_atomic(repo_dir_ / "refs" / rev, ctx.commit, durable_));
  }
  return {};
}

Status LocalStore::write_manifest(const Manifest& manifest) {
  HFM_TRY(write_file_atomic(state_dir_ / "manifest.json", manifest_to_json(manifest), durable_));
  return remove_stale_state();
}

Result<bool> LocalStore::has_stale_state() {
  std::error_code ec;
  return fs::exists(state_dir_ / "journal.jsonl", ec) || fs::exists(state_dir_ / "previous-manifest.json", ec) ||
         fs::exists(state_dir_ / "lock", ec) ||
         (fs::is_directory(state_dir_ / "partial", ec) && !fs::is_empty(state_dir_ / "partial", ec));
}

Status LocalStore::remove_stale_state() {
  close_journal();
  std::error_code ec;
  // Complete: partial files left by earlier interrupted runs can never be used now.
  for (const auto& entry : fs::directory_iterator(state_dir_ / "partial", ec)) fs::remove(entry.path(), ec);
  fs::remove(state_dir_ / "journal.jsonl", ec);
  fs::remove(state_dir_ / "previous-manifest.json", ec);
  return {};
}

Result<std::optional<uint64_t>> LocalStore::file_size(const ManifestFile& file) {
  struct stat st {};
  const fs::path p = final_path(file.path, file.content_id);
  if (::lstat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::optional<uint64_t>{};
  if (layout_ == LocalLayout::kHfCache) {
    // The snapshot link must exist too, or huggingface_hub cannot find the file.
    HFM_ASSIGN_OR_RETURN(auto m, read_manifest());
    if (m) {
      std::error_code ec;
      const fs::path link = repo_dir_ / "snapshots" / m->commit / file.path;
      if (fs::canonical(link, ec) != fs::canonical(p, ec) || ec) return std::optional<uint64_t>{};
    }
  }
  return std::optional<uint64_t>(static_cast<uint64_t>(st.st_size));
}

Status LocalStore::read_file(const ManifestFile& file, uint64_t offset, std::span<char> out) {
  const fs::path p = final_path(file.path, file.content_id);
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return io_error("cannot open", p, errno);
  Status st = pread_all(fd, offset, out, p);
  ::close(fd);
  return st;
}

}  // namespace hfm::store
