// SyncJob: one repo at one revision into one destination, end to end:
// resolve the revision to a commit once -> list the tree -> refuse unsafe
// paths -> filter -> plan against the destination's manifest -> transfer ->
// remove files that left the repo -> layout links -> manifest, last.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "http/client.h"
#include "hub/hub_client.h"
#include "pipeline/file_transfer.h"
#include "pipeline/progress.h"
#include "store/destination.h"

namespace hfm::pipeline {

struct SyncRequest {
  hub::RepoRef repo;
  std::string revision = "main";
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  bool keep_removed = false;  // keep files that left the repo (or the selection)
  TransferSettings transfer;
};

struct PlannedFile {
  store::FileSpec spec;
  bool lfs = false;
  bool transfer = true;  // false: already current at the destination
};

struct SyncPlan {
  std::string repo_id;  // as the Hub spells it
  std::string commit;
  bool up_to_date = false;         // manifest already at this commit, every file present
  std::vector<PlannedFile> files;  // the selection, sorted by path
  std::vector<std::string> removals;
  size_t files_to_transfer = 0;
  uint64_t bytes_to_transfer = 0;
  uint64_t bytes_selected = 0;
};

struct SyncOutcome {
  Status status;
  SyncPlan plan;
  TransferReport transfer;
  size_t files_removed = 0;
  std::chrono::milliseconds duration{0};
};

class SyncJob {
 public:
  SyncJob(http::Client& http, hub::HubClient& hub, store::Destination& dest, Progress& progress,
          const std::atomic<bool>& cancel_flag);

  Result<SyncPlan> plan(const SyncRequest& request);
  // Runs a plan made by plan(); the destination must not have changed since.
  SyncOutcome execute(const SyncRequest& request, SyncPlan plan);

 private:
  // The destination's manifest is still the one plan() read (another run
  // may have finished in between).
  Result<bool> manifest_unchanged_since_plan();
  void publish(const SyncPlan& plan);  // totals for the progress display

  http::Client& http_;
  hub::HubClient& hub_;
  store::Destination& dest_;
  Progress& progress_;
  const std::atomic<bool>& cancel_flag_;
  std::optional<store::Manifest> manifest_;
};

}  // namespace hfm::pipeline
