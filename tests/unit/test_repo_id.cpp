#include "core/repo_id.h"

#include <gtest/gtest.h>

#include <string>

namespace hfm {
namespace {

TEST(ValidateRepoId, AcceptsHubIds) {
  for (const char* id : {"gpt2", "acme/tiny", "meta-llama/Llama-2-7b-hf", "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
                         "mistralai/Mistral-7B-v0.1", "a/b", "user_1/model_2", "_x/_y_", "0/9"}) {
    EXPECT_TRUE(validate_repo_id(id).has_value()) << id;
  }
  EXPECT_TRUE(validate_repo_id(std::string(96, 'a') + "/" + std::string(96, 'b')).has_value());
}

TEST(ValidateRepoId, RejectsWithUsageAndReason) {
  struct Case {
    std::string id;
    const char* reason;
  };
  const Case cases[] = {
      {"", "empty"},
      {"a/b/c", "one '/'"},
      {"/b", "empty namespace or name"},
      {"a/", "empty namespace or name"},
      {"a//b", "one '/'"},
      {"a/b c", "' '"},
      {"a/b;rm", "';'"},
      {"a/b\n", "\\x0a"},
      {"a/-b", "start and end"},
      {"a/b.", "start and end"},
      {".a/b", "start and end"},
      {"a/b--c", "\"--\""},
      {"a/b..c", "\"..\""},
      {"../etc", "start and end"},
      {std::string(97, 'a'), "longer than 96"},
      {"ns/" + std::string(97, 'a'), "longer than 96"},
      {"ns/\xc3\xa9", "\\xc3"},
  };
  for (const Case& c : cases) {
    const Status s = validate_repo_id(c.id);
    ASSERT_FALSE(s.has_value()) << "accepted " << c.id;
    EXPECT_EQ(s.error().code, ErrorCode::kUsage);
    EXPECT_NE(s.error().message.find(c.reason), std::string::npos) << c.id << " → " << s.error().message;
    EXPECT_EQ(s.error().message.find('\n'), std::string::npos) << "message must stay printable";
  }
}

TEST(ValidateRepoId, LongIdIsShownShortened) {
  const Status s = validate_repo_id(std::string(500, 'x'));
  ASSERT_FALSE(s.has_value());
  EXPECT_LT(s.error().message.size(), 250u);
  EXPECT_NE(s.error().message.find("..."), std::string::npos);
}

}  // namespace
}  // namespace hfm
