// LocalStore on a temporary folder: visibility only after commit, resume
// records, journal semantics, symlink refusal and the hf-cache links.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/hash.h"
#include "store/local_store.h"

namespace hfm::store {
namespace {
namespace fs = std::filesystem;

class TempRoot {
 public:
  TempRoot() {
    std::string t = (fs::temp_directory_path() / "hfm-unit-XXXXXX").string();
    path = ::mkdtemp(t.data());
  }
  ~TempRoot() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

FileSpec spec_for(const std::string& path, const std::string& content) {
  return {path, content.size(), ContentIdKind::kGitSha1, git_blob_sha1_hex(content), git_blob_sha1_hex(content)};
}

Status write(PartialFile& pf, size_t index, uint64_t offset, std::span<const char> bytes) {
  Status out = unexpected(ErrorCode::kInternal, "done not called");
  pf.write_part(index, offset, bytes, [&out](Status st) { out = std::move(st); });
  return out;
}

const SyncContext kCtx{"acme/tiny", "model", "main", std::string(40, 'a')};

TEST(LocalStore, OpenCreatesNothing) {
  TempRoot t;
  auto s = LocalStore::open(t.path / "dest", LocalLayout::kPlain, "model", "acme/tiny");
  ASSERT_TRUE(s);
  EXPECT_FALSE(fs::exists(t.path / "dest"));
  auto m = (*s)->read_manifest();
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->has_value());
}

TEST(LocalStore, FileAppearsOnlyAtCommit) {
  TempRoot t;
  auto s = *LocalStore::open(t.path, LocalLayout::kPlain, "model", "acme/tiny");
  ASSERT_TRUE(s->begin_changes(kCtx));
  const std::string content = "hello world, in two parts";
  const auto spec = spec_for("dir/sub/file.txt", content);
  auto pf = s->open_partial(spec, 16);
  ASSERT_TRUE(pf);
  ASSERT_TRUE(write(**pf, 1, 16, {content.data() + 16, content.size() - 16}));
  ASSERT_TRUE(write(**pf, 0, 0, {content.data(), 16}));
  EXPECT_FALSE(fs::exists(t.path / "dir/sub/file.txt"));
  ASSERT_TRUE((*pf)->commit({}));
  EXPECT_EQ(slurp(t.path / "dir/sub/file.txt"), content);
}

TEST(LocalStore, PartialResumesItsDoneParts) {
  TempRoot t;
  auto s = *LocalStore::open(t.path, LocalLayout::kPlain, "model", "acme/tiny");
  ASSERT_TRUE(s->begin_changes(kCtx));
  const std::string content(40, 'x');
  const auto spec = spec_for("big.bin", content);
  {
    auto pf = *s->open_partial(spec, 16);
    ASSERT_TRUE(write(*pf, 1, 16, {content.data() + 16, 16}));
    pf->abandon(true);
  }
  auto again = *s->open_partial(spec, 16);
  EXPECT_EQ(again->resume_info().readable_parts, (std::vector<bool>{false, true, false}));
  std::string back(16, '\0');
  ASSERT_TRUE(again->read_part(16, {back.data(), back.size()}));
  EXPECT_EQ(back, content.substr(16, 16));
  again->abandon(true);
  // A different part size is a different plan: start over.
  auto other = *s->open_partial(spec, 8);
  EXPECT_EQ(other->resume_info().readable_parts, std::vector<bool>(5, false));
  other->abandon(false);
  EXPECT_TRUE(fs::is_empty(t.path / ".hfmirror" / "partial"));
}

TEST(LocalStore, JournalPendingClearsTrust) {
  TempRoot t;
  auto s = *LocalStore::open(t.path, LocalLayout::kPlain, "model", "acme/tiny");
  ASSERT_TRUE(s->begin_changes(kCtx));
  const std::string content = "abc";
  const auto spec = spec_for("a.txt", content);
  std::ofstream(t.path / "a.txt") << content;
  EXPECT_FALSE(*s->file_is_current(spec, std::nullopt, *s->read_journal()));  // unknown: not trusted
  ASSERT_TRUE(s->record_verified(spec));
  EXPECT_TRUE(*s->file_is_current(spec, std::nullopt, *s->read_journal()));
  ASSERT_TRUE(s->record_pending("a.txt"));  // a replacement started and was interrupted
  EXPECT_FALSE(*s->file_is_current(spec, std::nullopt, *s->read_journal()));
}

TEST(LocalStore, ManifestIsWithdrawnBeforeChanges) {
  TempRoot t;
  auto s = *LocalStore::open(t.path, LocalLayout::kPlain, "model", "acme/tiny");
  ASSERT_TRUE(s->begin_changes(kCtx));
  Manifest m;
  m.repo_id = "acme/tiny";
  m.repo_type = "model";
  m.revision = "main";
  m.commit = std::string(40, 'a');
  m.layout = "plain";
  m.tool_version = "test";
  m.created_at = "2026-01-01T00:00:00Z";
  m.files.push_back({"a.txt", 3, ContentIdKind::kGitSha1, git_blob_sha1_hex("abc"), git_blob_sha1_hex("abc")});
  ASSERT_TRUE(s->write_manifest(m));
  ASSERT_TRUE(s->read_manifest()->has_value());
  ASSERT_TRUE(s->begin_changes(kCtx));
  EXPECT_FALSE(s->read_manifest()->has_value());
  auto known = *s->read_journal();  // the withdrawn manifest still informs the planner
  ASSERT_EQ(known.size(), 1u);
  EXPECT_EQ(known[0].path, "a.txt");
}

TEST(LocalStore, RefusesSymlinksOnTheWay) {
  TempRoot t;
  fs::create_directories(t.path / "dest");
  fs::create_directories(t.path / "outside");
  fs::create_directory_symlink(t.path / "outside", t.path / "dest" / "evil");
  auto st = make_parents_inside(t.path / "dest", "evil/x.txt");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kUnsafePath);
  EXPECT_TRUE(make_parents_inside(t.path / "dest", "ok/deeper/x.txt"));
  EXPECT_TRUE(fs::is_directory(t.path / "dest" / "ok" / "deeper"));
}

TEST(LocalStore, RemoveDropsEmptyFolders) {
  TempRoot t;
  auto s = *LocalStore::open(t.path, LocalLayout::kPlain, "model", "acme/tiny");
  ASSERT_TRUE(s->begin_changes(kCtx));
  fs::create_directories(t.path / "a/b");
  std::ofstream(t.path / "a/b/c.txt") << "x";
  std::ofstream(t.path / "a/keep.txt") << "y";
  ASSERT_TRUE(s->remove_file("a/b/c.txt"));
  EXPECT_FALSE(fs::exists(t.path / "a/b"));
  EXPECT_TRUE(fs::exists(t.path / "a/keep.txt"));
  EXPECT_FALSE(s->remove_file("../outside.txt"));
}

TEST(LocalStore, HfCacheLinksAreRelative) {
  TempRoot t;
  auto s = *LocalStore::open(t.path, LocalLayout::kHfCache, "model", "acme/tiny");
  ASSERT_TRUE(s->begin_changes(kCtx));
  const std::string content = "deep";
  const auto spec = spec_for("x/y/z.txt", content);
  auto pf = *s->open_partial(spec, 16);
  ASSERT_TRUE(write(*pf, 0, 0, {content.data(), content.size()}));
  ASSERT_TRUE(pf->commit({}));
  ASSERT_TRUE(s->finish(kCtx, {spec}));
  const fs::path repo = t.path / "models--acme--tiny";
  const fs::path link = repo / "snapshots" / kCtx.commit / "x/y/z.txt";
  ASSERT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(fs::read_symlink(link).string(), "../../../../blobs/" + spec.content_id);
  EXPECT_EQ(slurp(link), content);
  EXPECT_EQ(slurp(repo / "refs" / "main"), kCtx.commit);  // no newline
  EXPECT_TRUE(fs::exists(t.path / "CACHEDIR.TAG"));
}

}  // namespace
}  // namespace hfm::store
