#include "cli/app.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "auth/aws_credentials.h"
#include "auth/hf_token.h"
#include "cli/argo_progress.h"
#include "cli/progress_renderer.h"
#include "config/models_config.h"
#include "core/log.h"
#include "core/repo_id.h"
#include "core/secret.h"
#include "core/units.h"
#include "core/version.h"
#include "http/client.h"
#include "http/url.h"
#include "hub/hub_client.h"
#include "pipeline/sync_job.h"
#include "pipeline/verify.h"
#include "s3/part_plan.h"
#include "s3/s3_client.h"
#include "store/local_store.h"
#include "store/s3_store.h"

namespace hfm::cli {
namespace {

std::atomic<bool> g_cancel{false};
std::atomic<int> g_signals{0};

extern "C" void on_signal(int) {
  // First signal: stop cleanly, leaving resumable state. Second: leave now.
  if (g_signals.fetch_add(1) >= 1) _exit(static_cast<int>(ExitCode::kInterrupted));
  g_cancel.store(true);
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

// An endpoint in an error message. redact_url masks the password of a URL;
// without "://" it cannot tell one, so a value with '@' is not repeated.
std::string shown_endpoint(const std::string& ep) {
  if (ep.find("://") == std::string::npos && ep.find('@') != std::string::npos) return "(not shown: it has user info)";
  return redact_url(ep);
}

struct S3Options {
  std::string endpoint;
  std::string region;
  std::string addressing = "auto";
  std::string profile;
  std::string part_checksum = "auto";
};

struct CommonOptions {
  std::string endpoint;
  std::optional<std::string> token;
  std::string log_level = "warn";
  std::string log_file;        // empty: $HFMIRROR_LOG_FILE, else none
  std::string log_file_level;  // empty: $HFMIRROR_LOG_FILE_LEVEL, else info
  bool verbose = false;
  bool quiet = false;
  bool json = false;
  std::string progress = "auto";
  std::string ca_bundle;
  bool insecure = false;
  S3Options s3;
};

struct SyncOptions {
  std::string repo_id;
  std::string to;
  std::string revision = "main";
  std::string repo_type = "model";
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  std::string layout = "plain";
  std::string config_path;
  std::vector<std::string> only;
  bool dry_run = false;
  bool keep_removed = false;
  bool no_fsync = false;
  std::string memory_budget = "512MiB";
  std::string part_size = "16MiB";
  size_t parallel = 16;
  size_t parallel_files = 8;
};

struct VerifyOptions {
  std::string dest;
  std::string layout = "plain";
  std::string repo_id;
  std::string repo_type = "model";
  bool deep = false;
  size_t threads = 4;
};

// Everything one sync needs, resolved from flags or a config entry.
struct SyncTarget {
  std::string name;
  pipeline::SyncRequest request;
  std::string destination;
  std::string layout;
  std::string region;  // a config entry's own S3 region, if any
};

ProgressMode progress_mode(const CommonOptions& c) {
  if (c.quiet || c.json)
    return c.progress == "bar" || c.progress == "lines"
               ? (c.progress == "bar" ? ProgressMode::kBar : ProgressMode::kLines)
               : ProgressMode::kNone;
  if (c.progress == "bar") return ProgressMode::kBar;
  if (c.progress == "lines") return ProgressMode::kLines;
  if (c.progress == "none") return ProgressMode::kNone;
  return ProgressMode::kAuto;
}

void say(const CommonOptions& c, const std::string& line) {
  if (c.quiet) return;
  std::fprintf(stderr, "%s\n", line.c_str());
}

Result<std::string> hub_endpoint(const CommonOptions& c) {
  std::string ep = c.endpoint;
  if (ep.empty()) {
    const char* env = std::getenv("HF_ENDPOINT");
    ep = env != nullptr && env[0] != '\0' ? env : "https://huggingface.co";
  }
  while (!ep.empty() && ep.back() == '/') ep.pop_back();
  auto url = http::parse_url(ep);
  if (!url)
    return unexpected(ErrorCode::kUsage,
                      fmt::format("invalid Hub endpoint '{}': {}", shown_endpoint(ep), url.error().message));
  if (url->path_and_query != "/") {
    return unexpected(ErrorCode::kUsage, fmt::format("the Hub endpoint must be an origin without a path: '{}'", ep));
  }
  return ep;
}

Result<store::LocalLayout> parse_layout(const std::string& s) {
  if (s == "plain") return store::LocalLayout::kPlain;
  if (s == "hf-cache") return store::LocalLayout::kHfCache;
  return unexpected(ErrorCode::kUsage, fmt::format("unknown layout '{}' (use plain or hf-cache)", s));
}

// S3 side of a run: credentials, region, endpoint and the client, made on
// first use so local-only runs never look for AWS settings.
struct S3Runtime {
  std::unique_ptr<auth::CredentialChain> credentials;
  std::map<std::string, std::unique_ptr<s3::S3Client>> clients;  // by region: config entries may differ
};

Result<s3::S3Client*> s3_client(std::unique_ptr<S3Runtime>& s3rt, http::Client& http, const S3Options& o) {
  if (s3rt) {
    const auto it = s3rt->clients.find(o.region);
    if (it != s3rt->clients.end()) return it->second.get();
  }
  std::optional<std::string> profile;
  if (!o.profile.empty()) profile = o.profile;
  HFM_ASSIGN_OR_RETURN(const auto cfg, auth::load_aws_config_settings(profile));
  s3::S3Settings ss;
  ss.endpoint = !o.endpoint.empty() ? o.endpoint : cfg.endpoint_url.value_or("");
  ss.region = !o.region.empty() ? o.region : cfg.region.value_or("us-east-1");
  if (o.addressing == "path") ss.path_style = true;
  if (o.addressing == "virtual") ss.path_style = false;
  if (o.addressing == "auto" && cfg.addressing_style) {
    if (*cfg.addressing_style == "path") ss.path_style = true;
    if (*cfg.addressing_style == "virtual") ss.path_style = false;
  }
  if (o.part_checksum == "sha256") ss.part_checksum = s3::PartChecksum::kSha256;
  if (o.part_checksum == "crc32c") ss.part_checksum = s3::PartChecksum::kCrc32c;
  if (!ss.endpoint.empty()) {
    auto url = http::parse_url(ss.endpoint);
    if (!url)
      return unexpected(ErrorCode::kUsage, fmt::format("invalid S3 endpoint '{}'", shown_endpoint(ss.endpoint)));
  }
  if (!s3rt) {
    s3rt = std::make_unique<S3Runtime>();
    s3rt->credentials = std::make_unique<auth::CredentialChain>(auth::default_chain(profile));
  }
  log::info("s3.settings endpoint={} region={} path_style={}", ss.endpoint.empty() ? "aws" : ss.endpoint, ss.region,
            ss.path_style.value_or(!ss.endpoint.empty()));
  auto& slot = s3rt->clients[o.region];
  slot = std::make_unique<s3::S3Client>(http, *s3rt->credentials, ss);
  return slot.get();
}

Result<std::unique_ptr<store::Destination>> open_destination(const std::string& dest, const std::string& layout,
                                                             const std::string& repo_type, const std::string& repo_id,
                                                             bool durable, std::unique_ptr<S3Runtime>& s3rt,
                                                             http::Client& http, const S3Options& s3o) {
  if (dest.rfind("s3://", 0) == 0) {
    if (layout == "hf-cache") {
      return unexpected(ErrorCode::kUsage, "--layout hf-cache is for local folders; S3 mirrors are flat");
    }
    HFM_ASSIGN_OR_RETURN(auto uri, s3::parse_s3_uri(dest));
    HFM_ASSIGN_OR_RETURN(s3::S3Client * client, s3_client(s3rt, http, s3o));
    HFM_ASSIGN_OR_RETURN(auto store, store::S3Store::open(*client, uri));
    return std::unique_ptr<store::Destination>(std::move(store));
  }
  if (dest.empty()) return unexpected(ErrorCode::kUsage, "no destination: pass --to PATH");
  HFM_ASSIGN_OR_RETURN(auto lay, parse_layout(layout));
  HFM_ASSIGN_OR_RETURN(auto store, store::LocalStore::open(dest, lay, repo_type, repo_id, durable));
  return std::unique_ptr<store::Destination>(std::move(store));
}

nlohmann::json error_json(const Error& e) {
  nlohmann::json j{{"code", std::string(to_string(e.code))}, {"message", e.describe()}};
  if (e.http_status != 0) j["http_status"] = e.http_status;
  return j;
}

struct Runtime {
  CommonOptions common;
  std::optional<auth::TokenSource> token;
  std::string endpoint;
  std::unique_ptr<http::Client> http;  // before s3: the S3 client uses it
  std::unique_ptr<S3Runtime> s3rt;
};

Result<Runtime> make_runtime(const CommonOptions& c) {
  Runtime rt;
  rt.common = c;
  HFM_ASSIGN_OR_RETURN(rt.endpoint, hub_endpoint(c));
  rt.token = auth::find_hf_token(c.token);
  http::ClientSettings hs;
  hs.user_agent = fmt::format("hfmirror/{}", HFM_VERSION);
  hs.ca_bundle = c.ca_bundle;
  hs.insecure = c.insecure;
  if (c.insecure) {
    std::fprintf(stderr,
                 "WARNING: --insecure: TLS certificates are NOT verified; anyone on the network path can "
                 "read your token and alter the data.\n");
  }
  rt.http = std::make_unique<http::Client>(hs);
  if (rt.token) log::info("auth.hf_token source=\"{}\"", rt.token->origin);
  return rt;
}

nlohmann::json plan_json(const pipeline::SyncPlan& plan) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : plan.files) {
    files.push_back({{"path", f.spec.path},
                     {"size", f.spec.size_bytes},
                     {"content_id", f.spec.content_id},
                     {"action", f.transfer ? "transfer" : "skip"}});
  }
  return {{"commit", plan.commit}, {"up_to_date", plan.up_to_date}, {"files", files}, {"remove", plan.removals}};
}

S3Options target_s3_options(S3Options o, const SyncTarget& t) {
  if (o.region.empty() && !t.region.empty()) o.region = t.region;  // the flag wins over the entry
  return o;
}

// Runs one target; returns its JSON summary and error (if any).
std::pair<nlohmann::json, std::optional<Error>> run_sync_target(Runtime& rt, const SyncTarget& t, bool dry_run,
                                                                bool durable) {
  const auto& c = rt.common;
  nlohmann::json out{{"name", t.name},
                     {"repo", t.request.repo.id},
                     {"repo_type", t.request.repo.type == hub::RepoType::kDataset ? "dataset" : "model"},
                     {"revision", t.request.revision},
                     {"destination", t.destination},
                     {"layout", t.layout},
                     {"dry_run", dry_run}};
  auto fail = [&out](const Error& e) {
    out["result"] = "error";
    out["error"] = error_json(e);
    return std::make_pair(out, std::optional<Error>(e));
  };
  auto dest =
      open_destination(t.destination, t.layout, t.request.repo.type == hub::RepoType::kDataset ? "dataset" : "model",
                       t.request.repo.id, durable, rt.s3rt, *rt.http, target_s3_options(c.s3, t));
  if (!dest) return fail(dest.error());
  hub::HubSettings hs;
  hs.endpoint = rt.endpoint;
  if (rt.token) hs.token = rt.token->token;
  hub::HubClient hub(*rt.http, hs);
  pipeline::Progress progress;
  pipeline::SyncJob job(*rt.http, hub, **dest, progress, g_cancel);
  const uint64_t requests_before = rt.http->stats().requests.load();

  say(c, fmt::format("hfmirror: {} @ {} -> {} ({})", t.request.repo.display(), t.request.revision, t.destination,
                     t.layout));
  auto plan = job.plan(t.request);
  if (!plan) return fail(plan.error());
  out["commit"] = plan->commit;
  out["files_total"] = plan->files.size();
  out["bytes_total"] = plan->bytes_selected;
  out["files_to_transfer"] = plan->files_to_transfer;
  out["bytes_to_transfer"] = plan->bytes_to_transfer;
  out["files_to_remove"] = t.request.keep_removed ? 0 : plan->removals.size();
  if (dry_run) {
    out["plan"] = plan_json(*plan);
    out["result"] = "ok";
    if (!c.json) {
      std::printf("commit %s: %zu files, %s selected\n", plan->commit.c_str(), plan->files.size(),
                  format_bytes(plan->bytes_selected).c_str());
      for (const auto& f : plan->files) {
        std::printf("  %-8s %10s  %s\n", f.transfer ? "transfer" : "skip", format_bytes(f.spec.size_bytes).c_str(),
                    f.spec.path.c_str());
      }
      for (const auto& r : plan->removals) {
        std::printf("  %-8s %10s  %s\n", t.request.keep_removed ? "keep" : "remove", "", r.c_str());
      }
      std::printf("would transfer %zu files (%s)%s\n", plan->files_to_transfer,
                  format_bytes(plan->bytes_to_transfer).c_str(), plan->up_to_date ? "; already up to date" : "");
    }
    return {out, std::nullopt};
  }
  if (plan->up_to_date) {
    say(c, fmt::format("up to date at commit {} ({} files, {})", plan->commit, plan->files.size(),
                       format_bytes(plan->bytes_selected)));
  } else {
    say(c,
        fmt::format("commit {}: {} files ({}) to transfer, {} already current, {} to remove", plan->commit,
                    plan->files_to_transfer, format_bytes(plan->bytes_to_transfer),
                    plan->files.size() - plan->files_to_transfer, t.request.keep_removed ? 0 : plan->removals.size()));
  }
  pipeline::SyncOutcome outcome;
  {
    ProgressRenderer renderer(progress, plan->up_to_date ? ProgressMode::kNone : progress_mode(c), t.name);
    ArgoProgress argo(progress);
    outcome = job.execute(t.request, std::move(*plan));
  }
  out["files_transferred"] = outcome.transfer.files_ok;
  out["files_skipped"] = outcome.plan.files.size() - outcome.plan.files_to_transfer;
  out["files_removed"] = outcome.files_removed;
  out["bytes_downloaded"] = outcome.transfer.bytes_downloaded;
  out["bytes_reused"] = outcome.transfer.bytes_reused;
  out["duration_ms"] = outcome.duration.count();
  out["http_requests"] = rt.http->stats().requests.load() - requests_before;
  out["http_retries"] = rt.http->stats().retries.load();
  if (!outcome.status) {
    nlohmann::json failures = nlohmann::json::array();
    for (const auto& f : outcome.transfer.failures) {
      failures.push_back({{"path", f.path}, {"error", error_json(f.error)}});
    }
    out["failures"] = failures;
    return fail(outcome.status.error());
  }
  out["result"] = "ok";
  const double secs = static_cast<double>(outcome.duration.count()) / 1000.0;
  if (!outcome.plan.up_to_date) {
    say(c, fmt::format("done: {} files verified and in place ({} downloaded, {} resumed), {} removed, in {} ({})",
                       outcome.transfer.files_ok, format_bytes(outcome.transfer.bytes_downloaded),
                       format_bytes(outcome.transfer.bytes_reused), outcome.files_removed,
                       format_duration(outcome.duration),
                       format_rate(secs > 0 ? static_cast<double>(outcome.transfer.bytes_downloaded) / secs : 0)));
  }
  return {out, std::nullopt};
}

struct ManifestSummary {
  std::string layout;
  std::string repo_id;
  std::string repo_type;
};

std::optional<ManifestSummary> read_manifest_summary(const std::string& dir) {
  std::ifstream in(std::filesystem::path(dir) / ".hfmirror" / "manifest.json");
  if (!in) return std::nullopt;
  try {
    const auto j = nlohmann::json::parse(in);
    return ManifestSummary{j.value("layout", "plain"), j.value("repo_id", ""), j.value("repo_type", "model")};
  } catch (const std::exception&) {
    return std::nullopt;  // verify reports the broken manifest itself
  }
}

int report_error(const CommonOptions& c, const Error& e) {
  if (!c.quiet || !c.json) std::fprintf(stderr, "error: %s\n", e.describe().c_str());
  return static_cast<int>(exit_code_for(e.code));
}

int cmd_sync(const CommonOptions& common, const SyncOptions& o) {
  install_signal_handlers();
  auto rt = make_runtime(common);
  if (!rt) return report_error(common, rt.error());

  pipeline::TransferSettings ts;
  auto budget = parse_byte_size(o.memory_budget);
  if (!budget) return report_error(common, budget.error());
  auto part = parse_byte_size(o.part_size);
  if (!part) return report_error(common, part.error());
  if (*part < (1ull << 20) || *part > (1ull << 30)) {
    return report_error(common, make_error(ErrorCode::kUsage, "--part-size must be between 1MiB and 1GiB"));
  }
  if (*budget < 2 * *part) {
    return report_error(
        common, make_error(ErrorCode::kUsage, fmt::format("--memory-budget {} must hold at least two parts of {}",
                                                          format_bytes(*budget), format_bytes(*part))));
  }
  if (o.parallel == 0 || o.parallel > 256 || o.parallel_files == 0 || o.parallel_files > 256) {
    return report_error(common, make_error(ErrorCode::kUsage, "--parallel and --parallel-files must be 1..256"));
  }
  ts.memory_budget_bytes = *budget;
  ts.part_size_bytes = *part;
  ts.max_parallel_requests = o.parallel;
  ts.max_parallel_files = o.parallel_files;

  std::vector<SyncTarget> targets;
  auto check_s3_part_size = [&](const std::string& dest) -> Status {
    if (dest.rfind("s3://", 0) == 0 && ts.part_size_bytes < s3::kMinPartBytes) {
      return unexpected(ErrorCode::kUsage, "--part-size must be at least 5MiB for S3 destinations (S3's part minimum)");
    }
    return {};
  };
  if (!o.config_path.empty()) {
    if (!o.repo_id.empty()) {
      return report_error(common, make_error(ErrorCode::kUsage, "give either REPO_ID or --config, not both"));
    }
    auto cfg = config::load_models_config(o.config_path, o.to);
    if (!cfg) return report_error(common, cfg.error());
    for (const auto& e : cfg->models) {
      if (!o.only.empty() && std::find(o.only.begin(), o.only.end(), e.name) == o.only.end()) continue;
      SyncTarget t;
      t.name = e.name;
      t.request.repo.id = e.repo_id;
      t.request.repo.type = e.repo_type == "dataset" ? hub::RepoType::kDataset : hub::RepoType::kModel;
      t.request.revision = e.revision;
      t.request.include = e.include;
      t.request.exclude = e.exclude;
      t.request.keep_removed = o.keep_removed;
      t.request.transfer = ts;
      t.destination = e.destination;
      t.layout = e.layout;
      t.region = e.region;
      targets.push_back(std::move(t));
    }
    for (const auto& name : o.only) {
      if (std::none_of(cfg->models.begin(), cfg->models.end(), [&](const auto& e) { return e.name == name; })) {
        return report_error(common, make_error(ErrorCode::kConfig, fmt::format("--only {}: no entry of that name in {}",
                                                                               name, o.config_path)));
      }
    }
  } else {
    if (o.repo_id.empty()) {
      return report_error(common, make_error(ErrorCode::kUsage, "sync needs REPO_ID (or --config FILE); see --help"));
    }
    if (auto st = validate_repo_id(o.repo_id); !st) return report_error(common, st.error());
    auto type = hub::parse_repo_type(o.repo_type);
    if (!type) return report_error(common, type.error());
    if (o.to.empty()) return report_error(common, make_error(ErrorCode::kUsage, "sync needs --to DEST"));
    SyncTarget t;
    t.name = o.repo_id.substr(o.repo_id.find('/') + 1);
    t.request.repo = {*type, o.repo_id};
    t.request.revision = o.revision;
    t.request.include = o.include;
    t.request.exclude = o.exclude;
    t.request.keep_removed = o.keep_removed;
    t.request.transfer = ts;
    t.destination = o.to;
    t.layout = o.layout;
    targets.push_back(std::move(t));
  }
  if (targets.empty()) return report_error(common, make_error(ErrorCode::kConfig, "no model to sync"));
  for (const auto& t : targets) {
    if (auto st = check_s3_part_size(t.destination); !st) return report_error(common, st.error());
  }

  say(common,
      fmt::format("hfmirror {}: memory budget {} ({} buffers of {}), {} parallel requests, {} large files at once",
                  HFM_VERSION, format_bytes(ts.memory_budget_bytes), ts.buffer_count(),
                  format_bytes(ts.part_size_bytes), ts.max_parallel_requests, ts.max_parallel_files));

  nlohmann::json results = nlohmann::json::array();
  std::optional<Error> first_error;
  for (const auto& t : targets) {
    if (g_cancel.load()) break;
    auto [summary, err] = run_sync_target(*rt, t, o.dry_run, !o.no_fsync);
    if (err) {
      std::fprintf(stderr, "error: %s%s\n", targets.size() > 1 ? (t.name + ": ").c_str() : "", err->describe().c_str());
      if (!first_error) first_error = err;
    }
    results.push_back(std::move(summary));
  }
  if (common.json) {
    nlohmann::json doc;
    if (o.config_path.empty()) {
      doc = results.at(0);
      doc["command"] = "sync";
    } else {
      doc = {{"command", "sync"},
             {"config", o.config_path},
             {"results", results},
             {"result", first_error ? "error" : "ok"}};
    }
    std::cout << doc.dump() << std::endl;
  }
  if (g_cancel.load()) return static_cast<int>(ExitCode::kInterrupted);
  return first_error ? static_cast<int>(exit_code_for(first_error->code)) : 0;
}

int cmd_verify(const CommonOptions& common, const VerifyOptions& o) {
  install_signal_handlers();
  std::string repo_type = o.repo_type;
  std::string layout = o.layout;
  std::string repo_id = o.repo_id;
  std::string root = o.dest;
  // A folder holding .hfmirror/ is one mirror: its manifest says which layout
  // and repo (for hf-cache, DEST is the models--org--name folder itself).
  if (auto self = read_manifest_summary(o.dest)) {
    layout = self->layout;
    if (layout == "hf-cache") {
      repo_id = self->repo_id;
      repo_type = self->repo_type;
      root = std::filesystem::path(o.dest).lexically_normal().parent_path().string();
      if (root.empty()) root = ".";
    }
  } else if (layout == "hf-cache" && repo_id.empty()) {
    return report_error(common, make_error(ErrorCode::kUsage,
                                           "verify --layout hf-cache needs --repo REPO_ID, or DEST as the "
                                           "cache's models--org--name folder"));
  }
  auto rt = make_runtime(common);
  if (!rt) return report_error(common, rt.error());
  auto dest = open_destination(root, layout, repo_type, repo_id, false, rt->s3rt, *rt->http, common.s3);
  if (!dest) return report_error(common, dest.error());
  pipeline::Progress progress;
  pipeline::VerifySettings vs;
  vs.threads = o.threads;
  vs.deep = o.deep;
  const auto start = std::chrono::steady_clock::now();
  Result<pipeline::VerifyReport> report = [&] {
    ProgressRenderer renderer(progress, progress_mode(common), "verify");
    return pipeline::verify_destination(**dest, vs, progress, g_cancel);
  }();
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  if (!report) {
    if (common.json) {
      std::cout << nlohmann::json{{"command", "verify"},
                                  {"destination", o.dest},
                                  {"result", "error"},
                                  {"error", error_json(report.error())}}
                       .dump()
                << std::endl;
    }
    return report_error(common, report.error());
  }
  const bool ok = report->problems.empty();
  if (common.json) {
    nlohmann::json problems = nlohmann::json::array();
    for (const auto& p : report->problems) problems.push_back({{"path", p.path}, {"error", error_json(p.error)}});
    std::cout << nlohmann::json{{"command", "verify"},
                                {"destination", o.dest},
                                {"repo", report->repo_id},
                                {"commit", report->commit},
                                {"files_checked", report->files_checked},
                                {"files_ok", report->files_ok},
                                {"bytes_checked", report->bytes_checked},
                                {"duration_ms", elapsed.count()},
                                {"problems", problems},
                                {"result", ok ? "ok" : "error"}}
                     .dump()
              << std::endl;
  }
  if (ok) {
    say(common,
        fmt::format("verified: {} files, {} of {} at commit {} match their content ids ({})", report->files_ok,
                    format_bytes(report->bytes_checked), report->repo_id, report->commit, format_duration(elapsed)));
    return 0;
  }
  std::fprintf(stderr, "verify FAILED: %zu of %zu files are missing or do not match\n", report->problems.size(),
               report->files_checked);
  for (const auto& p : report->problems) std::fprintf(stderr, "  %s\n", p.error.message.c_str());
  return static_cast<int>(ExitCode::kIntegrity);
}

constexpr const char* kExitCodes =
    "Exit codes:\n"
    "  0    success\n"
    "  1    other failure (network, I/O, server errors after retries)\n"
    "  2    usage or config error\n"
    "  3    not found or not authorised (repo, revision, file; gated or private)\n"
    "  4    integrity failure (bytes do not match the Hub's content id)\n"
    "  130  interrupted (SIGINT/SIGTERM); partial state is kept and resumes\n";

}  // namespace

