#include "hub/wire.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "core/hash.h"

namespace hfm::hub {
namespace {

using Json = nlohmann::json;

bool is_ows(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

std::string lowercase(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Server-provided text for a one-line message: control characters become
// spaces and long text is cut (at a UTF-8 boundary).
std::string one_line(std::string_view text, size_t max_bytes = 300) {
  std::string out;
  for (char c : trim(text)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  if (out.size() > max_bytes) {
    size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    out += "...";
  }
  return out;
}

Result<Json> parse_json(std::string_view text, std::string_view what) {
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    return unexpected(ErrorCode::kProtocol, fmt::format("{} is not valid JSON (error at byte {})", what, e.byte));
  } catch (const Json::exception&) {  // out_of_range, not parse_error, for a number beyond double ("1e999")
    return unexpected(ErrorCode::kProtocol, fmt::format("{} is not valid JSON (a number is out of range)", what));
  }
}

// Reads an optional lowercase-able hex id of `length`; absent or null is nullopt.
Result<std::optional<std::string>> optional_hex(const Json& object, const char* key, size_t length,
                                                std::string_view where) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::optional<std::string>();
  std::string value = it->is_string() ? lowercase(it->get<std::string>()) : std::string();
  if (!is_hex_id(value, length)) {
    return unexpected(ErrorCode::kProtocol, fmt::format("{}: \"{}\" is not {} hex digits", where, key, length));
  }
  return std::optional<std::string>(std::move(value));
}

Result<TreeEntry> parse_tree_entry(const Json& item, size_t index) {
  auto bad = [index](std::string_view why) {
    return unexpected(ErrorCode::kProtocol, fmt::format("tree listing entry {}: {}", index, why));
  };
  if (!item.is_object()) return bad("not an object");
  const auto path = item.find("path");
  if (path == item.end() || !path->is_string() || path->get_ref<const std::string&>().empty()) {
    return bad("\"path\" must be a non-empty string");
  }
  TreeEntry entry;
  entry.path = path->get<std::string>();
  const std::string where = fmt::format("tree listing entry \"{}\"", one_line(entry.path, 200));

  const auto type = item.find("type");
  if (type == item.end() || !type->is_string()) return bad("\"type\" must be a string");
  if (*type == "directory") {
    entry.is_file = false;
    if (const auto oid = item.find("oid"); oid != item.end() && oid->is_string()) entry.oid = oid->get<std::string>();
    return entry;
  }
  if (*type != "file") return bad(fmt::format("unknown \"type\" \"{}\"", one_line(type->get<std::string>(), 40)));

  HFM_ASSIGN_OR_RETURN(const std::optional<std::string> oid, optional_hex(item, "oid", 40, where));
  if (!oid) return unexpected(ErrorCode::kProtocol, where + ": a file needs a 40-hex \"oid\"");
  entry.oid = *oid;
  const auto size = item.find("size");
  if (size == item.end() || !size->is_number_unsigned()) {
    return unexpected(ErrorCode::kProtocol, where + ": \"size\" must be a non-negative integer");
  }
  entry.size_bytes = size->get<uint64_t>();

  if (const auto lfs = item.find("lfs"); lfs != item.end() && !lfs->is_null()) {
    if (!lfs->is_object()) return unexpected(ErrorCode::kProtocol, where + ": \"lfs\" must be an object");
    HFM_ASSIGN_OR_RETURN(entry.lfs_sha256, optional_hex(*lfs, "oid", 64, where + " lfs"));
    if (!entry.lfs_sha256) return unexpected(ErrorCode::kProtocol, where + ": lfs needs a 64-hex \"oid\"");
    // A mismatch means the listing contradicts itself; neither size can be trusted.
    if (const auto lfs_size = lfs->find("size");
        lfs_size != lfs->end() && !(lfs_size->is_number_unsigned() && lfs_size->get<uint64_t>() == entry.size_bytes)) {
      return unexpected(ErrorCode::kProtocol, where + ": lfs \"size\" differs from the entry's \"size\"");
    }
  }
  HFM_ASSIGN_OR_RETURN(entry.xet_hash, optional_hex(item, "xetHash", 64, where));
  return entry;
}

// Reads an RFC 8288 / RFC 9110 quoted-string at s[i] == '"'; advances i past it.
std::string read_quoted(std::string_view s, size_t& i) {
  std::string out;
  for (++i; i < s.size() && s[i] != '"'; ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) ++i;
    out += s[i];
  }
  if (i < s.size()) ++i;  // closing quote
  return out;
}

bool rel_has_next(std::string_view rel) {
  // rel may hold several space-separated relation types: rel="prev next".
  size_t start = 0;
  while (start < rel.size()) {
    size_t end = rel.find(' ', start);
    if (end == std::string_view::npos) end = rel.size();
    if (iequals(rel.substr(start, end - start), "next")) return true;
    start = end + 1;
  }
  return false;
}

std::optional<std::chrono::sys_seconds> parse_imf_fixdate(std::string_view s) {
  // "Sun, 06 Nov 1994 08:49:37 GMT"
  if (s.size() != 29 || s.substr(3, 2) != ", " || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || s[19] != ':' ||
      s[22] != ':' || s.substr(25) != " GMT") {
    return std::nullopt;
  }
  constexpr std::string_view kDays = "MonTueWedThuFriSatSun";
  constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  const size_t day_name = kDays.find(s.substr(0, 3));
  const size_t month = kMonths.find(s.substr(8, 3));
  if (day_name == std::string_view::npos || day_name % 3 != 0 || month == std::string_view::npos || month % 3 != 0) {
    return std::nullopt;
  }
  auto number = [s](size_t pos, size_t len) -> int {
    int value = 0;
    const auto [end, ec] = std::from_chars(s.data() + pos, s.data() + pos + len, value);
    return ec == std::errc() && end == s.data() + pos + len ? value : -1;
  };
  const int day = number(5, 2), year = number(12, 4), hour = number(17, 2), minute = number(20, 2),
            second = number(23, 2);
  using namespace std::chrono;
  const year_month_day ymd{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month / 3 + 1)),
                           std::chrono::day(static_cast<unsigned>(std::max(day, 0)))};
  if (!ymd.ok() || year < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) {
    return std::nullopt;
  }
  return sys_days(ymd) + hours(hour) + minutes(minute) + seconds(second);
}

