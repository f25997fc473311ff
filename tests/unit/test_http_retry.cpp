#include <gtest/gtest.h>

#include "http/retry.h"

namespace hfm::http {
namespace {

using std::chrono::milliseconds;

Response with_headers(int status, std::initializer_list<std::pair<const char*, const char*>> headers) {
  Response r;
  r.status = status;
  for (const auto& [k, v] : headers) r.headers.add(k, v);
  return r;
}

TEST(Retry, RetryableStatuses) {
  for (int s : {408, 429, 500, 502, 503, 504}) EXPECT_TRUE(is_retryable_status(s)) << s;
  for (int s : {200, 206, 301, 400, 401, 403, 404, 416, 501}) EXPECT_FALSE(is_retryable_status(s)) << s;
}

TEST(Retry, RetryAfterSecondsAndDate) {
  const auto now = std::chrono::system_clock::from_time_t(1'700'000'000);  // 2023-11-14T22:13:20Z
  EXPECT_EQ(server_requested_delay(with_headers(503, {{"Retry-After", "7"}}), now), milliseconds(7000));
  EXPECT_EQ(server_requested_delay(with_headers(503, {{"Retry-After", "Tue, 14 Nov 2023 22:13:30 GMT"}}), now),
            milliseconds(10'000));
  EXPECT_EQ(server_requested_delay(with_headers(503, {{"Retry-After", "Tue, 14 Nov 2023 22:13:00 GMT"}}), now),
            milliseconds(0));
  EXPECT_FALSE(server_requested_delay(with_headers(503, {{"Retry-After", "soon"}}), now));
  EXPECT_FALSE(server_requested_delay(with_headers(503, {}), now));
}

TEST(Retry, ExhaustedRateLimitWindowOn429) {
  const auto now = std::chrono::system_clock::now();
  // huggingface_hub sleeps t + 1 when r == 0.
  EXPECT_EQ(server_requested_delay(with_headers(429, {{"RateLimit", "\"api\";r=0;t=41"}}), now), milliseconds(42'000));
  EXPECT_FALSE(server_requested_delay(with_headers(429, {{"RateLimit", "\"api\";r=5;t=41"}}), now));
  EXPECT_FALSE(server_requested_delay(with_headers(503, {{"RateLimit", "\"api\";r=0;t=41"}}), now));
}

TEST(Retry, FullJitterStaysInBounds) {
  RetrySettings s;
  s.base_delay = milliseconds(100);
  s.max_delay = milliseconds(1000);
  std::mt19937_64 rng(42);
  for (int attempt = 1; attempt <= 8; ++attempt) {
    const int64_t ceiling = std::min<int64_t>(1000, 100LL << (attempt - 1));
    bool saw_nonzero = false;
    for (int i = 0; i < 200; ++i) {
      const auto d = backoff_delay(s, attempt, std::nullopt, rng);
      ASSERT_GE(d.count(), 0);
      ASSERT_LE(d.count(), ceiling) << "attempt " << attempt;
      saw_nonzero = saw_nonzero || d.count() > 0;
    }
    EXPECT_TRUE(saw_nonzero);
  }
}

TEST(Retry, NeverSoonerThanTheServerAsks) {
  RetrySettings s;
  s.base_delay = milliseconds(100);
  s.max_server_delay = std::chrono::seconds(60);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100; ++i) {
    const auto d = backoff_delay(s, 1, milliseconds(3000), rng);
    EXPECT_GE(d.count(), 3000);
    EXPECT_LE(d.count(), 3100);
  }
  // A server asking for an hour is capped.
  EXPECT_LE(backoff_delay(s, 1, milliseconds(3'600'000), rng).count(), 60'100);
}

TEST(Retry, BudgetDrainsAndRefills) {
  RetryBudget b(3);
  EXPECT_TRUE(b.try_take());
  EXPECT_TRUE(b.try_take());
  EXPECT_TRUE(b.try_take());
  EXPECT_FALSE(b.try_take());
  for (int i = 0; i < 9; ++i) b.on_success();
  EXPECT_FALSE(b.try_take());  // ten successes buy one retry
  b.on_success();
  EXPECT_TRUE(b.try_take());
  for (int i = 0; i < 1000; ++i) b.on_success();
  EXPECT_EQ(b.remaining(), 3);  // never above capacity
}

}  // namespace
}  // namespace hfm::http
