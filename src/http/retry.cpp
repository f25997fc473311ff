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

// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view s) {
  std::tm tm{};
  const std::string text(s);
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
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
  using std::chrono::seconds;
  if (auto ra = response.headers.get("retry-after")) {
    if (auto secs = parse_int(*ra)) return milliseconds(seconds(*secs));
    if (auto when = parse_http_date(*ra)) {
      const auto delta = std::chrono::duration_cast<milliseconds>(*when - now);
      return std::max(delta, milliseconds(0));
    }
  }
  if (response.status == 429) {
    if (auto rl = response.headers.get("ratelimit")) {
      // huggingface_hub sleeps t + 1 when the window is exhausted.
      if (auto t = ratelimit_reset_when_exhausted(*rl)) return milliseconds(seconds(*t + 1));
    }
  }
  return std::nullopt;
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

}  // namespace hfm::http
