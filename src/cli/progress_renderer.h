// ProgressRenderer: turns pipeline::Progress into output on stderr. On a TTY
// a single redrawn bar with rate and ETA; otherwise (Kubernetes logs, CI) a
// plain line every few seconds. Runs on its own thread until stopped.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "pipeline/progress.h"

namespace hfm::cli {

enum class ProgressMode { kAuto, kBar, kLines, kNone };

class ProgressRenderer {
 public:
  ProgressRenderer(const pipeline::Progress& progress, ProgressMode mode, std::string label,
                   std::chrono::milliseconds line_interval = std::chrono::seconds(10));
  ~ProgressRenderer();  // stops and prints the final state
  void stop();

 private:
  void run();
  void render(bool final_line);

  const pipeline::Progress& progress_;
  ProgressMode mode_;
  std::string label_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point start_;
  uint64_t last_bytes_ = 0;
  std::chrono::steady_clock::time_point last_time_;
  double rate_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_locked_ = false;
  bool stopped_ = false;
  std::thread thread_;  // last
};

}  // namespace hfm::cli
