// HubClient against the Hub emulator: revision resolution, tree pagination,
// the resolve shapes, error mapping and the token's reach.
#include <gtest/gtest.h>

#include <future>

#include "hub/hub_client.h"
#include "support/hub_emulator_process.h"

namespace hfm::hub {
namespace {

class HubClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { emu_ = new testing::HubEmulatorProcess({"testrepos.json"}); }
  static void TearDownTestSuite() {
    delete emu_;
    emu_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(emu_->ok()) << "the Hub emulator did not start";
    emu_->clear_faults();
    emu_->clear_requests();
  }
  HubClient client(std::optional<std::string> token = std::nullopt) {
    HubSettings s;
    s.endpoint = emu_->hub_url();
    if (token) s.token = Secret(*token);
    return HubClient(http_, s);
  }
  Result<FileLocation> head(HubClient& c, const RepoRef& repo, const std::string& commit, const std::string& path) {
    std::promise<Result<FileLocation>> p;
    c.head_resolve(repo, commit, path, [&p](Result<FileLocation> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }

  static testing::HubEmulatorProcess* emu_;
  http::Client http_{http::ClientSettings{}};
};
testing::HubEmulatorProcess* HubClientTest::emu_ = nullptr;

const RepoRef kTiny{RepoType::kModel, "acme/tiny"};

TEST_F(HubClientTest, ResolvesBranchTagAndShortSha) {
  auto c = client();
  const std::string c2 = emu_->expected_files("acme/tiny", "main")["commit"];
  const std::string c1 = emu_->expected_files("acme/tiny", "v1.0")["commit"];
  ASSERT_NE(c1, c2);
  EXPECT_EQ(c.repo_info(kTiny, "main")->commit, c2);
  EXPECT_EQ(c.repo_info(kTiny, "v1.0")->commit, c1);
  EXPECT_EQ(c.repo_info(kTiny, c1.substr(0, 8))->commit, c1);
}

TEST_F(HubClientTest, DistinctErrors) {
  auto c = client();
  auto rev = c.repo_info(kTiny, "no-such-branch");
  ASSERT_FALSE(rev);
  EXPECT_EQ(rev.error().code, ErrorCode::kRevisionNotFound);
  EXPECT_EQ(rev.error().http_status, 404);

  auto repo = c.repo_info({RepoType::kModel, "acme/does-not-exist"}, "main");
  ASSERT_FALSE(repo);
  EXPECT_EQ(repo.error().code, ErrorCode::kRepoNotFound);  // 401 without a token, as the Hub hides it

  auto authed = client("hf_reader").repo_info({RepoType::kModel, "acme/does-not-exist"}, "main");
  ASSERT_FALSE(authed);
  EXPECT_EQ(authed.error().code, ErrorCode::kRepoNotFound);
  EXPECT_EQ(authed.error().remote_code, "RepoNotFound");

  const std::string commit = emu_->expected_files("acme/tiny", "main")["commit"];
  auto missing = head(c, kTiny, commit, "nope.bin");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kEntryNotFound);
}

TEST_F(HubClientTest, TreePaginationFollowsLinkHeaders) {
  auto c = client();
  const RepoRef many{RepoType::kModel, "acme/many-files"};
  auto info = c.repo_info(many, "main");
  ASSERT_TRUE(info);
  emu_->clear_requests();
  auto tree = c.list_tree(many, info->commit);
  ASSERT_TRUE(tree) << tree.error().describe();
  size_t files = 0;
  for (const auto& e : *tree) files += e.is_file ? 1 : 0;
  EXPECT_EQ(files, 2500u);
  size_t pages = 0;
  for (const auto& r : emu_->requests()) {
    if (r["path"].get<std::string>().find("/tree/") != std::string::npos) ++pages;
  }
  EXPECT_EQ(pages, 3u);
}

TEST_F(HubClientTest, ResolveShapes) {
  auto c = client();
  const auto expected = emu_->expected_files("acme/tiny", "main");
  const std::string commit = expected["commit"];
  for (const auto& f : expected["files"]) {
    const std::string path = f["path"];
    if (path != "config.json" && path != "model.safetensors") continue;
    auto loc = head(c, kTiny, commit, path);
    ASSERT_TRUE(loc) << loc.error().describe();
    EXPECT_EQ(loc->commit, commit);
    EXPECT_EQ(loc->size_bytes, f["size"].get<uint64_t>());
    if (f["lfs"].get<bool>()) {
      // LFS: a cross-host 302 to the CDN, not followed, and no token for it.
      EXPECT_EQ(loc->etag, f["sha256"].get<std::string>());
      EXPECT_EQ(loc->data_url.rfind(emu_->cdn_url(), 0), 0u) << loc->data_url;
      EXPECT_FALSE(loc->send_token);
    } else {
      // Regular public file: the relative 307 to resolve-cache is followed on the Hub.
      EXPECT_EQ(loc->etag, f["git_sha1"].get<std::string>());
      EXPECT_EQ(loc->data_url.rfind(emu_->hub_url(), 0), 0u) << loc->data_url;
      EXPECT_TRUE(loc->send_token);
    }
  }
}

TEST_F(HubClientTest, RenamedRepoIsFollowed) {
  auto c = client();
  auto old_name = c.repo_info({RepoType::kModel, "acme/old-name"}, "main");
  auto new_name = c.repo_info({RepoType::kModel, "acme/renamed-model"}, "main");
  ASSERT_TRUE(old_name) << old_name.error().describe();
  ASSERT_TRUE(new_name);
  EXPECT_EQ(old_name->commit, new_name->commit);
}

TEST_F(HubClientTest, GatedAndPrivate) {
  const RepoRef gated{RepoType::kModel, "acme/gated-model"};
  auto anon = client();
  auto info = anon.repo_info(gated, "main");
  ASSERT_TRUE(info);  // metadata stays public
  EXPECT_EQ(info->gated, "manual");
  auto tree = anon.list_tree(gated, info->commit);
  ASSERT_TRUE(tree);
  std::string path;
  for (const auto& e : *tree)
    if (e.is_file) path = e.path;
  auto denied = head(anon, gated, info->commit, path);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, ErrorCode::kGated);
  auto nogrant = client("hf_nogrant");
  auto forbidden = head(nogrant, gated, info->commit, path);
  ASSERT_FALSE(forbidden);
  EXPECT_EQ(forbidden.error().code, ErrorCode::kGated);
  EXPECT_EQ(forbidden.error().http_status, 403);
  auto reader = client("hf_reader");
  EXPECT_TRUE(head(reader, gated, info->commit, path));

