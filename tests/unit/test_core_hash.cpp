#include <gtest/gtest.h>

#include <string>

#include "core/hash.h"

namespace hfm {
namespace {

TEST(ContentHasher, KnownDigests) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // git hash-object of an empty file and of "hello\n".
  EXPECT_EQ(git_blob_sha1_hex(""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
  EXPECT_EQ(git_blob_sha1_hex("hello\n"), "ce013625030ba8dba906f756967f9e9ca394464a");
  EXPECT_EQ(md5_base64(""), "1B2M2Y8AsgTpgAmY7PhCfg==");
  EXPECT_EQ(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
}

// A run that saves the hash state mid-file and a later run that restores it
// must produce the digest of one uninterrupted pass (S3 resume relies on it).
TEST(ContentHasher, SavedStateContinuesExactly) {
  std::string data;
  for (int i = 0; i < 100000; ++i) data += static_cast<char>((i * 7919) % 251);
  for (HashKind kind : {HashKind::kSha256, HashKind::kGitSha1}) {
    ContentHasher whole(kind, data.size());
    whole.update(std::string_view(data));
    const std::string expected = whole.finish_hex();
    for (size_t cut : {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{4096}, data.size()}) {
      ContentHasher first(kind, data.size());
      first.update(std::string_view(data).substr(0, cut));
      const std::string state = first.save_state();
      auto resumed = ContentHasher::restore(kind, state);
      ASSERT_TRUE(resumed) << "cut " << cut;
      resumed->update(std::string_view(data).substr(cut));
      EXPECT_EQ(resumed->finish_hex(), expected) << "cut " << cut;
    }
  }
}

TEST(ContentHasher, RestoreRejectsBadState) {
  EXPECT_FALSE(ContentHasher::restore(HashKind::kSha256, ""));
  EXPECT_FALSE(ContentHasher::restore(HashKind::kSha256, "zz"));
  ContentHasher h(HashKind::kGitSha1, 3);
  // A sha1 state is not a sha256 state.
  EXPECT_FALSE(ContentHasher::restore(HashKind::kSha256, h.save_state()));
  std::string bad = ContentHasher(HashKind::kSha256, 0).save_state();
  bad[0] = 'g';
  EXPECT_FALSE(ContentHasher::restore(HashKind::kSha256, bad));
}

TEST(Hex, Base64AndIds) {
  EXPECT_EQ(hex_to_base64("00ff"), "AP8=");
  EXPECT_TRUE(is_hex_id(std::string(40, 'a'), 40));
  EXPECT_FALSE(is_hex_id(std::string(40, 'A'), 40));
  EXPECT_FALSE(is_hex_id(std::string(39, 'a'), 40));
}

}  // namespace
}  // namespace hfm
