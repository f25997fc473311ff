// WorkerPool: a fixed set of threads for CPU and disk work (hashing, pwrite,
// read-back) so the I/O thread never blocks on them.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hfm::pipeline {

class WorkerPool {
 public:
  explicit WorkerPool(size_t threads);
  ~WorkerPool();  // runs every queued task, then joins
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void post(std::function<void()> task);

 private:
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_locked_;
  bool stopping_locked_ = false;
  std::vector<std::thread> threads_;  // last: joined before the queue dies
};

}  // namespace hfm::pipeline
