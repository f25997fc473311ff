#include "store/manifest.h"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace hfm::store {
namespace {

const std::string kCommit = "bcf51b2e4ab2b2b1c4a41c6e55f3c6d8ea0b0d1f";
const std::string kLfsSha = "cd44947308b4b22228767cab8addd523d1de22abd9b23a10808e5fc295202e4f";

Manifest sample() {
  Manifest m;
  m.repo_id = "wzshiming/test";
  m.repo_type = "model";
  m.revision = "main";
  m.commit = kCommit;
  m.layout = "plain";
  m.include = {"*.bin", "regression/"};
  m.exclude = {"*.md"};
  m.tool_version = "0.1.0";
  m.created_at = "2026-11-27T03:37:59Z";
  // Deliberately unsorted: the writer sorts.
  m.files = {
      {"regression/ref-regular.txt", 186, ContentIdKind::kGitSha1, "e5698f9a721147f2090edf7da4892e23da00d5be",
       "e5698f9a721147f2090edf7da4892e23da00d5be"},
      {"regression/ref-lfs.bin", 1048576, ContentIdKind::kSha256, kLfsSha, "c9176dbf0ba8556845af9072b3dd39d06764e8ba"},
  };
  return m;
}

TEST(Manifest, JsonHasFixedKeyOrderAndSortedFiles) {
  const std::string expected = R"({
  "format": "hfmirror-manifest",
  "format_version": 1,
  "repo_id": "wzshiming/test",
  "repo_type": "model",
  "revision": "main",
  "commit": "bcf51b2e4ab2b2b1c4a41c6e55f3c6d8ea0b0d1f",
  "layout": "plain",
  "include": [
    "*.bin",
    "regression/"
  ],
  "exclude": [
    "*.md"
  ],
  "tool": "hfmirror",
  "tool_version": "0.1.0",
  "created_at": "2026-11-27T03:37:59Z",
  "file_count": 2,
  "total_bytes": 1048762,
  "files": [
    {
      "path": "regression/ref-lfs.bin",
      "size": 1048576,
      "hash": "sha256",
      "content_id": "cd44947308b4b22228767cab8addd523d1de22abd9b23a10808e5fc295202e4f",
      "git_oid": "c9176dbf0ba8556845af9072b3dd39d06764e8ba"
    },
    {
      "path": "regression/ref-regular.txt",
      "size": 186,
      "hash": "git-sha1",
      "content_id": "e5698f9a721147f2090edf7da4892e23da00d5be",
      "git_oid": "e5698f9a721147f2090edf7da4892e23da00d5be"
    }
  ]
}
)";
  EXPECT_EQ(manifest_to_json(sample()), expected);
}

TEST(Manifest, RoundTrips) {
  const Manifest original = sample();
  const auto parsed = manifest_from_json(manifest_to_json(original));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  const Manifest& m = parsed.value();
  EXPECT_EQ(m.repo_id, original.repo_id);
  EXPECT_EQ(m.repo_type, original.repo_type);
  EXPECT_EQ(m.revision, original.revision);
  EXPECT_EQ(m.commit, original.commit);
  EXPECT_EQ(m.layout, original.layout);
  EXPECT_EQ(m.include, original.include);
  EXPECT_EQ(m.exclude, original.exclude);
  EXPECT_EQ(m.tool_version, original.tool_version);
  EXPECT_EQ(m.created_at, original.created_at);
  ASSERT_EQ(m.files.size(), 2u);
  EXPECT_EQ(m.files[0].path, "regression/ref-lfs.bin");  // sorted
  EXPECT_EQ(m.files[0].id_kind, ContentIdKind::kSha256);
  EXPECT_EQ(m.files[0].content_id, kLfsSha);
  EXPECT_EQ(m.files[1].id_kind, ContentIdKind::kGitSha1);
  EXPECT_EQ(m.files[1].size_bytes, 186u);
  EXPECT_EQ(m.files[1].git_oid, "e5698f9a721147f2090edf7da4892e23da00d5be");
  EXPECT_EQ(m.total_bytes(), 1048762u);
  EXPECT_EQ(manifest_to_json(m), manifest_to_json(original));
}

TEST(Manifest, EmptyFileListIsValid) {
  Manifest m = sample();
  m.files.clear();
  const auto parsed = manifest_from_json(manifest_to_json(m));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_TRUE(parsed->files.empty());
  EXPECT_EQ(parsed->total_bytes(), 0u);
}

TEST(Manifest, FindUsesSortedFiles) {
  const Manifest m = manifest_from_json(manifest_to_json(sample())).value();
  ASSERT_NE(m.find("regression/ref-regular.txt"), nullptr);
  EXPECT_EQ(m.find("regression/ref-regular.txt")->size_bytes, 186u);
  ASSERT_NE(m.find("regression/ref-lfs.bin"), nullptr);
  EXPECT_EQ(m.find("regression/ref-lfs.bin")->content_id, kLfsSha);
  EXPECT_EQ(m.find("regression"), nullptr);
  EXPECT_EQ(m.find("regression/ref-lfs.bi"), nullptr);
  EXPECT_EQ(m.find("zzz"), nullptr);
  EXPECT_EQ(m.find(""), nullptr);
}

TEST(Manifest, AbsentPatternsMeanNone) {
  nlohmann::json doc = nlohmann::json::parse(manifest_to_json(sample()));
  doc.erase("include");
  doc.erase("exclude");
  const auto parsed = manifest_from_json(doc.dump());
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_TRUE(parsed->include.empty());
  EXPECT_TRUE(parsed->exclude.empty());
}

