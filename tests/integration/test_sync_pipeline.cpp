// SyncJob + TransferEngine + LocalStore against the Hub emulator, with the
// emulator's fault injection: what the pipeline must survive or refuse.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/hash.h"
#include "hub/hub_client.h"
#include "pipeline/sync_job.h"
#include "store/local_store.h"
#include "support/hub_emulator_process.h"

namespace hfm::pipeline {
namespace {
namespace fs = std::filesystem;

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class SyncPipelineTest : public ::testing::Test {
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

  struct Run {
    Status status;
    SyncOutcome outcome;
  };

  Run sync(const fs::path& dest, const std::string& repo_id, std::optional<std::string> token = std::nullopt,
           TransferSettings ts = small_parts(), const std::atomic<bool>* cancel = nullptr,
           Progress* progress_out = nullptr) {
    hub::HubSettings hs;
    hs.endpoint = emu_->hub_url();
    if (token) hs.token = Secret(*token);
    hub::HubClient hub(http_, hs);
    auto store = store::LocalStore::open(dest, store::LocalLayout::kPlain, "model", repo_id, false);
    EXPECT_TRUE(store);
    Progress local_progress;
    Progress& progress = progress_out != nullptr ? *progress_out : local_progress;
    static const std::atomic<bool> kNever{false};
    SyncJob job(http_, hub, **store, progress, cancel != nullptr ? *cancel : kNever);
    SyncRequest req;
    req.repo = {hub::RepoType::kModel, repo_id};
    req.transfer = ts;
    auto plan = job.plan(req);
    if (!plan) return {unexpected(plan.error()), {}};
    auto outcome = job.execute(req, std::move(*plan));
    Status st = outcome.status;
    return {st, std::move(outcome)};
  }

  static TransferSettings small_parts() {
    TransferSettings ts;
    ts.part_size_bytes = 1 << 20;  // many parts per LFS file
    ts.memory_budget_bytes = 8 << 20;
    return ts;
  }

  size_t count_requests(const std::string& listener, const std::string& path_part, int status = 0) {
    size_t n = 0;
    for (const auto& r : emu_->requests()) {
      if (r["listener"] != listener) continue;
      if (r["path"].get<std::string>().find(path_part) == std::string::npos) continue;
      if (status != 0 && r["status"] != status) continue;
      ++n;
    }
    return n;
  }

  void expect_mirror_matches(const fs::path& dest, const std::string& repo_id) {
    const auto expected = emu_->expected_files(repo_id, "main");
    for (const auto& f : expected["files"]) {
      const std::string data = read_all(dest / f["path"].get<std::string>());
      if (f["lfs"].get<bool>()) {
        EXPECT_EQ(sha256_hex(data), f["sha256"]) << f["path"];
      } else {
        EXPECT_EQ(git_blob_sha1_hex(data), f["git_sha1"]) << f["path"];
      }
    }
    EXPECT_TRUE(fs::exists(dest / ".hfmirror" / "manifest.json"));
  }

  static testing::HubEmulatorProcess* emu_;
  http::Client http_{[] {
    http::ClientSettings s;
    s.retry.base_delay = std::chrono::milliseconds(20);
    s.jitter_seed = 1;
    return s;
  }()};
};
testing::HubEmulatorProcess* SyncPipelineTest::emu_ = nullptr;

TEST_F(SyncPipelineTest, MirrorsEveryFileVerified) {
  testing::TempDir dir;
  auto run = sync(dir.path(), "acme/tiny");
  ASSERT_TRUE(run.status) << run.status.error().describe();
  expect_mirror_matches(dir.path(), "acme/tiny");
  // 20 MB LFS file in 1 MiB parts: ranged GETs on the CDN, one HEAD on the Hub.
  EXPECT_EQ(count_requests("cdn", "/", 206), 20u);
  EXPECT_TRUE(fs::is_empty(dir.path() / ".hfmirror" / "partial"));
}

TEST_F(SyncPipelineTest, CdnServerErrorsAndResetsAreRetried) {
  emu_->set_faults(
      {{"cdn_server_error", {{"count", 2}, {"status", 503}}}, {"cdn_reset", {{"count", 2}, {"after_bytes", 1000}}}});
  testing::TempDir dir;
  auto run = sync(dir.path(), "acme/tiny");
  ASSERT_TRUE(run.status) << run.status.error().describe();
  expect_mirror_matches(dir.path(), "acme/tiny");
  EXPECT_EQ(count_requests("cdn", "/", 503), 2u);
}

TEST_F(SyncPipelineTest, IgnoredRangeStillYieldsTheRightBytes) {
  emu_->set_faults({{"cdn_ignore_range", {{"count", 3}}}});
  testing::TempDir dir;
  auto run = sync(dir.path(), "acme/tiny");
  ASSERT_TRUE(run.status) << run.status.error().describe();
  expect_mirror_matches(dir.path(), "acme/tiny");
  EXPECT_EQ(count_requests("cdn", "/", 200), 3u);
}

TEST_F(SyncPipelineTest, ExpiredSignedUrlIsResolvedAgain) {
  emu_->set_faults({{"cdn_expire", {{"count", 1}}}});
  testing::TempDir dir;
  auto run = sync(dir.path(), "acme/tiny");
  ASSERT_TRUE(run.status) << run.status.error().describe();
  expect_mirror_matches(dir.path(), "acme/tiny");
  size_t heads = 0;
  for (const auto& r : emu_->requests()) {
    if (r["method"] == "HEAD" && r["path"].get<std::string>().find("model.safetensors") != std::string::npos) ++heads;
  }
  EXPECT_EQ(heads, 2u);  // the original resolve and one for a fresh URL
}

TEST_F(SyncPipelineTest, CorruptBytesNeverBecomeVisible) {
  emu_->set_faults({{"corrupt", {{"path", "model.safetensors"}}}});
  testing::TempDir dir;
  auto run = sync(dir.path(), "acme/tiny");
  ASSERT_FALSE(run.status);
  EXPECT_EQ(run.status.error().code, ErrorCode::kIntegrity);
  EXPECT_FALSE(fs::exists(dir.path() / "model.safetensors"));
  EXPECT_FALSE(fs::exists(dir.path() / ".hfmirror" / "manifest.json"));
  // The bad partial is not kept for a resume.
  EXPECT_TRUE(fs::is_empty(dir.path() / ".hfmirror" / "partial"));
  // Without the fault, the next run completes.
  emu_->clear_faults();
  auto again = sync(dir.path(), "acme/tiny");
  ASSERT_TRUE(again.status) << again.status.error().describe();
  expect_mirror_matches(dir.path(), "acme/tiny");
}

TEST_F(SyncPipelineTest, TokenStaysOnTheHub) {
  testing::TempDir dir;
  auto run = sync(dir.path(), "acme/gated-model", "hf_reader");
  ASSERT_TRUE(run.status) << run.status.error().describe();
  size_t hub_with_token = 0;
  size_t cdn_requests = 0;
  for (const auto& r : emu_->requests()) {
    const bool has_auth = r["headers"].contains("authorization");
    if (r["listener"] == "cdn") {
      ++cdn_requests;
      EXPECT_FALSE(has_auth) << r["path"];
    } else if (has_auth) {
      ++hub_with_token;
    }
  }
  EXPECT_GT(cdn_requests, 0u);
  EXPECT_GT(hub_with_token, 0u);
}

TEST_F(SyncPipelineTest, InterruptedFileResumesFromItsParts) {
  testing::TempDir dir;
  TransferSettings ts = small_parts();
  ts.max_parallel_requests = 1;
  ts.max_parallel_files = 1;
  // Slow the CDN so the cancel lands mid-file.
  emu_->set_faults({{"cdn_slow", {{"count", 1000}, {"after_bytes", 0}, {"bytes_per_sec", 8 << 20}}}});
  std::atomic<bool> cancel{false};
  Progress progress;
  std::thread stopper([&] {
    for (int i = 0; i < 2000 && progress.bytes_done.load() < (5u << 20); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    cancel = true;
  });
  auto first = sync(dir.path(), "acme/tiny", std::nullopt, ts, &cancel, &progress);
  stopper.join();
  ASSERT_FALSE(first.status);
  EXPECT_EQ(first.status.error().code, ErrorCode::kCancelled);
  EXPECT_FALSE(fs::exists(dir.path() / ".hfmirror" / "manifest.json"));

  emu_->clear_faults();
  emu_->clear_requests();
  auto second = sync(dir.path(), "acme/tiny", std::nullopt, ts);
  ASSERT_TRUE(second.status) << second.status.error().describe();
  expect_mirror_matches(dir.path(), "acme/tiny");
  EXPECT_GT(second.outcome.transfer.bytes_reused, 0u);
  // Only the parts not done before were fetched again.
  EXPECT_LT(count_requests("cdn", "/", 206), 20u);
}

}  // namespace
}  // namespace hfm::pipeline
