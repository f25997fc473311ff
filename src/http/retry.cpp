#include "http/retry.h"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <string>

namespace hfm::http {

bool RetryBudget::try_take() {
  int cur = tokens_.load();
  while (cur >= 10) {
    if (tokens_.compare_exchange_weak(cur, cur - 10)) return true;
  }
  return false;
}

void RetryBudget::on_success() {
  int cur = tokens_.load();
  while (cur < capacity_) {
    if (tokens_.compare_exchange_weak(cur, cur + 1)) return;
  }
}

bool is_retryable_status(int status) {
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

namespace {

std::optional<int64_t> parse_int(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

// The longest delay reported: server numbers up to int64 and dates up to the
// year 9999 must not overflow milliseconds (backoff_delay obeys at most
// max_server_delay anyway).
constexpr std::chrono::seconds kMaxReportedDelay = std::chrono::hours(24 * 365);

std::chrono::milliseconds capped_delay(int64_t delay_seconds) {
  return std::chrono::seconds(std::clamp<int64_t>(delay_seconds, 0, kMaxReportedDelay.count()));
}

// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT", as seconds since the epoch:
// a system_clock time_point (nanoseconds) ends in 2262, strptime's years in 9999.
std::optional<int64_t> parse_http_date(std::string_view s) {
  std::tm tm{};
  const std::string text(s);
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end != text.c_str() + text.size()) return std::nullopt;  // also refuses a NUL inside
  return static_cast<int64_t>(timegm(&tm));
}

// RateLimit: "api";r=0;t=42  -> 42 when r == 0.
std::optional<int64_t> ratelimit_reset_when_exhausted(std::string_view header) {
  std::optional<int64_t> remaining;
  std::optional<int64_t> reset;
  size_t pos = 0;
  while (pos <= header.size()) {
    size_t next = header.find(';', pos);
    if (next == std::string_view::npos) next = header.size();
    std::string_view item = header.substr(pos, next - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (item.size() > 2 && item[1] == '=') {
      if (item[0] == 'r') remaining = parse_int(item.substr(2));
      if (item[0] == 't') reset = parse_int(item.substr(2));
    }
    pos = next + 1;
  }
  if (remaining && *remaining == 0 && reset) return reset;
  return std::nullopt;
}

}  // namespace

std::optional<std::chrono::milliseconds> server_requested_delay(const Response& response,
                                                                std::chrono::system_clock::time_point now) {
  using std::chrono::milliseconds;
  std::optional<milliseconds> retry_after;
  if (auto ra = response.headers.get("retry-after")) {
    if (auto secs = parse_int(*ra)) {
      retry_after = capped_delay(*secs);
    } else if (auto when_seconds = parse_http_date(*ra)) {
      const int64_t now_ms = std::chrono::duration_cast<milliseconds>(now.time_since_epoch()).count();
      const milliseconds delta(*when_seconds * 1000 - now_ms);
      retry_after = std::clamp(delta, milliseconds(0), milliseconds(kMaxReportedDelay));
    }
  }
  std::optional<milliseconds> window;
  if (response.status == 429) {
    if (auto rl = response.headers.get("ratelimit")) {
      // huggingface_hub sleeps t + 1 when the window is exhausted.
      if (auto t = ratelimit_reset_when_exhausted(*rl))
        window = capped_delay(std::min(*t, kMaxReportedDelay.count()) + 1);
    }
  }
  // Both given and disagreeing: a request before the later one would only be refused again.
  if (retry_after && window) return std::max(*retry_after, *window);
  return retry_after ? retry_after : window;
}

std::chrono::milliseconds backoff_delay(const RetrySettings& settings, int failed_attempts,
                                        std::optional<std::chrono::milliseconds> server_delay, std::mt19937_64& rng) {
  using std::chrono::milliseconds;
  const int shift = std::clamp(failed_attempts - 1, 0, 20);
  const int64_t ceiling = std::min<int64_t>(settings.max_delay.count(), settings.base_delay.count() << shift);
  std::uniform_int_distribution<int64_t> dist(0, std::max<int64_t>(ceiling, 0));
  milliseconds delay(dist(rng));
  if (server_delay) {
    const milliseconds cap = settings.max_server_delay;
    // Never earlier than asked; a little jitter after it spreads the herd.
    std::uniform_int_distribution<int64_t> small(0, settings.base_delay.count());
    delay = std::min(*server_delay, cap) + milliseconds(small(rng));
  }
  return delay;
}

RetryTimer::~RetryTimer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_locked_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& [when, callback] : waiting_locked_) callback(true);
}

void RetryTimer::after(std::chrono::milliseconds delay, Callback callback) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_locked_) {
      waiting_locked_.emplace(std::chrono::steady_clock::now() + delay, std::move(callback));
      if (!thread_.joinable()) thread_ = std::thread([this] { loop_on_timer(); });
      wake_.notify_all();
      return;
    }
  }
  callback(true);
}

void RetryTimer::loop_on_timer() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_locked_) {
    if (waiting_locked_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const auto first = waiting_locked_.begin();
    const auto when = first->first;
    if (std::chrono::steady_clock::now() < when) {
      wake_.wait_until(lock, when);
      continue;
    }
    Callback callback = std::move(first->second);
    waiting_locked_.erase(first);
    lock.unlock();
    callback(false);
    lock.lock();
  }
}

}  // namespace hfm::http
