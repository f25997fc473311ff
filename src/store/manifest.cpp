#include "store/manifest.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/repo_id.h"
#include "store/path_safety.h"

namespace hfm::store {
namespace {

constexpr std::string_view kFormat = "hfmirror-manifest";
constexpr int kFormatVersion = 1;
constexpr std::string_view kTool = "hfmirror";

std::string_view hash_name(ContentIdKind kind) { return kind == ContentIdKind::kSha256 ? "sha256" : "git-sha1"; }

Unexpected bad_manifest(std::string_view why) {
  return unexpected(ErrorCode::kProtocol, fmt::format("invalid manifest: {}", why));
}

Result<std::string> get_string(const nlohmann::json& object, const char* key, std::string_view where) {
  const auto it = object.find(key);
  if (it == object.end()) return bad_manifest(fmt::format("{}\"{}\" is missing", where, key));
  if (!it->is_string()) return bad_manifest(fmt::format("{}\"{}\" must be a string", where, key));
  return it->get<std::string>();
}

Result<uint64_t> get_count(const nlohmann::json& object, const char* key, std::string_view where) {
  const auto it = object.find(key);
  if (it == object.end()) return bad_manifest(fmt::format("{}\"{}\" is missing", where, key));
  if (!it->is_number_unsigned()) {
    return bad_manifest(fmt::format("{}\"{}\" must be a non-negative integer", where, key));
  }
  return it->get<uint64_t>();
}

// An absent key is an empty list.
Result<std::vector<std::string>> get_patterns(const nlohmann::json& object, const char* key) {
  std::vector<std::string> patterns;
  const auto it = object.find(key);
  if (it == object.end()) return patterns;
  if (!it->is_array()) return bad_manifest(fmt::format("\"{}\" must be an array of strings", key));
  for (const auto& p : *it) {
    if (!p.is_string()) return bad_manifest(fmt::format("\"{}\" must be an array of strings", key));
    patterns.push_back(p.get<std::string>());
  }
  return patterns;
}

Result<ManifestFile> parse_file(const nlohmann::json& entry, size_t index) {
  if (!entry.is_object()) return bad_manifest(fmt::format("files[{}] must be an object", index));
  const std::string where = fmt::format("files[{}]: ", index);
  ManifestFile file;
  HFM_ASSIGN_OR_RETURN(const std::string path, get_string(entry, "path", where));
  auto safe = validate_repo_path(path);
  if (!safe) return bad_manifest(where + safe.error().message);
  file.path = std::move(safe).value();
  const std::string at = fmt::format("file \"{}\": ", printable(file.path));
  HFM_ASSIGN_OR_RETURN(file.size_bytes, get_count(entry, "size", at));
  HFM_ASSIGN_OR_RETURN(const std::string hash, get_string(entry, "hash", at));
  if (hash == "sha256") {
    file.id_kind = ContentIdKind::kSha256;
  } else if (hash == "git-sha1") {
    file.id_kind = ContentIdKind::kGitSha1;
  } else {
    return bad_manifest(fmt::format("{}\"hash\" must be \"sha256\" or \"git-sha1\"", at));
  }
  HFM_ASSIGN_OR_RETURN(file.content_id, get_string(entry, "content_id", at));
  const size_t id_length = file.id_kind == ContentIdKind::kSha256 ? 64 : 40;
  if (!is_hex_id(file.content_id, id_length)) {
    return bad_manifest(fmt::format("{}\"content_id\" must be {} lowercase hex digits for {}", at, id_length, hash));
  }
  HFM_ASSIGN_OR_RETURN(file.git_oid, get_string(entry, "git_oid", at));
  if (!is_hex_id(file.git_oid, 40)) return bad_manifest(at + "\"git_oid\" must be 40 lowercase hex digits");
  return file;
}

Result<Manifest> parse_manifest(const nlohmann::json& doc) {
  if (!doc.is_object()) return bad_manifest("expected a JSON object");
  HFM_ASSIGN_OR_RETURN(const std::string format, get_string(doc, "format", ""));
  if (format != kFormat) return bad_manifest(fmt::format("\"format\" is not \"{}\"", kFormat));
  HFM_ASSIGN_OR_RETURN(const uint64_t version, get_count(doc, "format_version", ""));
  if (version != kFormatVersion) {
    return bad_manifest(fmt::format("format_version {} is not supported (this hfmirror reads {}); upgrade hfmirror",
                                    version, kFormatVersion));
  }
  HFM_ASSIGN_OR_RETURN(const std::string tool, get_string(doc, "tool", ""));
  if (tool != kTool) return bad_manifest(fmt::format("\"tool\" is not \"{}\"", kTool));

  Manifest m;
  HFM_ASSIGN_OR_RETURN(m.repo_id, get_string(doc, "repo_id", ""));
  if (auto valid = validate_repo_id(m.repo_id); !valid) return bad_manifest(valid.error().message);
  HFM_ASSIGN_OR_RETURN(m.repo_type, get_string(doc, "repo_type", ""));
  if (m.repo_type != "model" && m.repo_type != "dataset") {
    return bad_manifest("\"repo_type\" must be \"model\" or \"dataset\"");
  }
  HFM_ASSIGN_OR_RETURN(m.revision, get_string(doc, "revision", ""));
  if (m.revision.empty()) return bad_manifest("\"revision\" is empty");
  HFM_ASSIGN_OR_RETURN(m.commit, get_string(doc, "commit", ""));
  if (!is_hex_id(m.commit, 40)) return bad_manifest("\"commit\" must be 40 lowercase hex digits");
  HFM_ASSIGN_OR_RETURN(m.layout, get_string(doc, "layout", ""));
  if (m.layout != "plain" && m.layout != "hf-cache")
    return bad_manifest("\"layout\" must be \"plain\" or \"hf-cache\"");
  HFM_ASSIGN_OR_RETURN(m.include, get_patterns(doc, "include"));
  HFM_ASSIGN_OR_RETURN(m.exclude, get_patterns(doc, "exclude"));
  HFM_ASSIGN_OR_RETURN(m.tool_version, get_string(doc, "tool_version", ""));
  HFM_ASSIGN_OR_RETURN(m.created_at, get_string(doc, "created_at", ""));

  const auto files = doc.find("files");
  if (files == doc.end() || !files->is_array()) return bad_manifest("\"files\" must be an array");
  m.files.reserve(files->size());
  uint64_t total = 0;
  for (size_t i = 0; i < files->size(); ++i) {
    HFM_ASSIGN_OR_RETURN(ManifestFile file, parse_file((*files)[i], i));
    if (file.size_bytes > std::numeric_limits<uint64_t>::max() - total) return bad_manifest("sizes overflow");
    total += file.size_bytes;
    m.files.push_back(std::move(file));
  }
  std::sort(m.files.begin(), m.files.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  const auto duplicate =
      std::adjacent_find(m.files.begin(), m.files.end(), [](const auto& a, const auto& b) { return a.path == b.path; });
  if (duplicate != m.files.end()) {
    return bad_manifest(fmt::format("file \"{}\" is listed twice", printable(duplicate->path)));
  }
  HFM_ASSIGN_OR_RETURN(const uint64_t file_count, get_count(doc, "file_count", ""));
  if (file_count != m.files.size()) {
    return bad_manifest(fmt::format("\"file_count\" is {} but {} files are listed", file_count, m.files.size()));
  }
  HFM_ASSIGN_OR_RETURN(const uint64_t total_bytes, get_count(doc, "total_bytes", ""));
  if (total_bytes != total) {
    return bad_manifest(fmt::format("\"total_bytes\" is {} but the files add up to {}", total_bytes, total));
  }
  return m;
}

}  // namespace

uint64_t Manifest::total_bytes() const {
  uint64_t total = 0;
  for (const ManifestFile& f : files) total += f.size_bytes;
  return total;
}

const ManifestFile* Manifest::find(std::string_view path) const {
  const auto it = std::lower_bound(files.begin(), files.end(), path,
                                   [](const ManifestFile& f, std::string_view p) { return f.path < p; });
  return it != files.end() && it->path == path ? &*it : nullptr;
}

std::string manifest_to_json(const Manifest& manifest) {
  std::vector<const ManifestFile*> sorted;
  sorted.reserve(manifest.files.size());
  for (const ManifestFile& f : manifest.files) sorted.push_back(&f);
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->path < b->path; });

