// HubClient: one method per Hub endpoint a mirror needs, on top of the shared
// http::Client. It owns the redirect policy: relative and same-origin
// redirects (renamed repos, resolve-cache) are followed with the token;
// cross-host redirects (the CDN) are either returned unfollowed (metadata) or
// followed without the token (data). The HF token never leaves the Hub origin.
//
// Not here: deciding what to transfer, buffering, hashing.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/secret.h"
#include "http/client.h"
#include "http/url.h"
#include "hub/wire.h"

namespace hfm::hub {

struct HubSettings {
  std::string endpoint = "https://huggingface.co";  // HF_ENDPOINT
  std::optional<Secret> token;
  http::Timeouts api_timeouts{std::chrono::milliseconds(10'000), 1024, std::chrono::seconds(30),
                              std::chrono::milliseconds(120'000)};
};

struct RepoRef {
  RepoType type = RepoType::kModel;
  std::string id;               // "namespace/name"
  std::string display() const;  // "model acme/tiny"
};

struct RepoInfo {
  std::string canonical_id;  // as the Hub spells it (after renames and case fixes)
  std::string commit;        // 40-hex the revision resolved to
  std::string gated;         // "", "auto", "manual"
  bool is_private = false;
};

// Where a file's bytes live, from HEAD /resolve.
struct FileLocation {
  std::string data_url;     // final URL to GET (CDN or Hub)
  bool send_token = false;  // true only when data_url is on the Hub origin
  uint64_t size_bytes = 0;
  std::string etag;    // normalised X-Linked-Etag / ETag: the content id
  std::string commit;  // X-Repo-Commit
};

class HubClient {
 public:
  HubClient(http::Client& http, HubSettings settings);

  const HubSettings& settings() const { return settings_; }
  const http::Url& origin() const { return endpoint_; }

  // GET /api/{t}s/{id}/revision/{rev}: the commit a branch/tag/sha names.
  Result<RepoInfo> repo_info(const RepoRef& repo, const std::string& revision);
  // GET /api/{t}s/{id}/tree/{commit}?recursive=true&expand=false, every page.
  Result<std::vector<TreeEntry>> list_tree(const RepoRef& repo, const std::string& commit);

  // HEAD /resolve/{commit}/{path}: metadata and the data URL (async, on the I/O thread).
  void head_resolve(const RepoRef& repo, const std::string& commit, const std::string& path,
                    std::function<void(Result<FileLocation>)> done);

  // Builds a GET for the file's bytes: straight to `url`, following
  // redirects per the policy above. `request` carries the sink and range.
  void get_data(http::Request request, bool send_token, std::function<void(Result<http::Response>)> done);

  std::string resolve_url(const RepoRef& repo, const std::string& commit, const std::string& path) const;
  // Maps a Hub error answer (X-Error-Code, 401/403/404…) to a distinct Error.
  Error hub_error(const http::Response& r, const std::string& what) const;

 private:
  struct RedirectState;
  void send_following(std::shared_ptr<RedirectState> state);
  static void finish_redirects(RedirectState& state, Result<http::Response> result);
  http::Request api_request(const std::string& path_and_query) const;

  http::Client& http_;
  HubSettings settings_;
  http::Url endpoint_;
};

}  // namespace hfm::hub