// The server's explanation: X-Error-Message, else the JSON body's "error"
// (string or list), "error_description" or "errors"[].message, else a short
// plain-text body.
std::string server_message(std::string_view x_error_message, std::string_view body) {
  if (!trim(x_error_message).empty()) return one_line(x_error_message);
  const Json doc = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  std::vector<std::string> parts;
  if (doc.is_object()) {
    auto collect = [&parts](const Json& value) {
      if (value.is_string()) parts.push_back(value.get<std::string>());
    };
    if (const auto error = doc.find("error"); error != doc.end()) {
      collect(*error);
      if (error->is_array()) std::for_each(error->begin(), error->end(), collect);
    }
    if (const auto desc = doc.find("error_description"); desc != doc.end()) collect(*desc);
    if (const auto errors = doc.find("errors"); errors != doc.end() && errors->is_array()) {
      for (const Json& e : *errors) {
        if (e.is_object() && e.contains("message")) collect(e["message"]);
      }
    }
    std::string joined;
    for (const std::string& p : parts) joined += (joined.empty() ? "" : "; ") + p;
    return one_line(joined);
  }
  // Plain text such as "Entry not found"; not an HTML error page from a proxy.
  const std::string_view text = trim(body);
  if (doc.is_discarded() && !text.empty() && text.size() <= 200 && text.front() != '<') return one_line(text);
  return {};
}

}  // namespace

std::string_view api_plural(RepoType type) { return type == RepoType::kDataset ? "datasets" : "models"; }

std::string_view resolve_prefix(RepoType type) { return type == RepoType::kDataset ? "datasets/" : ""; }

Result<RepoType> parse_repo_type(std::string_view text) {
  if (text == "model" || text == "models") return RepoType::kModel;
  if (text == "dataset" || text == "datasets") return RepoType::kDataset;
  return unexpected(ErrorCode::kUsage,
                    fmt::format("unknown repo type \"{}\": use \"model\" or \"dataset\"", one_line(text, 40)));
}