  // ordered_json keeps insertion order, which is the documented key order.
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (const ManifestFile* f : sorted) {
    files.push_back({{"path", f->path},
                     {"size", f->size_bytes},
                     {"hash", hash_name(f->id_kind)},
                     {"content_id", f->content_id},
                     {"git_oid", f->git_oid}});
  }
  const nlohmann::ordered_json doc = {
      {"format", kFormat},
      {"format_version", kFormatVersion},
      {"repo_id", manifest.repo_id},
      {"repo_type", manifest.repo_type},
      {"revision", manifest.revision},
      {"commit", manifest.commit},
      {"layout", manifest.layout},
      {"include", manifest.include},
      {"exclude", manifest.exclude},
      {"tool", kTool},
      {"tool_version", manifest.tool_version},
      {"created_at", manifest.created_at},
      {"file_count", manifest.files.size()},
      {"total_bytes", manifest.total_bytes()},
      {"files", std::move(files)},
  };
  // Replace invalid UTF-8 rather than throw: paths are validated on read anyway.
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

Result<Manifest> manifest_from_json(std::string_view text) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return bad_manifest(fmt::format("not valid JSON (error at byte {})", e.byte));
  } catch (const nlohmann::json::exception&) {  // out_of_range, not parse_error, for a number beyond double ("1e999")
    return bad_manifest("not valid JSON (a number is out of range)");
  }
  return parse_manifest(doc);
}

}  // namespace hfm::store
