#include "config/models_config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <span>

#include "core/repo_id.h"

namespace hfm::config {
namespace {

enum class FieldKind { kString, kStringList };

struct FieldSpec {
  std::string_view key;
  FieldKind kind;
};

constexpr std::array<FieldSpec, 16> kEntryFields = {{
    {"name", FieldKind::kString},
    {"modelId", FieldKind::kString},
    {"repoId", FieldKind::kString},
    {"repoType", FieldKind::kString},
    {"revision", FieldKind::kString},
    {"include", FieldKind::kStringList},
    {"exclude", FieldKind::kStringList},
    {"to", FieldKind::kString},
    {"layout", FieldKind::kString},
    {"s3Bucket", FieldKind::kString},
    {"prefix", FieldKind::kString},
    {"region", FieldKind::kString},
    {"namespace", FieldKind::kString},
    {"serviceAccount", FieldKind::kString},
    {"accountId", FieldKind::kString},
    {"clusterName", FieldKind::kString},
}};
// Per-entry identity; meaningless as a default for every entry.
constexpr std::array<std::string_view, 3> kEntryOnlyFields = {"name", "modelId", "repoId"};
constexpr std::array<std::string_view, 2> kTopLevelKeys = {"models", "defaults"};
constexpr std::array<FieldSpec, 4> kGlobalFields = {{
    {"resourcePrefix", FieldKind::kString},
    {"accountId", FieldKind::kString},
    {"region", FieldKind::kString},
    {"clusterName", FieldKind::kString},
}};

// A set field: its value(s), where it was written, and in which block.
struct FieldValue {
  std::vector<std::string> values;  // exactly one for kString fields; any number for lists
  YAML::Mark mark;
  std::string origin;  // "entry 2 \"llama\"", "defaults", "global"

  const std::string& str() const { return values.front(); }
};
using Fields = std::map<std::string, FieldValue, std::less<>>;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// "did you mean "modelId"?" for a near miss, else the list of known names.
template <typename Names>
std::string unknown_field_hint(std::string_view key, const Names& known) {
  auto squash = [](std::string_view s) {
    std::string out = lower(s);
    std::erase_if(out, [](char c) { return c == '_' || c == '-'; });
    return out;
  };
  std::string_view best;
  size_t best_distance = 3;  // suggest only near misses: at most two edits
  for (std::string_view name : known) {
    const size_t distance = squash(name) == squash(key) ? 0 : edit_distance(lower(key), lower(name));
    if (distance < best_distance) best = name, best_distance = distance;
  }
  if (!best.empty()) return fmt::format("did you mean \"{}\"?", best);
  std::string list;
  for (std::string_view name : known) list += (list.empty() ? "" : ", ") + std::string(name);
  return "known fields: " + list;
}

class Parser {
 public:
  Parser(std::string_view source, std::string_view to_root) : source_(source), to_root_(to_root) {}

  Result<ModelsConfig> parse(std::string_view yaml_text);

 private:
  Unexpected fail(const YAML::Mark& mark, std::string_view context, std::string_view message) const {
    const std::string where = mark.is_null() ? std::string(source_) : fmt::format("{}:{}", source_, mark.line + 1);
    return unexpected(ErrorCode::kConfig, fmt::format("{}: {}: {}", where, context, message));
  }
  Unexpected fail_field(const FieldValue& v, std::string_view key, std::string_view message) const {
    return fail(v.mark, v.origin, fmt::format("field \"{}\": {}", key, message));
  }

  Result<std::optional<std::string>> read_string(const YAML::Node& node, const YAML::Mark& mark,
                                                 std::string_view context, std::string_view key) const;
  Result<Fields> read_fields(const YAML::Node& map, std::string_view context, std::span<const FieldSpec> specs,
                             bool ignore_unknown) const;
  Result<ModelEntry> make_entry(const YAML::Node& node, size_t number, const Fields& defaults,
                                const Fields& global) const;
  Result<std::string> normalise_destination(const FieldValue& v, std::string_view key) const;

