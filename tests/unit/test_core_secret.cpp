#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/secret.h"

namespace hfm {
namespace {

TEST(Secret, NeverFormats) {
  const Secret s("hf_supersecret");
  EXPECT_EQ(fmt::format("token={}", s), "token=***");
  EXPECT_EQ(s.reveal(), "hf_supersecret");
}

TEST(Secret, RedactsPresignedQueries) {
  EXPECT_EQ(redact_url("https://cdn/x?X-Amz-Date=1&X-Amz-Signature=abc&X-Amz-Credential=k%2Fd&y=2"),
            "https://cdn/x?X-Amz-Date=1&X-Amz-Signature=***&X-Amz-Credential=***&y=2");
  EXPECT_EQ(redact_url("https://cdn/x?Expires=1&Policy=p&Signature=s&Key-Pair-Id=k"),
            "https://cdn/x?Expires=1&Policy=***&Signature=***&Key-Pair-Id=***");
  EXPECT_EQ(redact_url("https://s3/x?x-amz-security-token=abc"), "https://s3/x?x-amz-security-token=***");
  EXPECT_EQ(redact_url("https://hub/api/models/a"), "https://hub/api/models/a");
}

TEST(Secret, RedactsUrlsInsideMessages) {
  // A '?' of the message before the URL, and the URL's end inside the message.
  EXPECT_EQ(redact_url("expired? (https://cdn/x?a=1&X-Amz-Signature=abc+/=) after 3 attempts, Signature=kept"),
            "expired? (https://cdn/x?a=1&X-Amz-Signature=***) after 3 attempts, Signature=kept");
  EXPECT_EQ(redact_url("GET 'https://cdn/x?Signature=s~-_&Key-Pair-Id=k' failed"),
            "GET 'https://cdn/x?Signature=***&Key-Pair-Id=***' failed");
  EXPECT_EQ(redact_url("no URL here? a=1&b=2"), "no URL here? a=1&b=2");
}

TEST(Secret, RedactsUrlUserinfo) {
  EXPECT_EQ(redact_url("https://user:pa55@host:8080/x?y=1"), "https://user:***@host:8080/x?y=1");
  EXPECT_EQ(redact_url("https://hf_token123@host/x"), "https://***@host/x");
  EXPECT_EQ(redact_url("invalid S3 endpoint 'http://u:sekrit@127.0.0.1:1' and http://h/p@q"),
            "invalid S3 endpoint 'http://u:***@127.0.0.1:1' and http://h/p@q");
}

}  // namespace
}  // namespace hfm
