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

}  // namespace
}  // namespace hfm