Result<std::vector<TreeEntry>> parse_tree_page(std::string_view json) {
  HFM_ASSIGN_OR_RETURN(const Json doc, parse_json(json, "tree listing"));
  if (!doc.is_array()) return unexpected(ErrorCode::kProtocol, "tree listing is not a JSON array");
  std::vector<TreeEntry> entries;
  entries.reserve(doc.size());
  for (size_t i = 0; i < doc.size(); ++i) {
    HFM_ASSIGN_OR_RETURN(TreeEntry entry, parse_tree_entry(doc[i], i));
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::optional<FileFolderClash> find_file_folder_clash(const std::vector<TreeEntry>& entries) {
  std::unordered_set<std::string_view> files;
  for (const auto& e : entries) {
    if (e.is_file) files.insert(e.path);
  }
  for (const auto& e : entries) {
    if (!e.is_file && files.count(e.path) != 0) return FileFolderClash{e.path, e.path + "/"};
    // Every folder the entry lives in: "a/b/c" needs "a" and "a/b".
    for (size_t slash = e.path.find('/'); slash != std::string::npos; slash = e.path.find('/', slash + 1)) {
      const std::string_view folder = std::string_view(e.path).substr(0, slash);
      if (files.count(folder) != 0) return FileFolderClash{std::string(folder), e.path};
    }
  }
  return std::nullopt;
}

std::string quote_untrusted(std::string_view text, size_t max_bytes) {
  std::string out;
  for (size_t i = 0; i < text.size() && i < max_bytes; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else if (c == '\\' || c == '"') {
      out += '\\';
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > max_bytes) out += "...";
  return out;
}

std::optional<std::string> parse_link_next(std::string_view header) {
  size_t i = 0;
  while (i < header.size()) {
    while (i < header.size() && (is_ows(header[i]) || header[i] == ',')) ++i;
    if (i >= header.size() || header[i] != '<') {  // malformed link-value: skip it
      while (i < header.size() && header[i] != ',') ++i;
      continue;
    }
    const size_t close = header.find('>', i);
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view url = header.substr(i + 1, close - i - 1);
    i = close + 1;
    bool next = false;
    while (i < header.size() && header[i] != ',') {  // ; name[=value] parameters
      while (i < header.size() && (is_ows(header[i]) || header[i] == ';')) ++i;
      const size_t name_start = i;
      while (i < header.size() && header[i] != '=' && header[i] != ';' && header[i] != ',' && !is_ows(header[i])) ++i;
      const std::string_view name = header.substr(name_start, i - name_start);
      while (i < header.size() && is_ows(header[i])) ++i;
      std::string value;
      if (i < header.size() && header[i] == '=') {
        ++i;
        while (i < header.size() && is_ows(header[i])) ++i;
        if (i < header.size() && header[i] == '"') {
          value = read_quoted(header, i);
        } else {
          const size_t value_start = i;
          while (i < header.size() && header[i] != ';' && header[i] != ',' && !is_ows(header[i])) ++i;
          value = header.substr(value_start, i - value_start);
        }
      }
      if (iequals(name, "rel") && rel_has_next(value)) next = true;
      while (i < header.size() && is_ows(header[i])) ++i;
    }
    if (next && !url.empty()) return std::string(url);
  }
  return std::nullopt;
}

Result<std::string> parse_revision_sha(std::string_view json) {
  HFM_ASSIGN_OR_RETURN(const Json doc, parse_json(json, "revision info"));
  const auto sha = doc.is_object() ? doc.find("sha") : doc.end();
  std::string value = doc.is_object() && sha != doc.end() && sha->is_string() ? lowercase(sha->get<std::string>()) : "";
  if (!is_hex_id(value, 40)) {
    return unexpected(ErrorCode::kProtocol, "revision info has no 40-hex \"sha\": cannot pin the commit");
  }
  return value;
}

std::string normalize_etag(std::string_view etag) {
  std::string_view s = trim(etag);
  if (s.substr(0, 2) == "W/") s.remove_prefix(2);
  while (!s.empty() && s.front() == '"') s.remove_prefix(1);
  while (!s.empty() && s.back() == '"') s.remove_suffix(1);
  return std::string(s);
}

std::optional<RateLimit> parse_ratelimit(std::string_view header) {
  const std::string_view s = trim(header);
  if (s.empty()) return std::nullopt;
  RateLimit limit;
  size_t i = 0;
  if (s[0] == '"') {
    limit.bucket = read_quoted(s, i);
  } else {
    while (i < s.size() && s[i] != ';' && s[i] != ',') ++i;
    limit.bucket = trim(s.substr(0, i));
  }
  // Parameters of the first list member only: ;name=integer
  while (i < s.size() && s[i] != ',') {
    while (i < s.size() && (is_ows(s[i]) || s[i] == ';')) ++i;
    const size_t name_start = i;
    while (i < s.size() && s[i] != '=' && s[i] != ';' && s[i] != ',') ++i;
    const std::string_view name = trim(s.substr(name_start, i - name_start));
    if (i >= s.size() || s[i] != '=') continue;
    const size_t value_start = ++i;
    while (i < s.size() && s[i] != ';' && s[i] != ',') ++i;
    const std::string_view value = trim(s.substr(value_start, i - value_start));
    int64_t number = -1;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    const bool integer = ec == std::errc() && end == value.data() + value.size() && number >= 0;
    if ((name == "r" || name == "t") && !integer) return std::nullopt;
    if (name == "r") limit.remaining = number;
    if (name == "t") limit.reset_seconds = number;
  }
  if (limit.bucket.empty() && limit.remaining < 0 && limit.reset_seconds < 0) return std::nullopt;
  return limit;
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view header,
                                                      std::chrono::system_clock::time_point now) {
  const std::string_view s = trim(header);
  if (s.empty()) return std::nullopt;
  if (std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    int64_t delay = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), delay);
    if (ec != std::errc()) return std::nullopt;
    return std::chrono::seconds(delay);
  }
  const auto date = parse_imf_fixdate(s);
  if (!date) return std::nullopt;
  // In seconds (the same as rounding date - now up): years 0-9999 overflow nanoseconds.
  return std::max(*date - std::chrono::floor<std::chrono::seconds>(now), std::chrono::seconds(0));
}

Error map_hub_error(int status, std::string_view x_error_code, std::string_view x_error_message, std::string_view body,
                    std::string_view request_id, std::string_view what) {
  const std::string server = server_message(x_error_message, body);
  const std::string quoted = server.empty() ? "" : fmt::format(" (Hub: {})", server);
  auto make = [&](ErrorCode code, std::string message) {
    Error e = make_error(code, std::move(message));
    e.http_status = status;
    e.remote_code = one_line(x_error_code, 64);
    e.request_id = one_line(request_id, 128);
    return e;
  };
  const std::string_view code = trim(x_error_code);

  if (code == "RevisionNotFound") {
    return make(
        ErrorCode::kRevisionNotFound,
        fmt::format("{}: revision not found{}; check --revision: a branch, tag or commit of the repo", what, quoted));
  }
  if (code == "EntryNotFound") {
    return make(ErrorCode::kEntryNotFound, fmt::format("{}: file not found at this commit{}", what, quoted));
  }
  if (code == "GatedRepo") {
    return make(ErrorCode::kGated,
                status == 401
                    ? fmt::format("{} is gated and needs a token{}; accept its conditions on its Hub page, then "
                                  "pass a token of that account (--token / HF_TOKEN)",
                                  what, quoted)
                    : fmt::format("{} is gated and this token has no access yet{}; request access on its Hub page "
                                  "(or wait for approval), then retry",
                                  what, quoted));
  }
  if (server == "Access to this resource is disabled.") {
    return make(ErrorCode::kUnauthorized,
                fmt::format("{} has been disabled on the Hub and cannot be downloaded", what));
  }
  // The Hub answers 401 for a missing repo as for a private one (no way to
  // tell them apart without a token), so the message names both.
  if (code == "RepoNotFound" || (status == 401 && server != "Invalid credentials in Authorization header")) {
    return make(ErrorCode::kRepoNotFound,
                fmt::format("{} not found, or private and needs a token (--token / HF_TOKEN) with access to it{}", what,
                            quoted));
  }
  if (status == 401) {
    return make(
        ErrorCode::kUnauthorized,
        fmt::format("{}: the Hub rejected the token{}; check --token / HF_TOKEN (expired or revoked?)", what, quoted));
  }
  if (status == 403) {
    return make(ErrorCode::kUnauthorized,
                fmt::format("{}: access forbidden{}; check that the token may read this repo (fine-grained tokens "
                            "need it granted)",
                            what, quoted));
  }
  if (status == 429) {
    return make(ErrorCode::kRateLimited,
                fmt::format("{}: rate limited by the Hub{}; pass a token (--token / HF_TOKEN) for higher limits, "
                            "or lower the concurrency",
                            what, quoted));
  }
  if (status == 408 || status >= 500) {
    return make(ErrorCode::kHttpStatus,
                fmt::format("{}: the Hub had a temporary problem{}; retrying may help", what, quoted));
  }
  return make(ErrorCode::kHttpStatus, fmt::format("{}: unexpected answer from the Hub{}", what, quoted));
}

}  // namespace hfm::hub
