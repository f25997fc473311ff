#include "store/path_safety.h"

#include <gtest/gtest.h>

#include <string>

namespace hfm::store {
namespace {

using namespace std::string_literals;

TEST(ValidateRepoPath, AcceptsOrdinaryRepoPaths) {
  for (const std::string& path :
       {"config.json"s, "regression/ref-lfs.bin"s, ".gitattributes"s, "a/b/c/d/e.txt"s, "with space/file name.txt"s,
        "+=&%~'()!*.bin"s, "数据/模型.safetensors"s, "emoji-\xf0\x9f\xa4\x97.md"s, "..hidden"s, "a..b/c"s, "..."s,
        "x/.hfmirror"s, ".hfmirrors/x"s, "C/x"s, "a/C:/b"s, "weird:name"s}) {
    const auto r = validate_repo_path(path);
    ASSERT_TRUE(r.has_value()) << path << ": " << r.error().message;
    EXPECT_EQ(r.value(), path);
  }
}

TEST(ValidateRepoPath, AcceptsLimits) {
  EXPECT_TRUE(validate_repo_path(std::string(255, 'a')).has_value());
  std::string long_path;
  while (long_path.size() + 200 < 4096) long_path += std::string(199, 'd') + "/";
  long_path += std::string(4096 - long_path.size(), 'f');
  ASSERT_EQ(long_path.size(), 4096u);
  EXPECT_TRUE(validate_repo_path(long_path).has_value());
}

struct UnsafeCase {
  std::string path;
  const char* reason;
};

TEST(ValidateRepoPath, RefusesEscapesAndOddities) {
  const UnsafeCase cases[] = {
      {"", "empty"},
      {"/etc/passwd", "absolute"},
      {"//server/share/x", "absolute"},
      {"../x", "\"..\" segment"},
      {"a/../../x", "\"..\" segment"},
      {"a/..", "\"..\" segment"},
      {"..", "\"..\" segment"},
      {"./a", "\".\" segment"},
      {"a/./b", "\".\" segment"},
      {".", "\".\" segment"},
      {"a//b", "empty segment"},
      {"a/", "empty segment"},
      {"a\\b", "backslash"},
      {"..\\..\\windows\\system32", "backslash"},
      {"\\\\server\\share", "backslash"},
      {"C:", "Windows drive"},
      {"c:evil", "Windows drive"},
      {"C:/Windows/x", "Windows drive"},
      {"a\0b"s, "control character"},
      {"a\nb", "control character"},
      {"a\tb", "control character"},
      {"a\x1f", "control character"},
      {"a\x7f", "control character"},
      {"bad\xff.bin", "UTF-8"},
      {"\xc0\xaf", "UTF-8"},          // overlong '/'
      {"\xed\xa0\x80", "UTF-8"},      // surrogate
      {"\xf4\x90\x80\x80", "UTF-8"},  // above U+10FFFF
      {"trunc\xe6\x95", "UTF-8"},     // cut sequence
      {".hfmirror/manifest.json", "reserved"},
      {".hfmirror", "reserved"},
      {".HFMirror/manifest.json", "reserved"},
      {std::string(256, 'a'), "segment is longer than 255"},
      {"x/" + std::string(256, 'a'), "segment is longer than 255"},
      {std::string(4097, 'a'), "longer than 4096"},
  };
  for (const UnsafeCase& c : cases) {
    const auto r = validate_repo_path(c.path);
    ASSERT_FALSE(r.has_value()) << "accepted " << printable(c.path);
    EXPECT_EQ(r.error().code, ErrorCode::kUnsafePath);
    EXPECT_NE(r.error().message.find(c.reason), std::string::npos) << printable(c.path) << " → " << r.error().message;
  }
}

TEST(ValidateRepoPath, MessageNamesThePathPrintably) {
  const auto r = validate_repo_path("evil/\n../x");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("\"evil/\\n../x\""), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos);

  const auto dots = validate_repo_path("a/../b");
  ASSERT_FALSE(dots.has_value());
  EXPECT_NE(dots.error().message.find("\"a/../b\""), std::string::npos) << dots.error().message;
}

TEST(ValidateRepoPath, LongPathIsNamedByItsBeginning) {
  const auto r = validate_repo_path(std::string(5000, 'z'));
  ASSERT_FALSE(r.has_value());
  EXPECT_LT(r.error().message.size(), 400u);
  EXPECT_NE(r.error().message.find(std::string(200, 'z') + "..."), std::string::npos);
}

TEST(Printable, EscapesOnlyWhatIsNotPrintable) {
  EXPECT_EQ(printable("plain/path.txt"), "plain/path.txt");
  EXPECT_EQ(printable("数据 ü"), "数据 ü");
  EXPECT_EQ(printable("a\nb\tc\rd"), "a\\nb\\tc\\rd");
  EXPECT_EQ(printable("nul\0x"s), "nul\\x00x");
  EXPECT_EQ(printable("del\x7f"), "del\\x7f");
  EXPECT_EQ(printable("bad\xff"), "bad\\xff");
  EXPECT_EQ(printable("\xe6\x95"), "\\xe6\\x95");
  EXPECT_EQ(printable("back\\slash \"quoted\""), "back\\\\slash \\\"quoted\\\"");
  EXPECT_EQ(printable(""), "");
}

}  // namespace
}  // namespace hfm::store
