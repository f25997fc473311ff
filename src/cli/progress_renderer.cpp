#include "cli/progress_renderer.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "core/units.h"

namespace hfm::cli {

ProgressRenderer::ProgressRenderer(const pipeline::Progress& progress, ProgressMode mode, std::string label,
                                   std::chrono::milliseconds line_interval)
    : progress_(progress), mode_(mode), label_(std::move(label)), interval_(line_interval) {
  if (mode_ == ProgressMode::kAuto) mode_ = ::isatty(STDERR_FILENO) ? ProgressMode::kBar : ProgressMode::kLines;
  start_ = last_time_ = std::chrono::steady_clock::now();
  if (mode_ != ProgressMode::kNone) thread_ = std::thread([this] { run(); });
}

ProgressRenderer::~ProgressRenderer() { stop(); }

void ProgressRenderer::stop() {
  if (stopped_) return;
  stopped_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_locked_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ProgressRenderer::run() {
  const auto tick = mode_ == ProgressMode::kBar ? std::chrono::milliseconds(250) : interval_;
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, tick, [this] { return stop_locked_; })) {
    lock.unlock();
    render(false);
    lock.lock();
  }
  lock.unlock();
  render(true);
}

void ProgressRenderer::render(bool final_line) {
  const auto now = std::chrono::steady_clock::now();
  const uint64_t done = progress_.bytes_done.load();
  const uint64_t total = progress_.bytes_total.load();
  const double dt = std::chrono::duration<double>(now - last_time_).count();
  if (dt > 0.2) {
    const double inst = static_cast<double>(done - std::min(done, last_bytes_)) / dt;
    rate_ = rate_ == 0 ? inst : 0.7 * rate_ + 0.3 * inst;  // smoothed
    last_bytes_ = done;
    last_time_ = now;
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - start_);
  const uint64_t files_done = progress_.files_done.load() + progress_.files_skipped.load();
  const uint64_t files_total = progress_.files_total.load();
  std::string eta = "--";
  if (rate_ > 1 && total > done) {
    eta = format_duration(
        std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(total - done) / rate_ * 1000)));
  }
  const double frac = total == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
  if (mode_ == ProgressMode::kBar) {
    constexpr int kWidth = 28;
    const int filled = static_cast<int>(frac * kWidth);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(kWidth - filled), '.');
    const std::string line =
        fmt::format("\r{} [{}] {:5.1f}%  {}/{}  files {}/{}  {}  ETA {}   ", label_, bar, frac * 100,
                    format_bytes(done), format_bytes(total), files_done, files_total, format_rate(rate_), eta);
    std::fputs(line.c_str(), stderr);
    if (final_line) std::fputs("\n", stderr);
    std::fflush(stderr);
    return;
  }
  if (!progress_.transferring.load() && !final_line && done == 0) return;
  std::fprintf(stderr, "%s\n",
               fmt::format("progress {} phase={} bytes={}/{} ({:.1f}%) files={}/{} failed={} rate={} elapsed={} eta={}",
                           label_, progress_.phase(), done, total, frac * 100, files_done, files_total,
                           progress_.files_failed.load(), format_rate(rate_), format_duration(elapsed), eta)
                   .c_str());
}

}  // namespace hfm::cli
