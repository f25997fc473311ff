// What every fuzz target checks, one function per family of parsers that read
// untrusted input: the input goes through each parser of the family, and what
// the parser's contract promises is asserted (ids are lowercase hex, accepted
// paths have no ".." segment, what is written parses back the same, …), not
// only that it returns. The fuzz targets (fuzz_*.cpp) call these from
// LLVMFuzzerTestOneInput; tests/unit/test_fuzz_regressions.cpp replays the
// seed corpus and every saved crash through the same functions, so a crash
// once found stays fixed in the normal test suite.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/aws_credentials.h"
#include "auth/sigv4.h"
#include "config/models_config.h"
#include "core/repo_id.h"
#include "core/units.h"
#include "http/request.h"
#include "http/retry.h"
#include "http/url.h"
#include "hub/glob.h"
#include "hub/wire.h"
#include "s3/xml.h"
#include "store/manifest.h"
#include "store/path_safety.h"

namespace hfm::fuzz {

// A broken invariant. The fuzz targets abort, so libFuzzer keeps the input as
// a crash; the unit test installs a handler that throws, to name the file.
using FailureHandler = void (*)(const char* condition, const char* file, int line);

inline void abort_on_failure(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", condition, file, line);
  std::abort();
}

inline FailureHandler& failure_handler() {
  static FailureHandler handler = &abort_on_failure;
  return handler;
}

#define HFM_FUZZ_CHECK(condition)                                                \
  do {                                                                           \
    if (!(condition)) {                                                          \
      ::hfm::fuzz::failure_handler()(#condition, __FILE__, __LINE__);            \
      std::abort(); /* a handler that returns must not let the check continue */ \
    }                                                                            \
  } while (0)

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The text before and after the first `separator` (all of it and "" without one).
inline std::pair<std::string_view, std::string_view> split_once(std::string_view text, char separator) {
  const size_t at = text.find(separator);
  if (at == std::string_view::npos) return {text, {}};
  return {text.substr(0, at), text.substr(at + 1)};
}

inline bool is_lower_hex(std::string_view s, size_t length) {
  return s.size() == length &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

inline bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

inline bool has_upper(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

// True when a '/'-separated segment of `path` is "." or "..".
inline bool has_dot_segment(std::string_view path) {
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    const std::string_view segment = path.substr(start, slash == std::string_view::npos ? path.npos : slash - start);
    if (segment == "." || segment == "..") return true;
    if (slash == std::string_view::npos) return false;
    start = slash + 1;
  }
}

// A fixed "now": runs are replayable, and dates on both sides of it are reachable.
inline std::chrono::system_clock::time_point fixed_now() {
  using namespace std::chrono;
  return sys_days(year(2026) / November / day(27)) + hours(12);
}

// --- fuzz_hub_wire: tree pages, revision info, Link, RateLimit, Retry-After,
// ETags, repo types and Hub error answers (src/hub/wire.h).
inline void check_hub_wire(std::string_view input) {
  if (const auto page = hub::parse_tree_page(input)) {
    for (const hub::TreeEntry& entry : *page) {
      HFM_FUZZ_CHECK(!entry.path.empty());
      if (!entry.is_file) {
        HFM_FUZZ_CHECK(!entry.lfs_sha256 && !entry.xet_hash);
        continue;
      }
      HFM_FUZZ_CHECK(is_lower_hex(entry.oid, 40));
      if (entry.lfs_sha256) HFM_FUZZ_CHECK(is_lower_hex(*entry.lfs_sha256, 64));
      if (entry.xet_hash) HFM_FUZZ_CHECK(is_lower_hex(*entry.xet_hash, 64));
      HFM_FUZZ_CHECK(is_lower_hex(entry.content_id(), entry.is_lfs() ? 64 : 40));
    }
  } else {
    HFM_FUZZ_CHECK(page.error().code == ErrorCode::kProtocol);
  }

  if (const auto sha = hub::parse_revision_sha(input)) {
    HFM_FUZZ_CHECK(is_lower_hex(*sha, 40));
  } else {
    HFM_FUZZ_CHECK(sha.error().code == ErrorCode::kProtocol);
  }

  // The next page's URL is one of the header's <…> link targets, verbatim.
  if (const auto next = hub::parse_link_next(input)) {
    HFM_FUZZ_CHECK(!next->empty());
    HFM_FUZZ_CHECK(input.find("<" + *next + ">") != std::string_view::npos);
  }

  if (const auto limit = hub::parse_ratelimit(input)) {
    HFM_FUZZ_CHECK(limit->remaining >= -1 && limit->reset_seconds >= -1);
    HFM_FUZZ_CHECK(!limit->bucket.empty() || limit->remaining >= 0 || limit->reset_seconds >= 0);
  }

  if (const auto delay = hub::parse_retry_after(input, fixed_now())) HFM_FUZZ_CHECK(delay->count() >= 0);

  const std::string etag = hub::normalize_etag(input);
  HFM_FUZZ_CHECK(etag.size() <= input.size());
  HFM_FUZZ_CHECK(etag.empty() || (etag.front() != '"' && etag.back() != '"'));

  const bool known_type = input == "model" || input == "models" || input == "dataset" || input == "datasets";
  const auto type = hub::parse_repo_type(input);
  HFM_FUZZ_CHECK(type.has_value() == known_type);
  if (!type) HFM_FUZZ_CHECK(type.error().code == ErrorCode::kUsage && !has_control(type.error().message));

  // An error answer: X-Error-Code on the first line, X-Error-Message on the
  // second, the rest as the body; the status picked by the first byte.
  static constexpr int kStatuses[] = {400, 401, 403, 404, 408, 410, 429, 500, 503};
  const int status = input.empty() ? 404 : kStatuses[static_cast<unsigned char>(input[0]) % std::size(kStatuses)];
  const auto [error_code, after_code] = split_once(input, '\n');
  const auto [error_message, body] = split_once(after_code, '\n');
  const Error error = hub::map_hub_error(status, error_code, error_message, body, error_code, "repo acme/tiny");
  HFM_FUZZ_CHECK(error.http_status == status);
  // Messages and log fields are one line whatever the server sent.
  HFM_FUZZ_CHECK(error.message.find("repo acme/tiny") != std::string::npos && !has_control(error.message));
  HFM_FUZZ_CHECK(!has_control(error.remote_code) && error.remote_code.size() <= 64 + 3);
  HFM_FUZZ_CHECK(!has_control(error.request_id) && error.request_id.size() <= 128 + 3);
}

// --- fuzz_s3_xml: every S3 answer parser, and xml_escape read back by the
// parser (src/s3/xml.h).
inline void check_s3_xml(std::string_view input) {
  (void)s3::parse_error_body(input);

  if (const auto upload_id = s3::parse_initiate_multipart_upload(input)) {
    HFM_FUZZ_CHECK(!upload_id->empty());
  } else {
    HFM_FUZZ_CHECK(upload_id.error().code == ErrorCode::kProtocol);
  }

  if (const auto parts = s3::parse_list_parts(input)) {
    for (const s3::UploadedPart& part : parts->parts) {
      HFM_FUZZ_CHECK(part.part_number >= 1 && part.part_number <= 10'000);
    }
  } else {
    HFM_FUZZ_CHECK(parts.error().code == ErrorCode::kProtocol);
  }

  if (const auto uploads = s3::parse_list_multipart_uploads(input); !uploads) {
    HFM_FUZZ_CHECK(uploads.error().code == ErrorCode::kProtocol);
  }

  // A truncated listing always says where to go on: no silent end of listing.
  if (const auto objects = s3::parse_list_objects_v2(input)) {
    HFM_FUZZ_CHECK(!objects->truncated || !objects->next_continuation_token.empty());
  } else {
    HFM_FUZZ_CHECK(objects.error().code == ErrorCode::kProtocol);
  }

  if (const auto deleted = s3::parse_delete_result(input); !deleted) {
    HFM_FUZZ_CHECK(deleted.error().code == ErrorCode::kProtocol);
  }

  // A key we escape into DeleteObjects comes back the same in the answer.
  // XML drops text that is only blanks, and cannot carry NUL.
  const bool representable =
      input.find('\0') == std::string_view::npos && input.find_first_not_of(" \t") != std::string_view::npos;
  if (representable) {
    const std::string key = s3::xml_escape(input);
    const std::string answer = "<DeleteResult><Deleted><Key>" + key + "</Key></Deleted><Error><Key>" + key +
                               "</Key><Code>AccessDenied</Code></Error></DeleteResult>";
    const auto parsed = s3::parse_delete_result(answer);
    HFM_FUZZ_CHECK(parsed.has_value());
    HFM_FUZZ_CHECK(parsed->deleted.size() == 1 && parsed->deleted[0] == input);
    HFM_FUZZ_CHECK(parsed->errors.size() == 1 && parsed->errors[0].first == input);
  }
}

// --- fuzz_models_config: the --config models list (src/config/models_config.h).
inline bool is_config_name(std::string_view name) {
  auto ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  return !name.empty() && ok(name[0]) &&
         std::all_of(name.begin(), name.end(), [&ok](char c) { return ok(c) || c == '.' || c == '_' || c == '-'; });
}

inline void check_models_config(std::string_view input) {
  // Both with and without a --to root, picked by the input so runs replay.
  const std::string_view to_root = input.size() % 2 == 1 ? "/data/mirrors" : "";
  const auto config = config::parse_models_config(input, "fuzz.yaml", to_root);
  if (!config) {
    HFM_FUZZ_CHECK(config.error().code == ErrorCode::kConfig);
    HFM_FUZZ_CHECK(config.error().message.starts_with("fuzz.yaml"));
    return;
  }
  HFM_FUZZ_CHECK(!config->models.empty());
  for (size_t i = 0; i < config->models.size(); ++i) {
    const config::ModelEntry& entry = config->models[i];
    HFM_FUZZ_CHECK(is_config_name(entry.name));
    HFM_FUZZ_CHECK(validate_repo_id(entry.repo_id).has_value());
    HFM_FUZZ_CHECK(entry.repo_type == "model" || entry.repo_type == "dataset");
    HFM_FUZZ_CHECK(entry.layout == "plain" || entry.layout == "hf-cache");
    HFM_FUZZ_CHECK(!entry.revision.empty() && !has_control(entry.revision));
    HFM_FUZZ_CHECK(!entry.destination.empty() && !has_control(entry.destination));
    // The S3 key prefix never climbs out of, or collapses into, its parent.
    HFM_FUZZ_CHECK(!entry.prefix.empty() && !has_dot_segment(entry.prefix));
    HFM_FUZZ_CHECK(entry.prefix.front() != '/' && entry.prefix.back() != '/' &&
                   entry.prefix.find("//") == std::string::npos);
    if (entry.destination.starts_with("s3://")) {
      HFM_FUZZ_CHECK(entry.layout == "plain");
      const std::string_view rest = std::string_view(entry.destination).substr(5);
      const std::string_view bucket = rest.substr(0, rest.find('/'));
      HFM_FUZZ_CHECK(bucket.size() >= 3 && bucket.size() <= 63 && !has_upper(bucket));
      HFM_FUZZ_CHECK(!has_dot_segment(rest) && rest.find("//") == rest.npos && rest.back() != '/');
    }
    for (const auto* patterns : {&entry.include, &entry.exclude}) {
      for (const std::string& pattern : *patterns) HFM_FUZZ_CHECK(!pattern.empty() && !has_control(pattern));
    }
    for (size_t j = 0; j < i; ++j) HFM_FUZZ_CHECK(config->models[j].name != entry.name);
  }
}

// --- fuzz_manifest: the destination manifest (src/store/manifest.h).
inline bool same_manifest(const store::Manifest& a, const store::Manifest& b) {
  auto same_file = [](const store::ManifestFile& x, const store::ManifestFile& y) {
    return x.path == y.path && x.size_bytes == y.size_bytes && x.id_kind == y.id_kind && x.content_id == y.content_id &&
           x.git_oid == y.git_oid;
  };
  return a.repo_id == b.repo_id && a.repo_type == b.repo_type && a.revision == b.revision && a.commit == b.commit &&
         a.layout == b.layout && a.include == b.include && a.exclude == b.exclude && a.tool_version == b.tool_version &&
         a.created_at == b.created_at &&
         std::equal(a.files.begin(), a.files.end(), b.files.begin(), b.files.end(), same_file);
}

inline void check_manifest(std::string_view input) {
  const auto manifest = store::manifest_from_json(input);
  if (!manifest) {
    HFM_FUZZ_CHECK(manifest.error().code == ErrorCode::kProtocol);
    return;
  }
  HFM_FUZZ_CHECK(validate_repo_id(manifest->repo_id).has_value());
  HFM_FUZZ_CHECK(manifest->repo_type == "model" || manifest->repo_type == "dataset");
  HFM_FUZZ_CHECK(manifest->layout == "plain" || manifest->layout == "hf-cache");
  HFM_FUZZ_CHECK(is_lower_hex(manifest->commit, 40));
  uint64_t total = 0;
  for (size_t i = 0; i < manifest->files.size(); ++i) {
    const store::ManifestFile& file = manifest->files[i];
    // Every path is one the stores may write to: inside the destination.
    HFM_FUZZ_CHECK(store::validate_repo_path(file.path).has_value());
    HFM_FUZZ_CHECK(!has_dot_segment(file.path) && file.path.front() != '/' && !has_control(file.path));
    HFM_FUZZ_CHECK(is_lower_hex(file.content_id, file.id_kind == store::ContentIdKind::kSha256 ? 64 : 40));
    HFM_FUZZ_CHECK(is_lower_hex(file.git_oid, 40));
    HFM_FUZZ_CHECK(i == 0 || manifest->files[i - 1].path < file.path);  // sorted, no duplicates
    HFM_FUZZ_CHECK(manifest->find(file.path) == &file);
    HFM_FUZZ_CHECK(file.size_bytes <= UINT64_MAX - total);
    total += file.size_bytes;
  }
  HFM_FUZZ_CHECK(manifest->total_bytes() == total);

  // Written back, it reads the same, and writes the same bytes again.
  const std::string json = store::manifest_to_json(*manifest);
  const auto again = store::manifest_from_json(json);
  HFM_FUZZ_CHECK(again.has_value());
  HFM_FUZZ_CHECK(same_manifest(*manifest, *again));
  HFM_FUZZ_CHECK(store::manifest_to_json(*again) == json);
}

// --- fuzz_http: URLs, redirects, percent-encoding (src/http/url.h) and the
// retry policy's Retry-After / RateLimit reading (src/http/retry.h).
inline bool same_url(const http::Url& a, const http::Url& b) {
  return a.scheme == b.scheme && a.host == b.host && a.port == b.port && a.path_and_query == b.path_and_query;
}

inline void check_http(std::string_view input) {
  if (const auto url = http::parse_url(input)) {
    HFM_FUZZ_CHECK(url->scheme == "http" || url->scheme == "https");
    HFM_FUZZ_CHECK(!url->host.empty() && !has_upper(url->host));
    HFM_FUZZ_CHECK(url->port >= 1 && url->port <= 65535);
    HFM_FUZZ_CHECK(url->path_and_query.starts_with('/') && url->path_and_query.find('#') == std::string::npos);
    // The string handed to libcurl names the same origin the checks saw.
    const auto again = http::parse_url(url->str());
    HFM_FUZZ_CHECK(again.has_value());
    HFM_FUZZ_CHECK(same_url(*url, *again));
  } else {
    HFM_FUZZ_CHECK(url.error().code == ErrorCode::kUsage);
  }

  // A Location without a scheme or authority stays on the origin that sent
  // it: the Hub token may follow it there.
  const http::Url base = *http::parse_url("https://huggingface.co/api/models/acme/tiny/tree/main?recursive=true");
  const auto to = http::resolve_location(base, input);
  if (input.starts_with('/') && !input.starts_with("//")) {
    HFM_FUZZ_CHECK(to.has_value());
    HFM_FUZZ_CHECK(http::same_origin(base, *to) && to->path_and_query == input);
  }
  if (to) {
    HFM_FUZZ_CHECK(to->path_and_query.starts_with('/'));
    const auto reparsed = http::parse_url(to->str());
    HFM_FUZZ_CHECK(reparsed.has_value() && http::same_origin(*reparsed, *to));
  }

  HFM_FUZZ_CHECK(http::percent_decode(http::quote(input)) == input);
  HFM_FUZZ_CHECK(http::percent_decode(http::quote(input, "")) == input);

  // Retry-After on the first line, RateLimit on the second.
  const auto [retry_after, ratelimit] = split_once(input, '\n');
  for (const int status : {429, 503}) {
    http::Response response;
    response.status = status;
    if (!retry_after.empty()) response.headers.add("Retry-After", retry_after);
    if (!ratelimit.empty()) response.headers.add("RateLimit", ratelimit);
    const auto server_delay = http::server_requested_delay(response, fixed_now());
    if (!server_delay) continue;
    HFM_FUZZ_CHECK(server_delay->count() >= 0);
    // Never sooner than asked, never later than the cap (plus jitter).
    const http::RetrySettings settings;
    std::mt19937_64 rng(1);
    const auto delay = http::backoff_delay(settings, 3, server_delay, rng);
    const std::chrono::milliseconds cap = settings.max_server_delay;
    HFM_FUZZ_CHECK(delay >= std::min(*server_delay, cap) && delay <= cap + settings.base_delay);
  }
}

// --- fuzz_glob: --include / --exclude patterns (src/hub/glob.h), checked
// against a plain matcher where that is easy (ASCII, no "[…]" sets).
inline bool simple_fnmatch(std::string_view pattern, std::string_view name) {
  // matched[j]: pattern[0, i) matches name[0, j).
  std::vector<char> matched(name.size() + 1, 0);
  matched[0] = 1;
  for (const char p : pattern) {
    std::vector<char> next(name.size() + 1, 0);
    for (size_t j = 0; j <= name.size(); ++j) {
      if (p == '*') {
        next[j] = static_cast<char>(matched[j] || (j > 0 && next[j - 1]));
      } else if (j > 0) {
        next[j] = static_cast<char>(matched[j - 1] && (p == '?' || p == name[j - 1]));
      }
    }
    matched = std::move(next);
  }
  return matched[name.size()] != 0;
}

inline bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

inline void check_glob(std::string_view input) {
  // The pattern on the first line, the name after it.
  const auto [pattern, name] = split_once(input, '\n');
  const bool matched = hub::fnmatch_case(pattern, name);
  (void)hub::fnmatch_case(name, pattern);

  if (pattern.find('[') == std::string_view::npos && is_ascii(pattern) && is_ascii(name) &&
      pattern.size() * name.size() <= 4096) {
    HFM_FUZZ_CHECK(matched == simple_fnmatch(pattern, name));
  }
  HFM_FUZZ_CHECK(hub::fnmatch_case("*", name));
  // Every name matches itself with its wildcards put in sets ("[*]"), and
  // nothing else of another length.
  std::string escaped;
  for (const char c : name) {
    if (c == '*' || c == '?' || c == '[') {
      escaped += '[';
      escaped += c;
      escaped += ']';
    } else {
      escaped += c;
    }
  }
  HFM_FUZZ_CHECK(hub::fnmatch_case(escaped, name));
  HFM_FUZZ_CHECK(!hub::fnmatch_case(escaped, std::string(name) + "x"));

  // The filter applies the same matching (its rewrites aside).
  const bool plain = pattern.find('\\') == std::string_view::npos && !pattern.ends_with('/') &&
                     name.find('\\') == std::string_view::npos;
  const hub::PathFilter include({std::string(pattern)}, {});
  const hub::PathFilter exclude({}, {std::string(pattern)});
  if (plain) {
    HFM_FUZZ_CHECK(include.keep(name) == matched);
    HFM_FUZZ_CHECK(exclude.keep(name) == !matched);
  }
}

// --- fuzz_names: repo ids (src/core/repo_id.h), repo paths
// (src/store/path_safety.h) and byte sizes (src/core/units.h).
inline void check_names(std::string_view input) {
  if (validate_repo_id(input)) {
    HFM_FUZZ_CHECK(std::count(input.begin(), input.end(), '/') <= 1 && input.size() <= 96 * 2 + 1);
    HFM_FUZZ_CHECK(input.find("..") == input.npos && input.find("--") == input.npos);
    HFM_FUZZ_CHECK(input.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/") ==
                   input.npos);
  } else {
    HFM_FUZZ_CHECK(validate_repo_id(input).error().code == ErrorCode::kUsage);
    HFM_FUZZ_CHECK(!has_control(validate_repo_id(input).error().message));
  }

  if (const auto path = store::validate_repo_path(input)) {
    // A path that may become a file name stays below the destination.
    HFM_FUZZ_CHECK(*path == input);
    HFM_FUZZ_CHECK(!has_dot_segment(input) && !has_control(input));
    HFM_FUZZ_CHECK(input.size() <= 4096 && !input.starts_with('/') && !input.ends_with('/'));
    HFM_FUZZ_CHECK(input.find("//") == input.npos && input.find('\\') == input.npos);
    const bool letter = (input[0] >= 'a' && input[0] <= 'z') || (input[0] >= 'A' && input[0] <= 'Z');
    HFM_FUZZ_CHECK(!(input.size() >= 2 && input[1] == ':' && letter));  // no Windows drive
    const std::string_view top = input.substr(0, input.find('/'));
    std::string top_lower(top);
    for (char& c : top_lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    HFM_FUZZ_CHECK(top_lower != ".hfmirror");
  } else {
    HFM_FUZZ_CHECK(path.error().code == ErrorCode::kUnsafePath && !has_control(path.error().message));
  }
  HFM_FUZZ_CHECK(!has_control(store::printable(input)));

  if (const auto bytes = parse_byte_size(input)) {
    HFM_FUZZ_CHECK(parse_byte_size(std::to_string(*bytes)).has_value());
    HFM_FUZZ_CHECK(*parse_byte_size(std::to_string(*bytes)) == *bytes);
    if (*bytes % 1024 == 0) HFM_FUZZ_CHECK(*parse_byte_size(std::to_string(*bytes / 1024) + "KiB") == *bytes);
    HFM_FUZZ_CHECK(!format_bytes(*bytes).empty());
  } else {
    HFM_FUZZ_CHECK(bytes.error().code == ErrorCode::kUsage);
  }
}

// --- fuzz_aws: ~/.aws/config and ~/.aws/credentials (src/auth/aws_credentials.h)
// and the times AWS hands out: Date / x-amz-date, expirations (src/auth/sigv4.h).
inline bool trimmed(std::string_view s) {
  constexpr std::string_view kBlank = " \t\r\n\v\f";
  return s.empty() || (kBlank.find(s.front()) == kBlank.npos && kBlank.find(s.back()) == kBlank.npos);
}

inline void check_aws(std::string_view input) {
  const int lines = static_cast<int>(std::count(input.begin(), input.end(), '\n')) + 1;
  for (const auto kind : {auth::AwsFileKind::kCredentials, auth::AwsFileKind::kConfig}) {
    const auto file = auth::parse_aws_ini(input, "fuzz/aws", kind);
    if (!file) {
      HFM_FUZZ_CHECK(file.error().code == ErrorCode::kConfig && file.error().message.starts_with("fuzz/aws:"));
      continue;
    }
    for (const auth::AwsIniSection& section : file->sections) {
      HFM_FUZZ_CHECK(!section.name.empty() && trimmed(section.name));
      HFM_FUZZ_CHECK(section.line >= 1 && section.line <= lines);
      HFM_FUZZ_CHECK(kind == auth::AwsFileKind::kConfig || section.kind == auth::AwsIniSection::Kind::kProfile);
      HFM_FUZZ_CHECK(file->find(section.kind, section.name) == &section);  // repeated sections are merged
      for (const auto& [key, property] : section.properties) {
        HFM_FUZZ_CHECK(!key.empty() && !has_upper(key) && trimmed(key));
        HFM_FUZZ_CHECK(trimmed(property.value));
        HFM_FUZZ_CHECK(property.line >= section.line && property.line <= lines);
        HFM_FUZZ_CHECK(section.get(key) == &property);
      }
    }
  }

  // Every time that parses prints as x-amz-date, which reads back the same.
  const auto time = auth::parse_aws_time(input);
  if (time) {
    const std::string amz_date = auth::format_amz_date(*time);
    const auto again = auth::parse_aws_time(amz_date);
    HFM_FUZZ_CHECK(again.has_value());
    HFM_FUZZ_CHECK(*again == std::chrono::floor<std::chrono::seconds>(*time));
  }
  const std::chrono::seconds skew = auth::clock_skew_from_date_header(input, fixed_now());
  if (!time) HFM_FUZZ_CHECK(skew.count() == 0);
}

// Every family by its fuzz target's name (the folder names under corpus/ and regressions/).
struct Target {
  std::string_view name;
  void (*check)(std::string_view input);
};

inline constexpr Target kTargets[] = {
    {"fuzz_hub_wire", &check_hub_wire}, {"fuzz_s3_xml", &check_s3_xml}, {"fuzz_models_config", &check_models_config},
    {"fuzz_manifest", &check_manifest}, {"fuzz_http", &check_http},     {"fuzz_glob", &check_glob},
    {"fuzz_names", &check_names},       {"fuzz_aws", &check_aws},
};

}  // namespace hfm::fuzz
