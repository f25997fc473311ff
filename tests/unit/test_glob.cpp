// Include/exclude patterns must select what huggingface_hub selects. The
// expected values below were produced by CPython 3.11 fnmatch.fnmatchcase and
// are hard-coded, so the test needs no Python.
#include "hub/glob.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hfm::hub {
namespace {

struct FnmatchCase {
  const char* pattern;
  const char* name;
  bool matches;
};

TEST(FnmatchCase, AgreesWithPython) {
  const std::vector<FnmatchCase> cases = {
      {"*", "", true},
      {"*", "a/b/c", true},
      {"*.json", "config.json", true},
      {"*.json", "sub/config.json", true},
      {"*.json", "config.jsonl", false},
      {"data/*.json", "data/sub/x.json", true},
      {"data/*.json", "data/x.json", true},
      {"data/*.json", "other/data/x.json", false},
      {"*.safetensors", "model-00001-of-00002.safetensors", true},
      {"*.bin", "pytorch_model.bin.index.json", false},
      {"?", "a", true},
      {"?", "", false},
      {"?", "ab", false},
      {"?", "/", true},
      {"a?c", "abc", true},
      {"a?c", "a/c", true},
      {"??", "é", false},
      {"?", "é", true},
      {"?", "日", true},
      {"[abc]", "b", true},
      {"[abc]", "d", false},
      {"[!abc]", "d", true},
      {"[!abc]", "a", false},
      {"[a-c]", "b", true},
      {"[a-c]", "-", false},
      {"[a-]", "-", true},
      {"[-a]", "-", true},
      {"[]]", "]", true},
      {"[]a]", "a", true},
      {"[!]]", "]", false},
      {"[!]]", "x", true},
      {"[", "[", true},
      {"[a", "[a", true},
      {"a[", "a[", true},
      {"[]", "[]", true},
      {"[!]", "[!]", true},
      {"[!]", "x", false},
      {"[z-a]", "z", false},
      {"[z-a]", "-", false},
      {"[!z-a]", "q", true},
      {"[!z-a]", "", false},
      {"[--*!-!]", "!", false},
      {"[--*!-!]", "x", true},
      {"[--*!-!]", "-", false},
      {"[a-c-e]", "d", false},
      {"[a-c-e]", "-", true},
      {"[a-c-e]", "e", true},
      {"[\\]", "\\", true},
      {"[&&]", "&", true},
      {"[~|]", "|", true},
      {"[^a]", "^", true},
      {"[^a]", "b", false},
      {"[[]", "[", true},
      {"[a-z0-9]", "5", true},
      {"[a-z0-9]", "A", false},
      {"A*", "a", false},
      {"a*", "A", false},
      {"*a*b*c*", "xaybzc", true},
      {"*a*b*c*", "xaybz", false},
      {"**", "x/y", true},
      {"*x", "xxxx", true},
      {"a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
      {"README.md", "README.md", true},
      {"README.md", "readme.md", false},
      {".*", ".gitattributes", true},
      {"*.[jJ][sS][oO][nN]", "x.JSON", true},
      {"原始/*", "原始/数据.bin", true},
      {"", "", true},
      {"", "a", false},
      {"a\nb", "a\nb", true},
      {"*", "a\nb", true},
  };
  for (const FnmatchCase& c : cases) {
    EXPECT_EQ(fnmatch_case(c.pattern, c.name), c.matches)
        << "pattern=\"" << c.pattern << "\" name=\"" << c.name << "\"";
  }
}

TEST(FnmatchCase, InvalidUtf8BytesMatchThemselvesOnly) {
  EXPECT_TRUE(fnmatch_case("a\xff*", "a\xff\xfe"));
  EXPECT_TRUE(fnmatch_case("?", "\xff"));
  EXPECT_FALSE(fnmatch_case("\xfe", "\xff"));
}

TEST(FnmatchCase, LongInputsStayFast) {
  // A backtracking matcher would be exponential here.
  const std::string name(20000, 'a');
  EXPECT_FALSE(fnmatch_case("*a*a*a*a*a*a*a*a*b", name));
  EXPECT_TRUE(fnmatch_case("*a*a*a*a*a*a*a*a*", name));
}

TEST(PathFilter, EmptyKeepsEverything) {
  const PathFilter filter({}, {});
  EXPECT_TRUE(filter.empty());
  EXPECT_TRUE(filter.keep("anything/at/all.bin"));
  EXPECT_TRUE(filter.keep(".gitattributes"));
}

TEST(PathFilter, IncludeAnyOfSeveral) {
  const PathFilter filter({"*.json", "*.safetensors"}, {});
  EXPECT_FALSE(filter.empty());
  EXPECT_TRUE(filter.keep("config.json"));
  EXPECT_TRUE(filter.keep("model-00001-of-00002.safetensors"));
  EXPECT_TRUE(filter.keep("onnx/config.json"));  // '*' crosses '/'
  EXPECT_FALSE(filter.keep("pytorch_model.bin"));
  EXPECT_FALSE(filter.keep("README.md"));
}

TEST(PathFilter, ExcludeWinsOverInclude) {
  const PathFilter filter({"*.json"}, {"tokenizer*"});
  EXPECT_TRUE(filter.keep("config.json"));
  EXPECT_FALSE(filter.keep("tokenizer.json"));
  EXPECT_FALSE(filter.keep("tokenizer_config.json"));
  EXPECT_FALSE(filter.keep("model.bin"));
}

TEST(PathFilter, ExcludeOnly) {
  const PathFilter filter({}, {"*.bin", "*.h5", "original/*"});
  EXPECT_FALSE(filter.empty());
  EXPECT_TRUE(filter.keep("model.safetensors"));
  EXPECT_FALSE(filter.keep("pytorch_model.bin"));
  EXPECT_FALSE(filter.keep("tf_model.h5"));
  EXPECT_FALSE(filter.keep("original/consolidated.00.pth"));
  EXPECT_TRUE(filter.keep("sub/original/x"));  // anchored at the start
}

TEST(PathFilter, TrailingSlashMeansEverythingBelow) {
  const PathFilter filter({"data/"}, {});
  EXPECT_TRUE(filter.keep("data/train.parquet"));
  EXPECT_TRUE(filter.keep("data/sub/deeper/x.json"));
  EXPECT_FALSE(filter.keep("data"));
  EXPECT_FALSE(filter.keep("metadata/x"));
  EXPECT_FALSE(filter.keep("README.md"));

  const PathFilter excluding({}, {"onnx/"});
  EXPECT_FALSE(excluding.keep("onnx/model.onnx"));
  EXPECT_TRUE(excluding.keep("onnx.txt"));
}

TEST(PathFilter, BackslashesAreSlashesInPatternsAndPaths) {
  const PathFilter filter({"data\\*.json", "docs\\"}, {});
  EXPECT_TRUE(filter.keep("data/x.json"));
  EXPECT_TRUE(filter.keep("data\\x.json"));
  EXPECT_TRUE(filter.keep("docs/index.md"));
  EXPECT_FALSE(filter.keep("other/x.json"));
}

TEST(PathFilter, CaseSensitive) {
  const PathFilter filter({"*.JSON"}, {});
  EXPECT_TRUE(filter.keep("X.JSON"));
  EXPECT_FALSE(filter.keep("x.json"));
}

TEST(PathFilter, EmptyPatternMatchesOnlyTheEmptyPath) {
  const PathFilter filter({""}, {});
  EXPECT_FALSE(filter.empty());
  EXPECT_FALSE(filter.keep("config.json"));
}

}  // namespace
}  // namespace hfm::hub