  std::string_view source_;
  std::string_view to_root_;
};

// A YAML 1.2 core schema int or float, the forms
//   [-+]?[0-9]+ | 0o[0-7]+ | 0x[0-9a-fA-F]+ | [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
//   | [-+]?\.(inf|Inf|INF) | \.(nan|NaN|NAN)
// written out: std::regex matching recurses once per character, and a long
// scalar (a 200 kB number) overflowed the stack.
bool is_core_schema_number(std::string_view s) {
  auto all = [](std::string_view t, bool (*digit)(char)) {
    return !t.empty() && std::all_of(t.begin(), t.end(), digit);
  };
  auto decimal = [](char c) { return c >= '0' && c <= '9'; };
  auto count_decimal = [&decimal](std::string_view t) {
    return static_cast<size_t>(std::find_if_not(t.begin(), t.end(), decimal) - t.begin());
  };
  if (s.starts_with("0o")) return all(s.substr(2), [](char c) { return c >= '0' && c <= '7'; });
  if (s.starts_with("0x"))
    return all(s.substr(2), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return true;
  if (s.starts_with('+') || s.starts_with('-')) s.remove_prefix(1);
  if (s == ".inf" || s == ".Inf" || s == ".INF") return true;
  const size_t whole_digits = count_decimal(s);
  s.remove_prefix(whole_digits);
  size_t fraction_digits = 0;
  if (s.starts_with('.')) {
    s.remove_prefix(1);
    fraction_digits = count_decimal(s);
    s.remove_prefix(fraction_digits);
  }
  if (whole_digits + fraction_digits == 0) return false;
  if (s.starts_with('e') || s.starts_with('E')) {
    s.remove_prefix(1);
    if (s.starts_with('+') || s.starts_with('-')) s.remove_prefix(1);
    return all(s, decimal);
  }
  return s.empty();
}

// What a YAML reader makes of the node, when it is not a string.
std::string_view non_string_kind(const YAML::Node& node) {
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  if (node.IsNull()) return "null";
  const std::string& tag = node.Tag();
  if (tag == "!" || tag == "tag:yaml.org,2002:str") return {};  // quoted, block or explicit string
  if (tag != "?") return "a non-string value";                  // an explicit !!int, !!bool, …
  // Plain scalars are resolved by the YAML 1.2 core schema, as Helm and
  // Kubernetes would: "5" is a number there, "true" a boolean.
  const std::string& scalar = node.Scalar();
  constexpr std::array<std::string_view, 6> kBooleans = {"true", "True", "TRUE", "false", "False", "FALSE"};
  if (std::find(kBooleans.begin(), kBooleans.end(), scalar) != kBooleans.end()) return "a boolean";
  if (is_core_schema_number(scalar)) return "a number";
  return {};
}

Result<std::optional<std::string>> Parser::read_string(const YAML::Node& node, const YAML::Mark& mark,
                                                       std::string_view context, std::string_view key) const {
  if (node.IsNull()) return std::optional<std::string>();
  if (const std::string_view kind = non_string_kind(node); !kind.empty()) {
    const std::string quote_hint = node.IsScalar() ? fmt::format(" (quote it: \"{}\")", node.Scalar()) : "";
    return fail(mark, context, fmt::format("field \"{}\": must be a string, got {}{}", key, kind, quote_hint));
  }
  const std::string& value = node.Scalar();
  if (std::any_of(value.begin(), value.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    return fail(mark, context, fmt::format("field \"{}\": must be one line without control characters", key));
  }
  if (value.find("{{") != std::string::npos) {
    return fail(mark, context,
                fmt::format("field \"{}\": \"{}\" looks like an unrendered template; this file is read as plain "
                            "YAML, so write the actual value, or leave it empty for the default",
                            key, value));
  }
  if (value.empty()) return std::optional<std::string>();
  return std::optional<std::string>(value);
}

Result<Fields> Parser::read_fields(const YAML::Node& map, std::string_view context, std::span<const FieldSpec> specs,
                                   bool ignore_unknown) const {
  Fields fields;
  std::vector<std::string> seen;
  for (const auto& item : map) {
    const YAML::Mark mark = item.first.Mark();
    const std::string key = item.first.IsScalar() ? item.first.Scalar() : std::string();
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      return fail(mark, context, fmt::format("field \"{}\" is given twice", key));
    }
    seen.push_back(key);
    const auto spec = std::find_if(specs.begin(), specs.end(), [&key](const FieldSpec& s) { return s.key == key; });
    if (spec == specs.end()) {
      if (ignore_unknown) continue;
      std::vector<std::string_view> known;
      for (const FieldSpec& s : specs) known.push_back(s.key);
      return fail(mark, context, fmt::format("unknown field \"{}\" ({})", key, unknown_field_hint(key, known)));
    }
    FieldValue value{{}, mark, std::string(context)};
    const YAML::Node& node = item.second;
    if (spec->kind == FieldKind::kStringList && node.IsSequence()) {
      for (size_t i = 0; i < node.size(); ++i) {
        const std::string element = fmt::format("{}[{}]", key, i);
        HFM_ASSIGN_OR_RETURN(const std::optional<std::string> s,
                             read_string(node[i], node[i].Mark(), context, element));
        if (!s) return fail(node[i].Mark(), context, fmt::format("field \"{}\": must not be empty", element));
        value.values.push_back(*s);
      }
    } else if (spec->kind == FieldKind::kStringList && !node.IsNull() && !non_string_kind(node).empty()) {
      return fail(
          mark, context,
          fmt::format("field \"{}\": must be a string or a list of strings, got {}", key, non_string_kind(node)));
    } else {
      HFM_ASSIGN_OR_RETURN(std::optional<std::string> s, read_string(node, mark, context, key));
      if (s) value.values.push_back(std::move(*s));
    }
    // An explicit empty list ("exclude: []") is set: it overrides the defaults.
    if (!value.values.empty() || node.IsSequence()) fields.emplace(key, std::move(value));
  }
  return fields;
}

bool valid_name(std::string_view name) {
  auto ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  return !name.empty() && ok(name[0]) &&
         std::all_of(name.begin(), name.end(), [&ok](char c) { return ok(c) || c == '.' || c == '_' || c == '-'; });
}

// S3 bucket naming rules (general purpose buckets), "" when valid.
std::string bucket_problem(std::string_view bucket) {
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  const bool valid =
      bucket.size() >= 3 && bucket.size() <= 63 && alnum(bucket.front()) && alnum(bucket.back()) &&
      bucket.find("..") == std::string_view::npos &&
      std::all_of(bucket.begin(), bucket.end(), [&alnum](char c) { return alnum(c) || c == '.' || c == '-'; });
  if (valid) return {};
  return fmt::format("\"{}\" is not a valid S3 bucket name (3-63 characters: lowercase letters, digits, '.', '-')",
                     bucket);
}

// "a/b/" → "a/b"; "" when a segment is empty, "." or "..".
std::optional<std::string> clean_key_prefix(std::string_view prefix) {
  while (!prefix.empty() && prefix.front() == '/') prefix.remove_prefix(1);
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  std::string_view rest = prefix;
  while (!rest.empty()) {
    const size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    if (segment.empty() || segment == "." || segment == "..") return std::nullopt;
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  }
  return std::string(prefix);
}

// s3://bucket/prefix → checked and without trailing '/'; a local path → without trailing '/'.
Result<std::string> Parser::normalise_destination(const FieldValue& v, std::string_view key) const {
  std::string_view dest = v.str();
  if (dest.starts_with("s3://")) {
    const std::string_view rest = dest.substr(5);
    const size_t slash = rest.find('/');
    const std::string_view bucket = rest.substr(0, slash);
    if (const std::string problem = bucket_problem(bucket); !problem.empty()) return fail_field(v, key, problem);
    const auto prefix = clean_key_prefix(slash == std::string_view::npos ? "" : rest.substr(slash));
    if (!prefix) return fail_field(v, key, "the S3 key prefix has an empty, \".\" or \"..\" segment");
    return prefix->empty() ? fmt::format("s3://{}", bucket) : fmt::format("s3://{}/{}", bucket, *prefix);
  }
  if (dest.find("://") != std::string_view::npos) {
    return fail_field(v, key,
                      fmt::format("\"{}\": unsupported destination; use a local path or s3://bucket/prefix", dest));
  }
  while (dest.size() > 1 && dest.back() == '/') dest.remove_suffix(1);
  return std::string(dest);
}

// Where an entry writes, to tell entries apart: "s3://bucket/prefix" as given
// (already normalised), a local folder as an absolute, lexically normal path.
// In the hf-cache layout `to` is a cache root shared by many repos, so the
// entry owns only the repo's folder in it (huggingface_hub's
// "models--org--name", as store::hf_cache_repo_folder names it).
std::string destination_key(const ModelEntry& e) {
  if (e.destination.starts_with("s3://")) return e.destination;
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(e.destination, ec);
  if (ec) p = e.destination;
  std::string key = p.lexically_normal().string();
  while (key.size() > 1 && key.back() == '/') key.pop_back();
  if (e.layout == "hf-cache") {
    std::string folder = e.repo_type + "s--" + e.repo_id;
    for (size_t pos = 0; (pos = folder.find('/', pos)) != std::string::npos;) folder.replace(pos, 1, "--");
    key += (key == "/" ? "" : "/") + folder;
  }
  return key;
}

// True when `inner` is `outer` or below it, by whole segments ("/a" holds
// "/a/b", not "/ab").
bool holds(std::string_view outer, std::string_view inner) {
  if (!inner.starts_with(outer)) return false;
  return inner.size() == outer.size() || outer.back() == '/' || inner[outer.size()] == '/';
}

// Two entries must not write into the same place, nor one into the other's
// (an S3 run treats objects under its prefix that carry hfmirror's content id
// as its own leftovers and removes them; a local mirror's files would mix).
// "" when `e` and `other` (entry `other_number`) are apart.
std::string destination_clash(const ModelEntry& e, const ModelEntry& other, size_t other_number) {
  const std::string key = destination_key(e);
  const std::string other_key = destination_key(other);
  const std::string them = fmt::format("entry {} \"{}\"", other_number, other.name);
  if (key == other_key) {
    if (e.layout == "hf-cache" && other.layout == "hf-cache") {
      return fmt::format("{} {} is already mirrored into the hf-cache {} by {}; a cache holds each repo once",
                         e.repo_type, e.repo_id, e.destination, them);
    }
    return fmt::format("destination {} is also {}'s; each entry needs its own", e.destination, them);
  }
  if (holds(other_key, key)) {
    return fmt::format("destination {} is inside {}'s destination {}; each entry needs a folder of its own",
                       e.destination, them, other.destination);
  }
  if (holds(key, other_key)) {
    return fmt::format("destination {} contains {}'s destination {}; each entry needs a folder of its own",
                       e.destination, them, other.destination);
  }
  return {};
}

Result<ModelEntry> Parser::make_entry(const YAML::Node& node, size_t number, const Fields& defaults,
                                      const Fields& global) const {
  std::string context = fmt::format("entry {}", number);
  if (!node.IsMap()) {
    return fail(node.Mark(), context,
                fmt::format("expected a mapping with at least \"name\" and \"modelId\", got {}",
                            node.IsScalar() ? "a scalar" : non_string_kind(node)));
  }
  // Messages name the entry by its name too, once that name is known to be fit to print.
  if (const YAML::Node name = node["name"]; name && name.IsScalar() && valid_name(name.Scalar())) {
    context += fmt::format(" \"{}\"", name.Scalar());
  }
  HFM_ASSIGN_OR_RETURN(const Fields own, read_fields(node, context, kEntryFields, false));
  // The entry's own value, else the defaults' (which carry their own origin for messages).
  auto get = [&own, &defaults](std::string_view key) -> const FieldValue* {
    if (const auto it = own.find(key); it != own.end()) return &it->second;
    if (const auto it = defaults.find(key); it != defaults.end()) return &it->second;
    return nullptr;
  };
  auto missing = [&](std::string_view message) { return fail(node.Mark(), context, message); };

  ModelEntry e;
  const FieldValue* name = get("name");
  if (!name) return missing("field \"name\" is required");
  if (!valid_name(name->str())) {
    return fail_field(*name, "name", fmt::format("\"{}\" must match [a-z0-9][a-z0-9._-]*", name->str()));
  }
  e.name = name->str();

  const FieldValue* model_id = get("modelId");
  const FieldValue* repo_id = get("repoId");
  if (model_id && repo_id) return fail_field(*repo_id, "repoId", "give \"modelId\" or \"repoId\", not both");
  if (!model_id && !repo_id) return missing("field \"modelId\" is required (the Hub repo id, e.g. \"acme/tiny\")");
  const std::string_view id_key = model_id ? "modelId" : "repoId";
  const FieldValue& id = model_id ? *model_id : *repo_id;
  if (auto valid = validate_repo_id(id.str()); !valid) return fail_field(id, id_key, valid.error().message);
  e.repo_id = id.str();

  if (const FieldValue* v = get("repoType")) {
    if (v->str() != "model" && v->str() != "dataset") {
      return fail_field(*v, "repoType", fmt::format("\"{}\": use \"model\" or \"dataset\"", v->str()));
    }
    e.repo_type = v->str();
  }
  if (const FieldValue* v = get("revision")) {
    if (std::any_of(v->str().begin(), v->str().end(), [](char c) { return c == ' ' || c == '\t'; })) {
      return fail_field(*v, "revision", fmt::format("\"{}\" has a space; use a branch, tag or commit", v->str()));
    }
    e.revision = v->str();
  }
  if (const FieldValue* v = get("include")) e.include = v->values;
  if (const FieldValue* v = get("exclude")) e.exclude = v->values;
  if (const FieldValue* v = get("layout")) {
    if (v->str() != "plain" && v->str() != "hf-cache") {
      return fail_field(*v, "layout", fmt::format("\"{}\": use \"plain\" or \"hf-cache\"", v->str()));
    }
    e.layout = v->str();
  }
  // accountId, region and clusterName fall back to the values file's global block.
  auto get_or_global = [&](std::string_view key) -> const FieldValue* {
    const FieldValue* v = get(key);
    if (const auto it = global.find(key); !v && it != global.end()) v = &it->second;
    return v;
  };
  if (const FieldValue* v = get_or_global("region")) {
    if (!std::all_of(v->str().begin(), v->str().end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; })) {
      return fail_field(*v, "region", fmt::format("\"{}\" is not an AWS region name (like us-west-2)", v->str()));
    }
    e.region = v->str();
  }
  if (const FieldValue* v = get("namespace")) e.k8s_namespace = v->str();
  if (const FieldValue* v = get("serviceAccount")) e.service_account = v->str();
  if (const FieldValue* v = get_or_global("accountId")) e.account_id = v->str();
  if (const FieldValue* v = get_or_global("clusterName")) e.cluster_name = v->str();

  if (const FieldValue* v = get("s3Bucket")) {
    if (const std::string problem = bucket_problem(v->str()); !problem.empty())
      return fail_field(*v, "s3Bucket", problem);
    e.s3_bucket = v->str();
  } else if (const auto prefix = global.find("resourcePrefix"); prefix != global.end() && !e.account_id.empty()) {
    e.s3_bucket = fmt::format("{}-ray-models-{}", prefix->second.str(), e.account_id);
    if (const std::string problem = bucket_problem(e.s3_bucket); !problem.empty()) {
      return fail_field(prefix->second, "resourcePrefix", "the bucket it makes, " + problem);
    }
  }
  e.prefix = "models/" + e.name;
  if (const FieldValue* v = get("prefix")) {
    const auto clean = clean_key_prefix(v->str());
    if (!clean || clean->empty())
      return fail_field(*v, "prefix", "must not be empty or have empty, \".\" or \"..\" segments");
    e.prefix = *clean;
  }

  if (const auto to = own.find("to"); to != own.end()) {
    HFM_ASSIGN_OR_RETURN(e.destination, normalise_destination(to->second, "to"));
  } else if (!e.s3_bucket.empty()) {
    e.destination = fmt::format("s3://{}/{}", e.s3_bucket, e.prefix);
  } else if (!to_root_.empty()) {
    HFM_ASSIGN_OR_RETURN(const std::string root,
                         normalise_destination({{std::string(to_root_)}, YAML::Mark::null_mark(), "--to"}, "--to"));
    e.destination = fmt::format("{}/{}", root, e.name);
  } else if (const auto root_value = defaults.find("to"); root_value != defaults.end()) {
    HFM_ASSIGN_OR_RETURN(const std::string root, normalise_destination(root_value->second, "to"));
    e.destination = fmt::format("{}/{}", root, e.name);
  } else {
    return missing("no destination: set \"to\" or \"s3Bucket\" on the entry, \"to\" under defaults, or pass --to");
  }
  if (e.layout == "hf-cache" && e.destination.starts_with("s3://")) {
    const FieldValue* layout = get("layout");
    return fail_field(*layout, "layout", "\"hf-cache\" is for local destinations; S3 destinations are plain");
  }
  return e;
}

Result<ModelsConfig> Parser::parse(std::string_view yaml_text) {
  YAML::Node loaded;
  try {
    loaded = YAML::Load(std::string(yaml_text));
  } catch (const YAML::ParserException& e) {
    return unexpected(ErrorCode::kConfig, fmt::format("{}:{}:{}: YAML syntax error: {}", source_, e.mark.line + 1,
                                                      e.mark.column + 1, e.msg));
  }
  // Const from here on: yaml-cpp's non-const operator[] may insert keys.
  const YAML::Node root = loaded;
  const std::string shapes =
      "expected a list of entries, a mapping with \"models:\", or a Helm values file with \"huggingfaceModels:\"";
  YAML::Node entries;
  Fields defaults;
  Fields global;
  if (root.IsSequence()) {
    entries = root;
  } else if (root.IsMap() && root["huggingfaceModels"]) {
    if (root["models"])
      return fail(root.Mark(), "top level", "has both \"models\" and \"huggingfaceModels\"; keep one");
    entries = root["huggingfaceModels"];
    if (const YAML::Node g = root["global"]; g && !g.IsNull()) {
      if (!g.IsMap()) return fail(g.Mark(), "global", "must be a mapping");
      HFM_ASSIGN_OR_RETURN(global, read_fields(g, "global", kGlobalFields, /*ignore_unknown=*/true));
    }
  } else if (root.IsMap() && root["models"]) {
    for (const auto& item : root) {
      const std::string key = item.first.Scalar();
      if (key != "models" && key != "defaults") {
        return fail(item.first.Mark(), "top level",
                    fmt::format("unknown field \"{}\" ({})", key, unknown_field_hint(key, kTopLevelKeys)));
      }
    }
    if (const YAML::Node d = root["defaults"]; d && !d.IsNull()) {
      if (!d.IsMap()) return fail(d.Mark(), "defaults", "must be a mapping of entry fields");
      for (const auto& item : d) {
        const std::string key = item.first.Scalar();
        if (std::find(kEntryOnlyFields.begin(), kEntryOnlyFields.end(), key) != kEntryOnlyFields.end()) {
          return fail(item.first.Mark(), "defaults", fmt::format("field \"{}\" belongs on each entry", key));
        }
      }
      HFM_ASSIGN_OR_RETURN(defaults, read_fields(d, "defaults", kEntryFields, false));
    }
    entries = root["models"];
  } else if (root.IsMap()) {
    constexpr std::array<std::string_view, 2> known = {"models", "huggingfaceModels"};
    for (const auto& item : root) {
      const std::string key = item.first.Scalar();
      const std::string hint = unknown_field_hint(key, known);
      if (hint.starts_with("did you mean")) {
        return fail(item.first.Mark(), "top level", fmt::format("{}; unknown field \"{}\" ({})", shapes, key, hint));
      }
    }
    return fail(root.Mark(), "top level", shapes);
  } else {
    return fail(root.Mark(), "top level", root.IsNull() ? "the file is empty; " + shapes : shapes);
  }

  if (!entries.IsNull() && !entries.IsSequence()) return fail(entries.Mark(), "models", "must be a list of entries");
  if (entries.IsNull() || entries.size() == 0)
    return fail(entries.Mark(), "models", "the list is empty; nothing to mirror");

  ModelsConfig config;
  for (size_t i = 0; i < entries.size(); ++i) {
    HFM_ASSIGN_OR_RETURN(ModelEntry entry, make_entry(entries[i], i + 1, defaults, global));
    for (size_t j = 0; j < config.models.size(); ++j) {
      const ModelEntry& other = config.models[j];
      if (other.name == entry.name) {
        return fail(entries[i].Mark(), fmt::format("entry {} \"{}\"", i + 1, entry.name),
                    fmt::format("name \"{}\" is already used by entry {}; names must be unique", entry.name, j + 1));
      }
      if (const std::string clash = destination_clash(entry, other, j + 1); !clash.empty()) {
        return fail(entries[i].Mark(), fmt::format("entry {} \"{}\"", i + 1, entry.name), clash);
      }
    }
    config.models.push_back(std::move(entry));
  }
  return config;
}

}  // namespace

Result<ModelsConfig> parse_models_config(std::string_view yaml_text, std::string_view source_name,
                                         std::string_view to_root) {
  try {
    return Parser(source_name, to_root).parse(yaml_text);
  } catch (const YAML::Exception& e) {  // not expected: every node access is checked first
    return unexpected(ErrorCode::kConfig, fmt::format("{}: cannot read YAML: {}", source_name, e.what()));
  }
}

Result<ModelsConfig> load_models_config(const std::filesystem::path& path, std::string_view to_root) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return unexpected(ErrorCode::kConfig, fmt::format("config file {} is a directory", path.string()));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return unexpected(ErrorCode::kConfig, fmt::format("cannot read config file {}: {}", path.string(),
                                                      std::error_code(errno, std::generic_category()).message()));
  }
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) return unexpected(ErrorCode::kConfig, fmt::format("cannot read config file {}", path.string()));
  return parse_models_config(text, path.string(), to_root);
}

}  // namespace hfm::config
