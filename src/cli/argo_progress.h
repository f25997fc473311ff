// ArgoProgress: Argo Workflows shows a step's progress from the file named by
// ARGO_PROGRESS_FILE, as "N/M". While a sync runs we write files in place
// (already current + verified this run) over the files selected, every few
// seconds and once more at the end. Without the variable it does nothing; a
// file that cannot be written is logged once and never fails the run.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "pipeline/progress.h"

namespace hfm::cli {

class ArgoProgress {
 public:
  explicit ArgoProgress(const pipeline::Progress& progress,
                        std::chrono::milliseconds interval = std::chrono::seconds(5));
  ~ArgoProgress();  // writes the final state

 private:
  void write();

  const pipeline::Progress& progress_;
  std::string path_;
  std::chrono::milliseconds interval_;
  bool warned_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_locked_ = false;
  std::thread thread_;  // last
};

}  // namespace hfm::cli
