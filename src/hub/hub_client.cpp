#include "hub/hub_client.h"

#include <fmt/format.h>

#include <future>
#include <nlohmann/json.hpp>

#include "core/log.h"

namespace hfm::hub {
namespace {

constexpr int kMaxRedirects = 10;

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::optional<uint64_t> parse_u64(std::optional<std::string_view> text) {
  if (!text || text->empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : *text) {
    if (c < '0' || c > '9') return std::nullopt;
    if (v > (UINT64_MAX - 9) / 10) return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

}  // namespace

std::string RepoRef::display() const {
  return fmt::format("{} {}", type == RepoType::kDataset ? "dataset" : "model", id);
}

struct HubClient::RedirectState {
  http::Request request;
  http::Url url;
  bool allow_token = true;
  bool follow_cross_origin = false;
  int hops = 0;
  std::function<void(Result<http::Response>)> done;
};

HubClient::HubClient(http::Client& http, HubSettings settings) : http_(http), settings_(std::move(settings)) {
  while (!settings_.endpoint.empty() && settings_.endpoint.back() == '/') settings_.endpoint.pop_back();
  auto parsed = http::parse_url(settings_.endpoint);
  if (parsed) endpoint_ = *parsed;  // validated by the CLI before construction
}

std::string HubClient::resolve_url(const RepoRef& repo, const std::string& commit, const std::string& path) const {
  return fmt::format("{}/{}{}/resolve/{}/{}", endpoint_.origin(), resolve_prefix(repo.type), repo.id,
                     http::quote(commit, ""), http::quote(path, "/"));
}

http::Request HubClient::api_request(const std::string& path_and_query) const {
  http::Request r;
  r.url = endpoint_.origin() + path_and_query;
  r.timeouts = settings_.api_timeouts;
  r.headers.set("Accept", "application/json");
  r.log_tag = "hub.api";
  return r;
}

Error HubClient::hub_error(const http::Response& r, const std::string& what) const {
  auto header = [&r](std::string_view name) { return r.headers.get(name).value_or(std::string_view{}); };
  Error e =
      map_hub_error(r.status, header("x-error-code"), header("x-error-message"), r.body, header("x-request-id"), what);
  if (r.status == 401 && settings_.token && e.remote_code.empty()) {
    e.message += " A token was sent: check that it is valid and not expired.";
  }
  return e;
}

// Hands the result over and drops the callback, which may hold the state
// itself (a reference cycle otherwise).
void HubClient::finish_redirects(RedirectState& state, Result<http::Response> result) {
  auto done = std::move(state.done);
  state.done = nullptr;
  done(std::move(result));
}

void HubClient::send_following(std::shared_ptr<RedirectState> state) {
  http::Request attempt = state->request;
  attempt.url = state->url.str();
  // The token goes to the Hub origin and nowhere else, whatever the caller asked.
  if (state->allow_token && settings_.token && http::same_origin(state->url, endpoint_)) {
    attempt.bearer = settings_.token;
  } else {
    attempt.bearer.reset();
  }
  http_.submit(std::move(attempt), [this, state](Result<http::Response> result) {
    if (!result) {
      finish_redirects(*state, std::move(result));
      return;
    }
    http::Response& r = *result;
    const auto location = r.headers.get("location");
    if (!is_redirect(r.status) || !location) {
      finish_redirects(*state, std::move(result));
      return;
    }
    auto next = http::resolve_location(state->url, *location);
    if (!next) {
      finish_redirects(*state, unexpected(ErrorCode::kProtocol,
                                          fmt::format("bad redirect Location from {}", redact_url(state->url.str()))));
      return;
    }
    const bool same = http::same_origin(*next, endpoint_);
    if (!same && !state->follow_cross_origin) {
      finish_redirects(*state, std::move(result));  // caller reads Location
      return;
    }
    if (++state->hops > kMaxRedirects) {
      finish_redirects(*state, unexpected(ErrorCode::kProtocol,
                                          fmt::format("too many redirects from {}", redact_url(state->request.url))));
      return;
    }
    log::debug("hub.redirect status={} to={}", r.status, redact_url(next->str()));
    state->url = std::move(*next);
    send_following(state);
  });
}

Result<RepoInfo> HubClient::repo_info(const RepoRef& repo, const std::string& revision) {
  // expand limits the answer to what we need (no siblings list for huge repos).
  const std::string path = fmt::format("/api/{}/{}/revision/{}?expand=sha&expand=gated&expand=private",
                                       api_plural(repo.type), repo.id, http::quote(revision, ""));
  auto state = std::make_shared<RedirectState>();
  state->request = api_request(path);
  state->request.log_tag = "hub.revision";
  HFM_ASSIGN_OR_RETURN(state->url, http::parse_url(state->request.url));
  std::promise<Result<http::Response>> promise;
  state->done = [&promise](Result<http::Response> r) { promise.set_value(std::move(r)); };
  send_following(state);
  HFM_ASSIGN_OR_RETURN(http::Response r, promise.get_future().get());
  const std::string what = fmt::format("{} at revision '{}'", repo.display(), revision);
  if (r.status != 200) return hub_error(r, what);
  HFM_ASSIGN_OR_RETURN(std::string sha, parse_revision_sha(r.body));
  RepoInfo info;
  info.commit = std::move(sha);
  info.canonical_id = repo.id;
  try {
    const auto j = nlohmann::json::parse(r.body);
    if (j.contains("id") && j["id"].is_string() && validate_repo_id(j["id"].get<std::string>())) {
      info.canonical_id = j["id"].get<std::string>();
    }
    if (j.contains("gated") && j["gated"].is_string()) info.gated = j["gated"].get<std::string>();
    if (j.contains("private") && j["private"].is_boolean()) info.is_private = j["private"].get<bool>();
  } catch (const std::exception&) {
    // parse_revision_sha already validated the body; optional fields only.
  }
  return info;
}

Result<std::vector<TreeEntry>> HubClient::list_tree(const RepoRef& repo, const std::string& commit) {
  std::vector<TreeEntry> all;
  std::string url = fmt::format("{}/api/{}/{}/tree/{}?recursive=true&expand=false", endpoint_.origin(),
                                api_plural(repo.type), repo.id, http::quote(commit, ""));
  int pages = 0;
  while (!url.empty()) {
    auto state = std::make_shared<RedirectState>();
    state->request = api_request("");
    state->request.log_tag = "hub.tree";
    HFM_ASSIGN_OR_RETURN(state->url, http::parse_url(url));
    if (!http::same_origin(state->url, endpoint_)) {
      return unexpected(ErrorCode::kProtocol, fmt::format("tree pagination pointed off the Hub: {}", redact_url(url)));
    }
    std::promise<Result<http::Response>> promise;
    state->done = [&promise](Result<http::Response> r) { promise.set_value(std::move(r)); };
    send_following(state);
    HFM_ASSIGN_OR_RETURN(http::Response r, promise.get_future().get());
    if (r.status != 200) return hub_error(r, fmt::format("{} file list at {}", repo.display(), commit));
    HFM_ASSIGN_OR_RETURN(std::vector<TreeEntry> page, parse_tree_page(r.body));
    ++pages;
    for (auto& e : page) all.push_back(std::move(e));
    auto next = parse_link_next(r.headers.get("link").value_or(""));
    url = next ? *next : std::string();
    if (next) {
      auto resolved = http::resolve_location(state->url, *next);
      if (!resolved) return unexpected(ErrorCode::kProtocol, "bad tree pagination link");
      url = resolved->str();
    }
    if (pages > 100'000) return unexpected(ErrorCode::kProtocol, "tree pagination does not end");
  }
  log::info("hub.tree repo={} commit={} entries={} pages={}", repo.id, commit, all.size(), pages);
  if (auto clash = find_file_folder_clash(all)) {
    return unexpected(ErrorCode::kProtocol,
                      fmt::format("the Hub's file list of {} at {} has \"{}\" both as a file and as a folder (of "
                                  "\"{}\"); refusing to mirror a tree no filesystem can hold",
                                  repo.display(), commit, quote_untrusted(clash->path), quote_untrusted(clash->below)));
  }
  return all;
}

void HubClient::head_resolve(const RepoRef& repo, const std::string& commit, const std::string& path,
                             std::function<void(Result<FileLocation>)> done) {
  auto state = std::make_shared<RedirectState>();
  state->request.method = "HEAD";
  state->request.timeouts = settings_.api_timeouts;
  state->request.log_tag = "hub.resolve";
  auto url = http::parse_url(resolve_url(repo, commit, path));
  if (!url) {
    done(unexpected(std::move(url.error())));
    return;
  }
  state->url = std::move(*url);
  state->follow_cross_origin = false;
  const std::string what = fmt::format("'{}' in {} at {}", path, repo.display(), commit);
  state->done = [this, state, what, done = std::move(done)](Result<http::Response> result) {
    if (!result) {
      done(unexpected(std::move(result.error())));
      return;
    }
    const http::Response& r = *result;
    FileLocation loc;
    loc.commit = std::string(r.headers.get("x-repo-commit").value_or(""));
    const auto linked_etag = r.headers.get("x-linked-etag");
    const auto etag = linked_etag ? linked_etag : r.headers.get("etag");
    loc.etag = normalize_etag(etag.value_or(""));
    if (is_redirect(r.status)) {
      auto target = http::resolve_location(state->url, r.headers.get("location").value_or(""));
      if (!target) {
        done(unexpected(ErrorCode::kProtocol, "bad Location on resolve for " + what));
        return;
      }
      loc.data_url = target->str();
      loc.send_token = http::same_origin(*target, endpoint_);
      // A redirect's Content-Length is its own body, never the file's size.
      auto size = parse_u64(r.headers.get("x-linked-size"));
      if (!size) {
        done(unexpected(ErrorCode::kProtocol, "resolve redirect without X-Linked-Size for " + what));
        return;
      }
      loc.size_bytes = *size;
    } else if (r.status == 200) {
      loc.data_url = state->url.str();
      loc.send_token = true;
      auto size = parse_u64(r.headers.get("x-linked-size"));
      if (!size) size = parse_u64(r.headers.get("content-length"));
      if (!size) {
        done(unexpected(ErrorCode::kProtocol, "resolve answer without a size for " + what));
        return;
      }
      loc.size_bytes = *size;
    } else {
      done(unexpected(hub_error(r, what)));
      return;
    }
    if (loc.etag.empty() || loc.commit.empty()) {
      done(unexpected(ErrorCode::kProtocol, "resolve answer lacks X-Repo-Commit or ETag for " + what));
      return;
    }
    done(std::move(loc));
  };
  send_following(state);
}

void HubClient::get_data(http::Request request, bool send_token, std::function<void(Result<http::Response>)> done) {
  auto state = std::make_shared<RedirectState>();
  auto url = http::parse_url(request.url);
  if (!url) {
    done(unexpected(std::move(url.error())));
    return;
  }
  state->url = std::move(*url);
  state->request = std::move(request);
  state->allow_token = send_token;
  state->follow_cross_origin = true;  // data may live on a CDN; the token stays behind
  state->done = std::move(done);
  send_following(state);
}

}  // namespace hfm::hub
