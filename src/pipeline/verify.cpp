#include "pipeline/verify.h"

#include <fmt/format.h>

#include <memory>
#include <mutex>
#include <thread>

#include "core/hash.h"
#include "core/log.h"

namespace hfm::pipeline {

Result<VerifyReport> verify_destination(store::Destination& dest, const VerifySettings& settings, Progress& progress,
                                        const std::atomic<bool>& cancel_flag) {
  HFM_ASSIGN_OR_RETURN(auto manifest, dest.read_manifest());
  if (!manifest) {
    return unexpected(ErrorCode::kIntegrity,
                      fmt::format("{} has no .hfmirror/manifest.json: it is not a complete mirror "
                                  "(run `hfmirror sync` first, or finish an interrupted one)",
                                  dest.describe()));
  }
  VerifyReport report;
  report.repo_id = manifest->repo_id;
  report.commit = manifest->commit;
  progress.files_total = manifest->files.size();
  progress.bytes_total = manifest->total_bytes();
  progress.set_phase("verifying");

  std::mutex mu;
  std::atomic<size_t> next{0};
  auto check_one = [&](const store::ManifestFile& mf, std::vector<char>& buf) -> Status {
    HFM_ASSIGN_OR_RETURN(auto size, dest.file_size(mf));
    if (!size) return unexpected(ErrorCode::kIntegrity, fmt::format("'{}' is missing", mf.path));
    if (*size != mf.size_bytes) {
      return unexpected(ErrorCode::kIntegrity,
                        fmt::format("'{}' has {} bytes, the manifest says {}", mf.path, *size, mf.size_bytes));
    }
    if (!settings.deep) {
      HFM_ASSIGN_OR_RETURN(auto stored, dest.stored_content_id(mf));
      if (stored) {
        if (*stored != mf.content_id) {
          return unexpected(ErrorCode::kIntegrity,
                            fmt::format("'{}' is recorded as content {}, the manifest says {}", mf.path,
                                        stored->empty() ? "(none)" : *stored, mf.content_id));
        }
        progress.bytes_done += mf.size_bytes;
        return {};
      }
    }
    ContentHasher hasher(mf.id_kind, mf.size_bytes);
    for (uint64_t off = 0; off < mf.size_bytes; off += buf.size()) {
      if (cancel_flag.load()) return unexpected(ErrorCode::kCancelled, "interrupted");
      const auto n = static_cast<size_t>(std::min<uint64_t>(buf.size(), mf.size_bytes - off));
      HFM_TRY(dest.read_file(mf, off, {buf.data(), n}));
      hasher.update(std::span<const std::byte>(reinterpret_cast<const std::byte*>(buf.data()), n));
      progress.bytes_done += n;
    }
    const std::string digest = hasher.finish_hex();
    if (digest != mf.content_id) {
      return unexpected(ErrorCode::kIntegrity, fmt::format("'{}' does not match its content id: expected {}, got {}",
                                                           mf.path, mf.content_id, digest));
    }
    return {};
  };
  auto worker = [&] {
    std::vector<char> buf(static_cast<size_t>(settings.chunk_bytes));
    while (true) {
      const size_t i = next.fetch_add(1);
      if (i >= manifest->files.size()) return;
      const auto& mf = manifest->files[i];
      Status st = check_one(mf, buf);
      std::lock_guard<std::mutex> lock(mu);
      report.files_checked++;
      if (st) {
        report.files_ok++;
        report.bytes_checked += mf.size_bytes;
        progress.files_done++;
      } else {
        progress.files_failed++;
        log::error("verify.failed path={} error=\"{}\"", mf.path, st.error().message);
        report.problems.push_back({mf.path, st.error()});
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 0; t < std::max<size_t>(settings.threads, 1); ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (cancel_flag.load()) return unexpected(ErrorCode::kCancelled, "interrupted");
  return report;
}

}  // namespace hfm::pipeline
