// The one retry policy every request uses: exponential backoff with full
// jitter, server-given delays honoured (Retry-After, RateLimit r=0;t=N), and a
// retry budget shared by the whole run so a dead endpoint fails the job in
// bounded time instead of retrying forever.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string_view>
#include <thread>

#include "http/request.h"

namespace hfm::http {

struct RetrySettings {
  int max_attempts = 6;  // per request, first try included
  std::chrono::milliseconds base_delay{250};
  std::chrono::milliseconds max_delay{20'000};
  std::chrono::seconds max_server_delay{300};  // cap on Retry-After we obey
  int budget = 100;                            // retries per run, refilled by successes
};

// Shared by all requests of a Client. Each retry takes one token; every 10
// successes give one back (up to the initial capacity).
class RetryBudget {
 public:
  explicit RetryBudget(int capacity) : capacity_(capacity * 10), tokens_(capacity * 10) {}
  bool try_take();
  void on_success();
  int remaining() const { return tokens_.load() / 10; }

 private:
  int capacity_;
  std::atomic<int> tokens_;
};

// HTTP statuses worth another attempt.
bool is_retryable_status(int status);

// Delay the server asked for: Retry-After (seconds or HTTP-date), or
// RateLimit "…";r=0;t=N on a 429.
std::optional<std::chrono::milliseconds> server_requested_delay(const Response& response,
                                                                std::chrono::system_clock::time_point now);

// Full jitter: uniform in [0, min(max_delay, base * 2^(attempt-1))], but never
// less than what the server asked for.
std::chrono::milliseconds backoff_delay(const RetrySettings& settings, int failed_attempts,
                                        std::optional<std::chrono::milliseconds> server_delay, std::mt19937_64& rng);

// Runs callbacks after a delay on its own thread, for retries decided above
// this layer (an S3 error inside a 400 or a 200 answer, a credentials reload):
// they wait here so the I/O thread never sleeps, and they run off it. The
// thread starts with the first call. Callbacks must be short (they resubmit).
// Destruction runs whatever still waits at once, with cancelled = true.
class RetryTimer {
 public:
  using Callback = std::function<void(bool cancelled)>;

  RetryTimer() = default;
  ~RetryTimer();
  RetryTimer(const RetryTimer&) = delete;
  RetryTimer& operator=(const RetryTimer&) = delete;

  void after(std::chrono::milliseconds delay, Callback callback);

 private:
  void loop_on_timer();

  std::mutex mu_;
  std::condition_variable wake_;
  std::multimap<std::chrono::steady_clock::time_point, Callback> waiting_locked_;
  bool stopping_locked_ = false;
  std::thread thread_;  // last: joined by the destructor before the members above go
};

}  // namespace hfm::http
