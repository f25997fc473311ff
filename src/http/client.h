// Client: the one I/O thread of the process. It runs libcurl's multi
// interface; every HTTP request of the run goes through submit(), and its
// completion callback runs on that thread (so callbacks must be short: hand
// heavy work such as hashing to worker threads). Retries, timeouts and the
// low-speed floor are applied here, uniformly.
//
// Not here: redirect policy (callers decide, per host, whether a token may
// follow), request signing, and any knowledge of the Hub or S3.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"
#include "http/request.h"
#include "http/retry.h"

namespace hfm::http {

struct ClientSettings {
  RetrySettings retry;
  std::string user_agent;
  std::string ca_bundle;  // empty = system default
  bool insecure = false;  // skip TLS verification (loudly warned by the CLI)
  long max_total_connections = 128;
  uint64_t jitter_seed = 0;  // 0 = random; tests pass a fixed seed
};

struct ClientStats {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> bytes_received{0};
};

class Client {
 public:
  using Callback = std::function<void(Result<Response>)>;

  explicit Client(ClientSettings settings);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Thread-safe. `done` runs exactly once, on the I/O thread.
  void submit(Request request, Callback done);
  // Blocking convenience for callers that are not on the I/O thread.
  Result<Response> perform(Request request);
  // Fails every queued and running request with kCancelled.
  void cancel_all();

  const ClientStats& stats() const { return stats_; }
  int retry_budget_remaining() const { return budget_.remaining(); }

 private:
  struct Transfer;

  void loop_on_io();
  void start_attempt_on_io(std::unique_ptr<Transfer> t);
  void complete_on_io(Transfer* t, int curl_code);
  void finish_on_io(std::unique_ptr<Transfer> t, Result<Response> result);
  void drain_incoming_on_io();
  void fire_timers_on_io();
  void cancel_all_on_io();
  long poll_timeout_ms_on_io() const;

  struct Timer {
    std::chrono::steady_clock::time_point when;
    uint64_t seq;
    mutable std::unique_ptr<Transfer> transfer;
    bool operator>(const Timer& o) const { return when != o.when ? when > o.when : seq > o.seq; }
  };

  ClientSettings settings_;
  ClientStats stats_;
  RetryBudget budget_;

  std::mutex mu_;
  std::deque<std::unique_ptr<Transfer>> incoming_locked_;
  bool cancel_requested_locked_ = false;
  bool stopping_locked_ = false;

  // I/O thread only.
  void* multi_ = nullptr;  // CURLM*
  std::vector<std::unique_ptr<Transfer>> running_on_io_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_on_io_;
  uint64_t timer_seq_on_io_ = 0;
  // A 429 with a delay (Retry-After, exhausted RateLimit) holds every new
  // attempt to that origin until then, not just the refused request: the
  // server's window is shared, and more requests only earn more 429s.
  std::map<std::string, std::chrono::steady_clock::time_point> paused_until_on_io_;
  std::mt19937_64 rng_on_io_;

  std::thread io_thread_;  // last: started after everything above exists, joined first
};

}  // namespace hfm::http