int run_main(int argc, char** argv) {
  CLI::App app{
      "hfmirror: mirror Hugging Face Hub repos into local folders, streaming and verified.\n"
      "Every file is pinned to one commit and checked against the Hub's content id before it\n"
      "becomes visible; .hfmirror/manifest.json is written last."};
  app.set_version_flag("--version", std::string("hfmirror ") + HFM_VERSION);
  app.footer(std::string("\nEnvironment: HF_ENDPOINT, HF_TOKEN (or HF_TOKEN_PATH / $HF_HOME/token), "
                         "HF_HUB_DISABLE_IMPLICIT_TOKEN.\n") +
             kExitCodes);
  app.require_subcommand(1);

  CommonOptions common;
  auto add_common = [&common](CLI::App* sub) {
    sub->add_option("--endpoint", common.endpoint, "Hub origin (default: $HF_ENDPOINT or https://huggingface.co)");
    sub->add_option("--token", common.token, "HF token (default: $HF_TOKEN, then the token file)");
    sub->add_flag("--json", common.json, "print one JSON summary object on stdout");
    sub->add_option("--progress", common.progress,
                    "progress display: auto (bar on a TTY, lines otherwise), bar, lines, none")
        ->check(CLI::IsMember({"auto", "bar", "lines", "none"}));
    sub->add_flag("-q,--quiet", common.quiet, "only errors on stderr");
    sub->add_flag("-v,--verbose", common.verbose, "log each file and retry (same as --log-level info)");
    sub->add_option("--log-level", common.log_level, "trace, debug, info, warn, error, off")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
    sub->add_option("--log-file", common.log_file,
                    "also append log lines (with timestamps and pid) to FILE (default: $HFMIRROR_LOG_FILE)");
    sub->add_option("--log-file-level", common.log_file_level,
                    "level of --log-file, independent of --log-level (default: $HFMIRROR_LOG_FILE_LEVEL or info)")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
    sub->add_option("--ca-bundle", common.ca_bundle, "PEM file of CA certificates to trust")->check(CLI::ExistingFile);
    sub->add_flag("--insecure", common.insecure, "DANGEROUS: do not verify TLS certificates");
    sub->add_option("--s3-endpoint", common.s3.endpoint,
                    "S3-compatible server origin (default: $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, else AWS)");
    sub->add_option("--region", common.s3.region, "AWS region (default: $AWS_REGION, $AWS_DEFAULT_REGION, profile)");
    sub->add_option("--s3-addressing", common.s3.addressing,
                    "auto (path-style for custom endpoints, virtual-hosted on AWS), path or virtual")
        ->check(CLI::IsMember({"auto", "path", "virtual"}));
    sub->add_option("--profile", common.s3.profile, "AWS profile (default: $AWS_PROFILE or default)");
  };

  SyncOptions so;
  auto* sync = app.add_subcommand("sync", "mirror a repo (or every entry of --config) into a destination");
  sync->add_option("repo_id", so.repo_id, "repo id, e.g. openai-community/gpt2");
  sync->add_option("--to", so.to, "destination folder (with --config: the root for entries without one)");
  sync->add_option("--revision", so.revision, "branch, tag or commit (default: main)");
  sync->add_option("--repo-type", so.repo_type, "model or dataset")->check(CLI::IsMember({"model", "dataset"}));
  sync->add_option("--include", so.include, "only paths matching this glob (repeatable; huggingface_hub semantics)");
  sync->add_option("--exclude", so.exclude, "skip paths matching this glob (repeatable)");
  sync->add_option("--layout", so.layout, "plain (files at repo paths) or hf-cache (huggingface_hub cache layout)")
      ->check(CLI::IsMember({"plain", "hf-cache"}));
  sync->add_option("--config", so.config_path, "YAML list of models to mirror")->check(CLI::ExistingFile);
  sync->add_option("--only", so.only, "with --config: only the entry of this name (repeatable)");
  sync->add_flag("--dry-run", so.dry_run, "print the plan (files, sizes, what would move) and change nothing");
  sync->add_flag("--keep-removed", so.keep_removed, "keep files that are no longer in the repo or selection");
  sync->add_option("--memory-budget", so.memory_budget, "bytes of part buffers in flight (default 512MiB)");
  sync->add_option("--part-size", so.part_size, "ranged-GET part size (default 16MiB)");
  sync->add_option("--parallel", so.parallel, "concurrent part requests (default 16)");
  sync->add_option("--parallel-files", so.parallel_files,
                   "large files transferred at once (default 8); small files are bounded by --parallel");
  sync->add_flag("--no-fsync", so.no_fsync, "skip fsync before files become visible (faster, less crash-safe)");
  add_common(sync);
  sync->add_option("--part-checksum", common.s3.part_checksum,
                   "S3 per-part integrity: sha256 (signed payload, checked by every server), crc32c "
                   "(x-amz-checksum-crc32c, cheaper; checked only by servers with flexible checksums) or auto "
                   "(crc32c where the server confirms it, else sha256; the default)")
      ->check(CLI::IsMember({"auto", "sha256", "crc32c"}));

  VerifyOptions vo;
  auto* verify = app.add_subcommand("verify", "re-read a mirror and re-hash every file against its manifest");
  verify->add_option("dest", vo.dest, "the mirror: a folder or s3://bucket/prefix (the --to of sync)")->required();
  verify->add_option("--layout", vo.layout, "plain or hf-cache")->check(CLI::IsMember({"plain", "hf-cache"}));
  verify->add_option("--repo", vo.repo_id, "with --layout hf-cache: which repo in the cache");
  verify->add_option("--repo-type", vo.repo_type, "model or dataset")->check(CLI::IsMember({"model", "dataset"}));
  verify->add_flag("--deep", vo.deep,
                   "S3: re-read and re-hash every byte (default: sizes and stored content ids); local folders are "
                   "always re-hashed");
  verify->add_option("--threads", vo.threads, "files checked in parallel (default 4)");
  add_common(verify);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : static_cast<int>(ExitCode::kUsage);
  }

  log::Level level = log::Level::kWarn;
  log::parse_level(common.log_level, &level);
  if (common.verbose && level > log::Level::kInfo) level = log::Level::kInfo;
  if (common.quiet) level = log::Level::kError;
  log::set_level(level);
  if (auto st = log::open_file_from_settings(common.log_file, common.log_file_level); !st) {
    return report_error(common, st.error());
  }

  if (*sync) return cmd_sync(common, so);
  return cmd_verify(common, vo);
}

}  // namespace hfm::cli
