#include "pipeline/worker_pool.h"

namespace hfm::pipeline {

WorkerPool::WorkerPool(size_t threads) {
  if (threads == 0) threads = 1;
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_locked_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_locked_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void WorkerPool::run() {
  while (true) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_locked_ || !tasks_locked_.empty(); });
      if (tasks_locked_.empty()) return;
      task = std::move(tasks_locked_.front());
      tasks_locked_.pop_front();
    }
    task();
  }
}

}  // namespace hfm::pipeline