TEST(Manifest, UnknownKeysAreIgnored) {
  nlohmann::json doc = nlohmann::json::parse(manifest_to_json(sample()));
  doc["future_field"] = {{"x", 1}};
  doc["files"][0]["mtime"] = 5;
  EXPECT_TRUE(manifest_from_json(doc.dump()).has_value());
}

struct Corruption {
  const char* name;
  std::function<void(nlohmann::json&)> mutate;
  const char* reason;  // expected in the message
};

TEST(Manifest, RejectsEveryKindOfDamage) {
  const std::string kGit = "e5698f9a721147f2090edf7da4892e23da00d5be";
  const Corruption cases[] = {
      {"not an object", [](auto& d) { d = nlohmann::json::array(); }, "JSON object"},
      {"wrong format", [](auto& d) { d["format"] = "something-else"; }, "\"format\""},
      {"missing format", [](auto& d) { d.erase("format"); }, "\"format\" is missing"},
      {"newer version", [](auto& d) { d["format_version"] = 2; }, "format_version 2 is not supported"},
      {"version as string", [](auto& d) { d["format_version"] = "1"; }, "\"format_version\" must be"},
      {"other tool", [](auto& d) { d["tool"] = "rsync"; }, "\"tool\""},
      {"bad repo id", [](auto& d) { d["repo_id"] = "../etc"; }, "invalid repo id"},
      {"bad repo type", [](auto& d) { d["repo_type"] = "space"; }, "\"repo_type\""},
      {"empty revision", [](auto& d) { d["revision"] = ""; }, "\"revision\" is empty"},
      {"short commit", [](auto& d) { d["commit"] = "bcf51b2e"; }, "\"commit\""},
      {"uppercase commit", [](auto& d) { d["commit"] = "BCF51B2E4AB2B2B1C4A41C6E55F3C6D8EA0B0D1F"; }, "\"commit\""},
      {"commit as number", [](auto& d) { d["commit"] = 5; }, "\"commit\" must be a string"},
      {"bad layout", [](auto& d) { d["layout"] = "flat"; }, "\"layout\""},
      {"include not a list", [](auto& d) { d["include"] = "*.bin"; }, "\"include\" must be an array"},
      {"exclude with number", [](auto& d) { d["exclude"] = {1}; }, "\"exclude\" must be an array"},
      {"files not array", [](auto& d) { d["files"] = nlohmann::json::object(); }, "\"files\" must be an array"},
      {"file not object", [](auto& d) { d["files"][0] = "x"; }, "files[0] must be an object"},
      {"unsafe path", [](auto& d) { d["files"][0]["path"] = "../../etc/passwd"; }, "\"..\" segment"},
      {"absolute path", [](auto& d) { d["files"][1]["path"] = "/etc/passwd"; }, "absolute"},
      {"reserved path", [](auto& d) { d["files"][1]["path"] = ".hfmirror/manifest.json"; }, "reserved"},
      {"negative size", [](auto& d) { d["files"][0]["size"] = -1; }, "\"size\" must be a non-negative integer"},
      {"fractional size", [](auto& d) { d["files"][0]["size"] = 1.5; }, "\"size\""},
      {"unknown hash", [](auto& d) { d["files"][0]["hash"] = "md5"; }, "\"hash\""},
      {"sha256 of sha1 length", [&kGit](auto& d) { d["files"][0]["content_id"] = kGit; }, "64 lowercase hex"},
      {"sha1 of sha256 length", [](auto& d) { d["files"][1]["content_id"] = kLfsSha; }, "40 lowercase hex"},
      {"non-hex content id", [](auto& d) { d["files"][1]["content_id"] = std::string(40, 'g'); }, "hex"},
      {"missing git oid", [](auto& d) { d["files"][0].erase("git_oid"); }, "\"git_oid\" is missing"},
      {"bad git oid", [](auto& d) { d["files"][0]["git_oid"] = "xyz"; }, "\"git_oid\""},
      {"duplicate path", [](auto& d) { d["files"][1]["path"] = d["files"][0]["path"]; }, "listed twice"},
      {"file_count off", [](auto& d) { d["file_count"] = 3; }, "\"file_count\" is 3 but 2"},
      {"total_bytes off", [](auto& d) { d["total_bytes"] = 1; },
       "\"total_bytes\" is 1 but the files add up to 1048762"},
      {"size overflow",
       [](auto& d) {
         d["files"][0]["size"] = UINT64_MAX;
         d["files"][1]["size"] = UINT64_MAX;
       },
       "overflow"},
  };
  for (const Corruption& c : cases) {
    nlohmann::json doc = nlohmann::json::parse(manifest_to_json(sample()));
    c.mutate(doc);
    const auto r = manifest_from_json(doc.dump());
    ASSERT_FALSE(r.has_value()) << c.name;
    EXPECT_EQ(r.error().code, ErrorCode::kProtocol) << c.name;
    EXPECT_NE(r.error().message.find(c.reason), std::string::npos) << c.name << " → " << r.error().message;
  }
}

TEST(Manifest, RejectsNonJson) {
  for (const char* text : {"", "{", "not json", "{\"format\": \"hfmirror-manifest\",}", "\xff"}) {
    const auto r = manifest_from_json(text);
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_EQ(r.error().code, ErrorCode::kProtocol);
    EXPECT_NE(r.error().message.find("not valid JSON"), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace hfm::store