  auto priv = anon.repo_info({RepoType::kModel, "acme/private-model"}, "main");
  ASSERT_FALSE(priv);
  EXPECT_EQ(priv.error().code, ErrorCode::kRepoNotFound);
  EXPECT_TRUE(reader.repo_info({RepoType::kModel, "acme/private-model"}, "main"));
}

TEST_F(HubClientTest, RateLimitIsWaitedOut) {
  emu_->set_faults({{"rate_limit", {{"count", 1}, {"retry_after", 1}}}});
  auto c = client();
  const auto start = std::chrono::steady_clock::now();
  auto info = c.repo_info(kTiny, "main");
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(info) << info.error().describe();
  EXPECT_GE(waited, std::chrono::milliseconds(1000));  // no request before Retry-After
  const auto log = emu_->requests();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0]["status"], 429);
  EXPECT_EQ(log[1]["status"], 200);
}

TEST_F(HubClientTest, DeadEndpointFailsInBoundedTime) {
  http::ClientSettings s;
  s.retry.base_delay = std::chrono::milliseconds(10);
  s.retry.max_attempts = 3;
  http::Client fast(s);
  HubSettings hs;
  hs.endpoint = "http://127.0.0.1:9";  // discard port: nothing listens
  HubClient c(fast, hs);
  const auto start = std::chrono::steady_clock::now();
  auto r = c.repo_info(kTiny, "main");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNetwork);
  EXPECT_NE(r.error().message.find("after 3 attempts"), std::string::npos) << r.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

}  // namespace
}  // namespace hfm::hub
