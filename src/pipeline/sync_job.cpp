#include "pipeline/sync_job.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "core/hash.h"
#include "core/log.h"
#include "core/units.h"
#include "core/version.h"
#include "hub/glob.h"
#include "store/path_safety.h"

namespace hfm::pipeline {

SyncJob::SyncJob(http::Client& http, hub::HubClient& hub, store::Destination& dest, Progress& progress,
                 const std::atomic<bool>& cancel_flag)
    : http_(http), hub_(hub), dest_(dest), progress_(progress), cancel_flag_(cancel_flag) {}

namespace {

std::string repo_type_name(hub::RepoType t) { return t == hub::RepoType::kDataset ? "dataset" : "model"; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool same_patterns(const store::Manifest& m, const SyncRequest& r) {
  return m.include == r.include && m.exclude == r.exclude;
}

}  // namespace

Result<SyncPlan> SyncJob::plan(const SyncRequest& request) {
  SyncPlan plan;
  progress_.set_phase("resolving revision");
  HFM_ASSIGN_OR_RETURN(manifest_, dest_.read_manifest());
  plan.repo_id = request.repo.id;

  // Pinned: the revision becomes one commit, used for every request after.
  if (is_hex_id(request.revision, 40)) {
    plan.commit = request.revision;
  } else {
    HFM_ASSIGN_OR_RETURN(hub::RepoInfo info, hub_.repo_info(request.repo, request.revision));
    plan.repo_id = info.canonical_id;
    if (!info.gated.empty() && !hub_.settings().token) {
      return unexpected(ErrorCode::kGated,
                        fmt::format("{} is gated: accept its conditions on the Hub, then pass a token "
                                    "(--token or HF_TOKEN)",
                                    request.repo.display()));
    }
    plan.commit = info.commit;
  }
  log::info("sync.resolved repo={} revision={} commit={}", plan.repo_id, request.revision, plan.commit);
  // One destination, one repo: the id as typed or as the Hub spells it now
  // (case fixes and renames are the same repo).
  if (manifest_ && ((!iequals(manifest_->repo_id, request.repo.id) && !iequals(manifest_->repo_id, plan.repo_id)) ||
                    manifest_->repo_type != repo_type_name(request.repo.type))) {
    return unexpected(ErrorCode::kUsage,
                      fmt::format("{} already holds a mirror of {} {}; refusing to mix in {}", dest_.describe(),
                                  manifest_->repo_type, manifest_->repo_id, request.repo.display()));
  }

  // Unchanged commit and selection: check presence cheaply and stop there.
  if (manifest_ && manifest_->commit == plan.commit && same_patterns(*manifest_, request)) {
    bool all_present = true;
    for (const auto& mf : manifest_->files) {
      HFM_ASSIGN_OR_RETURN(auto size, dest_.file_size(mf));
      if (!size || *size != mf.size_bytes) {
        all_present = false;
        log::warn("sync.missing path={} (re-fetching)", mf.path);
        break;
      }
    }
    if (all_present) {
      plan.up_to_date = true;
      for (const auto& mf : manifest_->files) {
        PlannedFile pf;
        pf.spec = {mf.path, mf.size_bytes, mf.id_kind, mf.content_id, mf.git_oid};
        pf.lfs = mf.id_kind == store::ContentIdKind::kSha256;
        pf.transfer = false;
        plan.bytes_selected += mf.size_bytes;
        plan.files.push_back(std::move(pf));
      }
      return plan;
    }
  }

  progress_.set_phase("listing files");
  HFM_ASSIGN_OR_RETURN(std::vector<hub::TreeEntry> tree, hub_.list_tree(request.repo, plan.commit));
  const hub::PathFilter filter(request.include, request.exclude);
  HFM_ASSIGN_OR_RETURN(std::vector<store::ManifestFile> journal, dest_.read_journal());
  std::set<std::string> seen;
  for (const auto& e : tree) {
    if (!e.is_file) continue;
    // Untrusted: a hostile listing must never place a file outside the destination.
    auto safe = store::validate_repo_path(e.path);
    if (!safe) {
      Error err = safe.error();
      err.message = fmt::format("the Hub listed an unsafe path in {}: {}", request.repo.display(), err.message);
      return err;
    }
    if (!filter.keep(e.path)) continue;
    if (!seen.insert(e.path).second) {
      return unexpected(ErrorCode::kProtocol, fmt::format("the Hub listed '{}' twice", store::printable(e.path)));
    }
    PlannedFile pf;
    pf.spec.path = e.path;
    pf.spec.size_bytes = e.size_bytes;
    pf.spec.id_kind = e.is_lfs() ? store::ContentIdKind::kSha256 : store::ContentIdKind::kGitSha1;
    pf.spec.content_id = e.content_id();
    pf.spec.git_oid = e.oid;
    pf.lfs = e.is_lfs();
    HFM_ASSIGN_OR_RETURN(bool current, dest_.file_is_current(pf.spec, manifest_, journal));
    pf.transfer = !current;
    plan.bytes_selected += e.size_bytes;
    if (pf.transfer) {
      plan.files_to_transfer++;
      plan.bytes_to_transfer += e.size_bytes;
    }
    plan.files.push_back(std::move(pf));
  }
  std::sort(plan.files.begin(), plan.files.end(),
            [](const PlannedFile& a, const PlannedFile& b) { return a.spec.path < b.spec.path; });
  if (plan.files.empty()) {
    return unexpected(ErrorCode::kEntryNotFound, fmt::format("no file of {} at {} matches the include/exclude patterns",
                                                             request.repo.display(), plan.commit));
  }

  // Files we mirrored before that are no longer selected.
  std::set<std::string> known;
  if (manifest_) {
    for (const auto& mf : manifest_->files) known.insert(mf.path);
  }
  for (const auto& j : journal) known.insert(j.path);
  for (const auto& path : known) {
    if (!seen.count(path)) plan.removals.push_back(path);
  }
  return plan;
}

Result<bool> SyncJob::manifest_unchanged_since_plan() {
  HFM_ASSIGN_OR_RETURN(auto now, dest_.read_manifest());
  const auto text = [](const std::optional<store::Manifest>& m) { return m ? store::manifest_to_json(*m) : ""; };
  return text(now) == text(manifest_);
}

void SyncJob::publish(const SyncPlan& plan) {
  progress_.files_total = plan.files.size();
  progress_.bytes_total = plan.bytes_to_transfer;
  progress_.files_skipped = plan.files.size() - plan.files_to_transfer;
}

SyncOutcome SyncJob::execute(const SyncRequest& request, SyncPlan plan) {
  const auto start = std::chrono::steady_clock::now();
  SyncOutcome out;
  auto finish = [&](Status st) {
    out.status = std::move(st);
    out.duration = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    out.plan = std::move(plan);
    return std::move(out);
  };
  publish(plan);
  if (plan.up_to_date) {
    // A run killed between writing its manifest and cleaning up left state
    // behind that would mislead a later run: remove it, under the lock.
    auto stale = dest_.has_stale_state();
    if (stale && *stale && dest_.acquire_lock()) {
      auto unchanged = manifest_unchanged_since_plan();
      if (unchanged && *unchanged) {
        if (auto st = dest_.remove_stale_state(); !st) {
          log::warn("sync.stale_state_kept error=\"{}\"", st.error().message);
        } else {
          log::info("sync.stale_state_removed");
        }
      }
      dest_.release_lock();
    }
    return finish({});
  }

  // One run changes a destination at a time; a second one stops here with
  // kBusy (exit 5) and has changed nothing.
  if (auto st = dest_.acquire_lock(); !st) return finish(st);
  struct Unlock {
    store::Destination& dest;
    ~Unlock() { dest.release_lock(); }
  } unlock{dest_};
  // A run that finished between our plan() and the lock changed what the plan
  // was made against: plan again.
  {
    auto unchanged = manifest_unchanged_since_plan();
    if (!unchanged) return finish(unexpected(std::move(unchanged.error())));
    if (!*unchanged) {
      log::info("sync.replan reason=destination_changed_before_lock");
      auto again = this->plan(request);
      if (!again) return finish(unexpected(std::move(again.error())));
      plan = std::move(*again);
      publish(plan);
      if (plan.up_to_date) return finish({});
    }
  }

  const store::SyncContext ctx{request.repo.id, repo_type_name(request.repo.type), request.revision, plan.commit};
  if (auto st = dest_.begin_changes(ctx); !st) return finish(st);

  // A path that turns from file into folder (or back) between commits: the
  // old entry must go before the new one can be placed. Other removals wait
  // until every transfer succeeded.
  std::vector<std::string> removals_at_end;
  if (!request.keep_removed) {
    std::set<std::string> new_paths, new_folders;
    for (const auto& pf : plan.files) {
      new_paths.insert(pf.spec.path);
      for (size_t i = pf.spec.path.find('/'); i != std::string::npos; i = pf.spec.path.find('/', i + 1)) {
        new_folders.insert(pf.spec.path.substr(0, i));
      }
    }
    for (const auto& path : plan.removals) {
      bool clashes = new_folders.count(path) > 0;
      for (size_t i = path.find('/'); !clashes && i != std::string::npos; i = path.find('/', i + 1)) {
        clashes = new_paths.count(path.substr(0, i)) > 0;
      }
      if (!clashes) {
        removals_at_end.push_back(path);
        continue;
      }
      if (auto st = dest_.remove_file(path); !st) return finish(st);
      out.files_removed++;
      log::info("sync.removed path={} reason=file_folder_switch", path);
    }
  }

  std::vector<FileJob> jobs;
  for (const auto& pf : plan.files) {
    if (pf.transfer) jobs.push_back({pf.spec, pf.lfs});
  }
  if (!jobs.empty()) {
    progress_.set_phase("transferring");
    progress_.transferring = true;
    TransferEngine engine(http_, hub_, dest_, request.repo, plan.commit, request.transfer, progress_, cancel_flag_);
    out.transfer = engine.run(std::move(jobs));
    progress_.transferring = false;
    if (out.transfer.fatal) return finish(unexpected(*out.transfer.fatal));
    if (!out.transfer.failures.empty()) {
      // Integrity first: it is the most important thing a user must see.
      const auto& failures = out.transfer.failures;
      auto worst = std::find_if(failures.begin(), failures.end(),
                                [](const FileFailure& f) { return f.error.code == ErrorCode::kIntegrity; });
      if (worst == failures.end()) worst = failures.begin();
      Error e = worst->error;
      e.message = fmt::format("{} of {} files failed; first: {}", failures.size(), plan.files_to_transfer, e.message);
      return finish(unexpected(std::move(e)));
    }
  }
  if (cancel_flag_.load()) return finish(unexpected(ErrorCode::kCancelled, "interrupted"));

  progress_.set_phase("finishing");
  if (!request.keep_removed) {
    for (const auto& path : removals_at_end) {
      if (auto st = dest_.remove_file(path); !st) return finish(st);
      out.files_removed++;
      log::info("sync.removed path={}", path);
    }
  }
  std::vector<store::FileSpec> specs;
  specs.reserve(plan.files.size());
  for (const auto& pf : plan.files) specs.push_back(pf.spec);
  if (auto st = dest_.finish(ctx, specs); !st) return finish(st);

  store::Manifest m;
  m.repo_id = plan.repo_id;
  m.repo_type = ctx.repo_type;
  m.revision = request.revision;
  m.commit = plan.commit;
  m.layout = dest_.layout();
  m.tool_version = HFM_VERSION;
  m.created_at = utc_timestamp_iso8601(std::chrono::system_clock::now());
  m.include = request.include;
  m.exclude = request.exclude;
  for (const auto& s : specs) m.files.push_back({s.path, s.size_bytes, s.id_kind, s.content_id, s.git_oid});
  if (request.keep_removed && manifest_) {
    // Kept files stay described, so verify still covers them.
    for (const auto& path : plan.removals) {
      if (const auto* mf = manifest_->find(path)) m.files.push_back(*mf);
    }
    std::sort(m.files.begin(), m.files.end(),
              [](const store::ManifestFile& a, const store::ManifestFile& b) { return a.path < b.path; });
  }
  if (auto st = dest_.write_manifest(m); !st) return finish(st);
  progress_.set_phase("done");
  return finish({});
}

}  // namespace hfm::pipeline
