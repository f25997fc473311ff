// The `--config models.yaml` file: which repos to mirror, where to. Accepts
//   - a YAML list of entries;
//   - a mapping with `models:` (a list) and optional `defaults:` (entry fields
//     applied to every entry that does not set them; `defaults.to` is a root
//     under which each entry gets `<root>/<name>`);
//   - a Helm values file with `huggingfaceModels:` (the original design's
//     list) and optional `global:` (accountId, region, clusterName fill
//     entries; resourcePrefix + accountId give the bucket
//     `<resourcePrefix>-ray-models-<accountId>`, as that chart did). Other
//     top-level keys of a values file belong to other charts and are ignored.
// Everything is checked before anything runs; the first problem is returned as
// one ErrorCode::kConfig error naming the file, line, entry, field and reason.
// Entries must write to places apart: not the same folder or S3 prefix, and
// not one inside another's (an hf-cache entry owns only its repo's folder of
// the cache root, so many repos can share one cache).
// Empty strings and nulls mean "not set" (the original values list used "").
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace hfm::config {

struct ModelEntry {
  std::string name;                  // [a-z0-9][a-z0-9._-]*, unique in the file
  std::string repo_id;               // `modelId` (or `repoId`), e.g. "acme/tiny"
  std::string repo_type = "model";   // `repoType`: "model" | "dataset"
  std::string revision = "main";     // branch, tag or commit
  std::vector<std::string> include;  // huggingface_hub allow patterns
  std::vector<std::string> exclude;  // huggingface_hub ignore patterns
  // Resolved destination, a local path or s3://bucket/prefix: `to` if given;
  // else s3://<s3_bucket>/<prefix>; else <root>/<name> for a --to root or
  // `defaults.to`.
  std::string destination;
  std::string layout = "plain";  // "plain" | "hf-cache" (local destinations only)
  std::string s3_bucket;         // `s3Bucket`
  std::string prefix;            // key prefix in s3_bucket, default "models/<name>"
  std::string region;
  // Fields of the original values list that the Kubernetes side uses; sync
  // carries them as given.
  std::string k8s_namespace;    // `namespace`
  std::string service_account;  // `serviceAccount`
  std::string account_id;       // `accountId`
  std::string cluster_name;     // `clusterName`
};

struct ModelsConfig {
  std::vector<ModelEntry> models;  // in file order
};

// `source_name` names the text in messages (usually the file path). `to_root`
// is the --to flag, if any: it overrides `defaults.to` as the root for entries
// that have neither `to` nor `s3Bucket`.
Result<ModelsConfig> parse_models_config(std::string_view yaml_text, std::string_view source_name,
                                         std::string_view to_root = {});
Result<ModelsConfig> load_models_config(const std::filesystem::path& path, std::string_view to_root = {});

}  // namespace hfm::config
