#include "cli/argo_progress.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "core/log.h"

namespace hfm::cli {

ArgoProgress::ArgoProgress(const pipeline::Progress& progress, std::chrono::milliseconds interval)
    : progress_(progress), interval_(interval) {
  const char* p = std::getenv("ARGO_PROGRESS_FILE");
  if (p == nullptr || *p == '\0') return;
  path_ = p;
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, interval_, [this] { return stop_locked_; })) write();
  });
}

ArgoProgress::~ArgoProgress() {
  if (path_.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_locked_ = true;
  }
  cv_.notify_all();
  thread_.join();
  write();
}

void ArgoProgress::write() {
  const uint64_t total = progress_.files_total.load();
  const uint64_t done = std::min(total, progress_.files_skipped.load() + progress_.files_done.load());
  // Written beside and renamed over, so Argo never reads half a line.
  const std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << done << "/" << total << "\n";
    if (!out) {
      if (!warned_) log::warn("argo.progress_not_written path={}", path_);
      warned_ = true;
      return;
    }
  }
  if (std::rename(tmp.c_str(), path_.c_str()) != 0 && !warned_) {
    log::warn("argo.progress_not_written path={}", path_);
    warned_ = true;
  }
}

}  // namespace hfm::cli
