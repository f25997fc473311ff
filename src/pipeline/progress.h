// Progress: counters the pipeline publishes and the CLI renders. Plain
// atomics, written by the pipeline, read by the renderer thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace hfm::pipeline {

struct Progress {
  std::atomic<uint64_t> files_total{0};
  std::atomic<uint64_t> files_done{0};     // verified and in place this run
  std::atomic<uint64_t> files_skipped{0};  // already current
  std::atomic<uint64_t> files_failed{0};
  std::atomic<uint64_t> bytes_total{0};   // bytes this run must move
  std::atomic<uint64_t> bytes_done{0};    // received or reused from a partial
  std::atomic<uint64_t> bytes_reused{0};  // resumed from a partial file
  std::atomic<bool> transferring{false};

  void set_phase(std::string phase) {
    std::lock_guard<std::mutex> lock(mu_);
    phase_ = std::move(phase);
  }
  std::string phase() const {
    std::lock_guard<std::mutex> lock(mu_);
    return phase_;
  }

 private:
  mutable std::mutex mu_;
  std::string phase_ = "starting";
};

}  // namespace hfm::pipeline
