// The pure pieces behind hfmirror's recovery from S3 faults (the e2e proof is
// tests/e2e/test_s3_faults.py): the retry timer that holds S3-level resends off
// the I/O thread, CredentialChain::replace_rejected (re-read credentials the
// server rejected, once for everyone), and <ServerTime> in error bodies.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "auth/aws_credentials.h"
#include "http/retry.h"
#include "s3/xml.h"

namespace hfm {
namespace {

using namespace std::chrono_literals;

TEST(RetryTimer, RunsDueCallbacksInOrderOffTheCallingThread) {
  http::RetryTimer timer;
  std::vector<int> order;
  std::promise<void> both;
  const auto caller = std::this_thread::get_id();
  std::thread::id ran_on;
  timer.after(0ms, [&](bool cancelled) {
    EXPECT_FALSE(cancelled);
    ran_on = std::this_thread::get_id();
    order.push_back(1);
  });
  timer.after(0ms, [&](bool cancelled) {
    EXPECT_FALSE(cancelled);
    order.push_back(2);
    both.set_value();
  });
  ASSERT_EQ(both.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_NE(ran_on, caller);
}

TEST(RetryTimer, DestructionCancelsWhatStillWaits) {
  int cancelled_calls = 0;
  int normal_calls = 0;
  {
    http::RetryTimer timer;
    for (int i = 0; i < 3; ++i) {
      timer.after(std::chrono::hours(1), [&](bool cancelled) { (cancelled ? cancelled_calls : normal_calls)++; });
    }
  }
  EXPECT_EQ(cancelled_calls, 3);
  EXPECT_EQ(normal_calls, 0);
}

// A provider whose keys the test rotates, counting loads.
class RotatingProvider final : public auth::CredentialsProvider {
 public:
  explicit RotatingProvider(std::shared_ptr<std::string> key) : key_(std::move(key)) {}
  std::string name() const override { return "rotating"; }
  Result<std::optional<auth::AwsCredentials>> load() override {
    ++*loads;
    auth::AwsCredentials c;
    c.access_key_id = *key_;
    c.secret_access_key = Secret("secret-of-" + *key_);
    return std::optional<auth::AwsCredentials>(std::move(c));
  }
  std::shared_ptr<int> loads = std::make_shared<int>(0);

 private:
  std::shared_ptr<std::string> key_;
};

struct Rotating {
  std::shared_ptr<std::string> key;
  std::shared_ptr<int> loads;
  auth::CredentialChain chain;

  static Rotating make() {
    auto key = std::make_shared<std::string>("KEYA");
    auto provider = std::make_unique<RotatingProvider>(key);
    auto loads = provider->loads;
    std::vector<std::unique_ptr<auth::CredentialsProvider>> providers;
    providers.push_back(std::move(provider));
    return Rotating{key, loads, auth::CredentialChain(std::move(providers))};
  }
};

TEST(ReplaceRejected, NothingNewMeansTheRejectionStands) {
  auto r = Rotating::make();
  const auto a = r.chain.get();
  ASSERT_TRUE(a.has_value());
  const auto replacement = r.chain.replace_rejected(*a);
  ASSERT_TRUE(replacement.has_value());
  EXPECT_FALSE(replacement->has_value()) << "the same key came back as a replacement";
  EXPECT_EQ(*r.loads, 2) << "the source was not read again";
}

TEST(ReplaceRejected, ARotatedKeyIsLoadedOnceForEveryRejectedRequest) {
  auto r = Rotating::make();
  const auto a = r.chain.get();
  ASSERT_TRUE(a.has_value());
  *r.key = "KEYB";  // rotated at the source; the chain still caches KEYA
  EXPECT_EQ(r.chain.get()->access_key_id, "KEYA");
  for (int request = 0; request < 3; ++request) {  // three requests signed with KEYA fail
    const auto replacement = r.chain.replace_rejected(*a);
    ASSERT_TRUE(replacement.has_value());
    ASSERT_TRUE(replacement->has_value());
    EXPECT_EQ((*replacement)->access_key_id, "KEYB");
  }
  EXPECT_EQ(*r.loads, 2) << "every rejected request re-read the source";
  EXPECT_EQ(r.chain.get()->access_key_id, "KEYB");
}

TEST(S3XmlErrorBody, ServerTimeOfRequestTimeTooSkewed) {
  const auto body = s3::parse_error_body(
      "<?xml version=\"1.0\"?><Error><Code>RequestTimeTooSkewed</Code><Message>too large</Message>"
      "<RequestTime>20240101T000000Z</RequestTime><ServerTime>2024-01-01T00:20:00Z</ServerTime>"
      "<MaxAllowedTime>900000</MaxAllowedTime></Error>");
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(body->code, "RequestTimeTooSkewed");
  EXPECT_EQ(body->server_time, "2024-01-01T00:20:00Z");
  const auto local = std::chrono::system_clock::from_time_t(1'704'067'200);  // 2024-01-01T00:00:00Z
  EXPECT_EQ(auth::clock_skew_from_date_header(body->server_time, local), std::chrono::seconds(1200));
  EXPECT_EQ(s3::parse_error_body("<Error><Code>SlowDown</Code></Error>")->server_time, "");
}

}  // namespace
}  // namespace hfm
