#include "config/models_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace hfm::config {
namespace {

ModelsConfig parse_ok(std::string_view yaml, std::string_view to_root = {}) {
  auto r = parse_models_config(yaml, "models.yaml", to_root);
  EXPECT_TRUE(r.has_value()) << r.error().message;
  return r.has_value() ? std::move(r).value() : ModelsConfig{};
}

// The single error for `yaml`, which must be a kConfig naming models.yaml.
std::string parse_error(std::string_view yaml, std::string_view to_root = {}) {
  const auto r = parse_models_config(yaml, "models.yaml", to_root);
  if (r.has_value()) {
    ADD_FAILURE() << "accepted:\n" << yaml;
    return {};
  }
  EXPECT_EQ(r.error().code, ErrorCode::kConfig);
  EXPECT_EQ(r.error().message.rfind("models.yaml", 0), 0u) << r.error().message;
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos) << r.error().message;
  return r.error().message;
}

#define EXPECT_HAS(haystack, needle) EXPECT_NE((haystack).find(needle), std::string::npos) << (haystack)

TEST(ModelsConfig, PlainListWithAllFields) {
  const ModelsConfig c = parse_ok(R"(
- name: tiny
  modelId: acme/tiny
  to: /data/mirrors/tiny/
- name: corpus.v2
  repoId: acme/corpus
  repoType: dataset
  revision: v1.0
  include: "*.parquet"
  exclude: [README.md, "*.txt"]
  s3Bucket: my-bucket
  region: us-west-2
  namespace: ray-system
  serviceAccount: model-download-sa
  accountId: "123456789012"
  clusterName: hub
- name: cache
  modelId: gpt2
  layout: hf-cache
  to: ./hf
)");
  ASSERT_EQ(c.models.size(), 3u);
  const ModelEntry& tiny = c.models[0];
  EXPECT_EQ(tiny.name, "tiny");
  EXPECT_EQ(tiny.repo_id, "acme/tiny");
  EXPECT_EQ(tiny.repo_type, "model");
  EXPECT_EQ(tiny.revision, "main");
  EXPECT_TRUE(tiny.include.empty());
  EXPECT_TRUE(tiny.exclude.empty());
  EXPECT_EQ(tiny.destination, "/data/mirrors/tiny");
  EXPECT_EQ(tiny.layout, "plain");
  EXPECT_EQ(tiny.prefix, "models/tiny");

  const ModelEntry& corpus = c.models[1];
  EXPECT_EQ(corpus.repo_id, "acme/corpus");
  EXPECT_EQ(corpus.repo_type, "dataset");
  EXPECT_EQ(corpus.revision, "v1.0");
  EXPECT_EQ(corpus.include, std::vector<std::string>{"*.parquet"});
  EXPECT_EQ(corpus.exclude, (std::vector<std::string>{"README.md", "*.txt"}));
  EXPECT_EQ(corpus.s3_bucket, "my-bucket");
  EXPECT_EQ(corpus.destination, "s3://my-bucket/models/corpus.v2");
  EXPECT_EQ(corpus.region, "us-west-2");
  EXPECT_EQ(corpus.k8s_namespace, "ray-system");
  EXPECT_EQ(corpus.service_account, "model-download-sa");
  EXPECT_EQ(corpus.account_id, "123456789012");
  EXPECT_EQ(corpus.cluster_name, "hub");

  EXPECT_EQ(c.models[2].layout, "hf-cache");
  EXPECT_EQ(c.models[2].destination, "./hf");
}

TEST(ModelsConfig, DestinationRules) {
  const ModelsConfig c = parse_ok(R"(
- {name: a, modelId: o/a, to: "s3://bkt/x/y/", s3Bucket: ignored-bucket}
- {name: b, modelId: o/b, s3Bucket: bkt, prefix: /custom/path/}
- {name: c, modelId: o/c, to: "s3://bkt2"}
- {name: d, modelId: o/d, s3Bucket: bkt}
)");
  EXPECT_EQ(c.models[0].destination, "s3://bkt/x/y");  // `to` wins
  EXPECT_EQ(c.models[1].destination, "s3://bkt/custom/path");
  EXPECT_EQ(c.models[1].prefix, "custom/path");
  EXPECT_EQ(c.models[2].destination, "s3://bkt2");
  EXPECT_EQ(c.models[3].destination, "s3://bkt/models/d");
}

// A mirror that contains another would treat the other's files as its own
// leftovers; one hf-cache root holds many repos, each in its own folder.
TEST(ModelsConfig, NestedOrSameDestinationsAreRefused) {
  EXPECT_HAS(parse_error("- {name: a, modelId: o/a, to: \"s3://bkt\"}\n- {name: b, modelId: o/b, to: "
                         "\"s3://bkt/models/b\"}\n"),
             "\"b\"");
  EXPECT_FALSE(parse_error("- {name: a, modelId: o/a, to: /out/./a}\n- {name: b, modelId: o/b, to: /out/a}\n").empty());
  const ModelsConfig c = parse_ok(
      "- {name: a, modelId: o/a, to: /cache, layout: hf-cache}\n- {name: b, modelId: o/b, to: /cache, layout: "
      "hf-cache}\n");
  EXPECT_EQ(c.models.size(), 2u);
}

TEST(ModelsConfig, ModelsMappingWithDefaults) {
  constexpr std::string_view yaml = R"(
defaults:
  to: s3://mirror-bucket/hub/
  revision: stable
  exclude: ["*.bin", "*.h5"]
  region: eu-west-1
models:
  - name: a
    modelId: org/a
  - name: b
    modelId: org/b
    revision: v2
    exclude: []
  - name: c
    modelId: org/c
    s3Bucket: other-bucket
)";
  const ModelsConfig c = parse_ok(yaml);
  ASSERT_EQ(c.models.size(), 3u);
  EXPECT_EQ(c.models[0].destination, "s3://mirror-bucket/hub/a");
  EXPECT_EQ(c.models[0].revision, "stable");
  EXPECT_EQ(c.models[0].exclude, (std::vector<std::string>{"*.bin", "*.h5"}));
  EXPECT_EQ(c.models[0].region, "eu-west-1");
  EXPECT_EQ(c.models[1].revision, "v2");
  EXPECT_TRUE(c.models[1].exclude.empty()) << "an explicit empty list overrides the defaults";
  EXPECT_EQ(c.models[2].destination, "s3://other-bucket/models/c");

  // --to overrides defaults.to, not an entry's own destination.
  const ModelsConfig flagged = parse_ok(yaml, "/srv/mirror/");
  EXPECT_EQ(flagged.models[0].destination, "/srv/mirror/a");
  EXPECT_EQ(flagged.models[2].destination, "s3://other-bucket/models/c");
}

TEST(ModelsConfig, ToRootFromFlag) {
  const ModelsConfig c = parse_ok("- {name: a, modelId: o/a}\n- {name: b, modelId: o/b}\n", "s3://bucket/prefix");
  EXPECT_EQ(c.models[0].destination, "s3://bucket/prefix/a");
  EXPECT_EQ(c.models[1].destination, "s3://bucket/prefix/b");
  EXPECT_HAS(parse_error("- {name: a, modelId: o/a}\n", "gs://x"), "--to");
}

TEST(ModelsConfig, HelmValuesFile) {
  // The shape of the original platform-manifests values list.
  const ModelsConfig c = parse_ok(R"(
global:
  resourcePrefix: peeks
  accountId: "123456789012"
  region: us-west-2
  clusterName: peeks-hub
  unrelatedGlobal: 5
otherChart:
  enabled: true
huggingfaceModels:
  - name: gpt2-neuron
    modelId: "gpt2"
    s3Bucket: ""  # Will be set from global values
    namespace: "ray-system"
    serviceAccount: "model-download-sa"
    accountId: ""
    region: ""
    clusterName: ""
  - name: tinyllama
    modelId: "TinyLlama/TinyLlama-1.1B-Chat-v1.0"
    s3Bucket: own-bucket
    region: eu-central-1
)");
  ASSERT_EQ(c.models.size(), 2u);
  const ModelEntry& gpt2 = c.models[0];
  EXPECT_EQ(gpt2.repo_id, "gpt2");
  EXPECT_EQ(gpt2.s3_bucket, "peeks-ray-models-123456789012");
  EXPECT_EQ(gpt2.destination, "s3://peeks-ray-models-123456789012/models/gpt2-neuron");
  EXPECT_EQ(gpt2.region, "us-west-2");
  EXPECT_EQ(gpt2.account_id, "123456789012");
  EXPECT_EQ(gpt2.cluster_name, "peeks-hub");
  EXPECT_EQ(gpt2.k8s_namespace, "ray-system");
  EXPECT_EQ(gpt2.service_account, "model-download-sa");
  const ModelEntry& tiny = c.models[1];
  EXPECT_EQ(tiny.destination, "s3://own-bucket/models/tinyllama");
  EXPECT_EQ(tiny.region, "eu-central-1");
}

TEST(ModelsConfig, HelmValuesWithoutGlobalNeedADestination) {
  EXPECT_HAS(parse_error("huggingfaceModels:\n  - name: a\n    modelId: o/a\n"), "no destination");
  EXPECT_EQ(parse_ok("huggingfaceModels:\n  - name: a\n    modelId: o/a\n", "/m").models[0].destination, "/m/a");
}

TEST(ModelsConfig, UnrenderedTemplateIsExplained) {
  const std::string e = parse_error(R"(
huggingfaceModels:
  - name: llama-2-7b
    modelId: "meta-llama/Llama-2-7b-hf"
    s3Bucket: "{{ .Values.global.resourcePrefix }}-ray-models-{{ .Values.global.accountId }}"
)");
  EXPECT_HAS(e, "models.yaml:5:");
  EXPECT_HAS(e, "entry 1 \"llama-2-7b\"");
  EXPECT_HAS(e, "field \"s3Bucket\"");
  EXPECT_HAS(e, "unrendered template");
}

TEST(ModelsConfig, YamlSyntaxErrorHasLineAndColumn) {
  const std::string e = parse_error("- name: a\n  modelId: [o/a\n- name: b\n");
  EXPECT_HAS(e, "YAML syntax error");
  EXPECT_HAS(e, "models.yaml:");
  const std::string indent = parse_error("- name: a\n  modelId: o/a\n    to: x\n");
  EXPECT_HAS(indent, "models.yaml:3:");
}

TEST(ModelsConfig, WrongTypes) {
  struct Case {
    const char* yaml;
    const char* message;
  };
  const Case cases[] = {
      {"- {name: a, modelId: o/a, to: /x, include: 5}",
       "entry 1 \"a\": field \"include\": must be a string or a list of strings, got a number"},
      {"- {name: a, modelId: o/a, to: /x, revision: [a]}", "field \"revision\": must be a string, got a list"},
      {"- {name: a, modelId: o/a, to: /x, revision: {x: 1}}", "field \"revision\": must be a string, got a mapping"},
      {"- {name: a, modelId: o/a, to: /x, revision: 1.0}", "got a number (quote it: \"1.0\")"},
      {"- {name: a, modelId: o/a, to: /x, revision: !!int 3}", "got a non-string value"},
      {"- {name: true, modelId: o/a, to: /x}", "field \"name\": must be a string, got a boolean"},
      {"- {name: a, modelId: 42, to: /x}", "field \"modelId\": must be a string, got a number"},
      {"- {name: a, modelId: o/a, to: /x, include: [ok, 5]}", "field \"include[1]\": must be a string, got a number"},
      {"- {name: a, modelId: o/a, to: /x, exclude: [ok, \"\"]}", "field \"exclude[1]\": must not be empty"},
      {"- {name: a, modelId: o/a, to: /x, exclude: [[x]]}", "field \"exclude[0]\": must be a string, got a list"},
      {"- {name: a, modelId: o/a, to: /x, exclude: {a: b}}", "must be a string or a list of strings, got a mapping"},
      {"- {name: a, modelId: o/a, to: /x, region: 0x1F}", "got a number"},
      {"- {name: a, modelId: o/a, to: /x, region: .inf}", "got a number"},
  };
  for (const Case& c : cases) EXPECT_HAS(parse_error(c.yaml), c.message);
}

TEST(ModelsConfig, QuotedOrTaggedNumbersAreStrings) {
  const ModelsConfig c = parse_ok("- {name: \"1\", modelId: o/a, to: /x, revision: \"1.0\", region: !!str 5}");
  EXPECT_EQ(c.models[0].name, "1");
  EXPECT_EQ(c.models[0].revision, "1.0");
}

TEST(ModelsConfig, UnknownFieldsSuggestTheClosestName) {
  EXPECT_HAS(parse_error("- {name: a, modelID: o/a, to: /x}"), "unknown field \"modelID\" (did you mean \"modelId\"?)");
  EXPECT_HAS(parse_error("- {name: a, model_id: o/a, to: /x}"), "did you mean \"modelId\"?");
  EXPECT_HAS(parse_error("- {name: a, modelId: o/a, to: /x, revison: v1}"), "did you mean \"revision\"?");
  EXPECT_HAS(parse_error("- {name: a, modelId: o/a, to: /x, s3_bucket: b}"), "did you mean \"s3Bucket\"?");
  EXPECT_HAS(parse_error("- {name: a, modelId: o/a, to: /x, repo-type: model}"), "did you mean \"repoType\"?");
  const std::string far = parse_error("- {name: a, modelId: o/a, to: /x, schedule: daily}");
  EXPECT_HAS(far, "unknown field \"schedule\" (known fields: name, modelId, repoId");
  EXPECT_HAS(parse_error("defaults: {revison: x}\nmodels: [{name: a, modelId: o/a, to: /x}]"),
             "defaults: unknown field \"revison\" (did you mean \"revision\"?)");
  EXPECT_HAS(parse_error("default: {to: /x}\nmodels: [{name: a, modelId: o/a}]"),
             "top level: unknown field \"default\" (did you mean \"defaults\"?)");
  EXPECT_HAS(parse_error("modles:\n  - {name: a, modelId: o/a}\n"), "did you mean \"models\"?");
  EXPECT_HAS(parse_error("huggingFaceModels:\n  - {name: a, modelId: o/a}\n"), "did you mean \"huggingfaceModels\"?");
}

TEST(ModelsConfig, RequiredFields) {
  EXPECT_HAS(parse_error("- {modelId: o/a, to: /x}"), "entry 1: field \"name\" is required");
  EXPECT_HAS(parse_error("- {name: a, to: /x}"), "entry 1 \"a\": field \"modelId\" is required");
  EXPECT_HAS(parse_error("- {name: \"\", modelId: o/a, to: /x}"), "field \"name\" is required");
  EXPECT_HAS(parse_error("- {name: a, modelId: ~, to: /x}"), "field \"modelId\" is required");
  EXPECT_HAS(parse_error("- {name: a, modelId: o/a, repoId: o/b, to: /x}"), "not both");
}

TEST(ModelsConfig, ValueChecks) {
  struct Case {
    const char* yaml;
    const char* message;
  };
  const Case cases[] = {
      {"- {name: Llama, modelId: o/a, to: /x}", "field \"name\": \"Llama\" must match [a-z0-9][a-z0-9._-]*"},
      {"- {name: -a, modelId: o/a, to: /x}", "must match"},
      {"- {name: a b, modelId: o/a, to: /x}", "must match"},
      {"- {name: a, modelId: acme/../x, to: /x}", "field \"modelId\": invalid repo id"},
      {"- {name: a, repoId: \"a/b/c\", to: /x}", "field \"repoId\": invalid repo id"},
      {"- {name: a, modelId: o/a, to: /x, repoType: space}",
       "field \"repoType\": \"space\": use \"model\" or \"dataset\""},
      {"- {name: a, modelId: o/a, to: /x, layout: flat}", "field \"layout\""},
      {"- {name: a, modelId: o/a, to: \"s3://bucket/x\", layout: hf-cache}", "\"hf-cache\" is for local destinations"},
      {"- {name: a, modelId: o/a, s3Bucket: My_Bucket}", "field \"s3Bucket\": \"My_Bucket\" is not a valid S3 bucket"},
      {"- {name: a, modelId: o/a, to: \"s3://b\"}", "field \"to\": \"b\" is not a valid S3 bucket"},
      {"- {name: a, modelId: o/a, to: \"s3://bucket/a/../b\"}", "field \"to\": the S3 key prefix"},
      {"- {name: a, modelId: o/a, to: \"gs://bucket/x\"}", "unsupported destination"},
      {"- {name: a, modelId: o/a, s3Bucket: bucket, prefix: \"a//b\"}", "field \"prefix\""},
      {"- {name: a, modelId: o/a, s3Bucket: bucket, prefix: /}", "field \"prefix\""},
      {"- {name: a, modelId: o/a, to: /x, region: US-WEST-2}", "field \"region\""},
      {"- {name: a, modelId: o/a, to: /x, revision: \"my branch\"}", "field \"revision\""},
      {"- name: a\n  modelId: o/a\n  to: /x\n  revision: |\n    main\n", "without control characters"},
      {"- {name: a, modelId: o/a}", "no destination: set \"to\" or \"s3Bucket\""},
  };
  for (const Case& c : cases) EXPECT_HAS(parse_error(c.yaml), c.message);
}

TEST(ModelsConfig, DuplicatesAcrossEntries) {
  EXPECT_HAS(parse_error("- {name: a, modelId: o/a, to: /x}\n- {name: a, modelId: o/b, to: /y}\n"),
             "models.yaml:2: entry 2 \"a\": name \"a\" is already used by entry 1");
  EXPECT_HAS(parse_error("- {name: a, modelId: o/a, to: /x/}\n- {name: b, modelId: o/b, to: /x}\n"),
             "destination /x is also entry 1 \"a\"'s");
  EXPECT_HAS(parse_error("- {name: a, modelId: o/a, s3Bucket: bkt, prefix: p}\n"
                         "- {name: b, modelId: o/b, to: \"s3://bkt/p/\"}\n"),
             "destination s3://bkt/p is also");
  EXPECT_HAS(parse_error("- name: a\n  modelId: o/a\n  to: /x\n  modelId: o/b\n"),
             "models.yaml:4: entry 1 \"a\": field \"modelId\" is given twice");
}

TEST(ModelsConfig, ErrorsNameTheLine) {
  const std::string e = parse_error(R"(models:
  - name: good
    modelId: o/good
    to: /x
  - name: bad
    modelId: o/bad
    to: /y
    include: 5
)");
  EXPECT_HAS(e, "models.yaml:8: entry 2 \"bad\": field \"include\"");
}

TEST(ModelsConfig, DocumentShapes) {
  EXPECT_HAS(parse_error(""), "the file is empty");
  EXPECT_HAS(parse_error("# only a comment\n"), "the file is empty");
  EXPECT_HAS(parse_error("hello"), "expected a list of entries");
  EXPECT_HAS(parse_error("[]"), "nothing to mirror");
  EXPECT_HAS(parse_error("models:\n"), "nothing to mirror");
  EXPECT_HAS(parse_error("models: {a: 1}\n"), "must be a list of entries");
  EXPECT_HAS(parse_error("huggingfaceModels: []\n"), "nothing to mirror");
  EXPECT_HAS(parse_error("- gpt2\n"), "entry 1: expected a mapping");
  EXPECT_HAS(parse_error("- [a]\n"), "entry 1: expected a mapping");
  EXPECT_HAS(parse_error("models: [{name: a, modelId: o/a, to: /x}]\nhuggingfaceModels: []\n"), "keep one");
  EXPECT_HAS(parse_error("defaults: {name: x}\nmodels: [{name: a, modelId: o/a, to: /x}]"),
             "defaults: field \"name\" belongs on each entry");
  EXPECT_HAS(parse_error("defaults: [1]\nmodels: [{name: a, modelId: o/a, to: /x}]"), "defaults: must be a mapping");
  EXPECT_HAS(parse_error("global: [1]\nhuggingfaceModels: [{name: a, modelId: o/a, to: /x}]"),
             "global: must be a mapping");
  EXPECT_HAS(parse_error("global: {accountId: 123456789012, resourcePrefix: p}\n"
                         "huggingfaceModels: [{name: a, modelId: o/a}]"),
             "global: field \"accountId\": must be a string, got a number (quote it: \"123456789012\")");
}

class ModelsConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("hfm_models_config_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(ModelsConfigFile, LoadsAndNamesTheFileInErrors) {
  const auto good = dir_ / "models.yaml";
  std::ofstream(good) << "- {name: a, modelId: o/a, to: /x}\n";
  const auto r = load_models_config(good);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->models.at(0).repo_id, "o/a");

  const auto bad = dir_ / "bad.yaml";
  std::ofstream(bad) << "- {name: a, modelId: o/a}\n";
  const auto e = load_models_config(bad);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().message.rfind(bad.string() + ":1:", 0), 0u) << e.error().message;
  EXPECT_EQ(load_models_config(bad, "/root").value().models.at(0).destination, "/root/a");
}

TEST_F(ModelsConfigFile, MissingFileDirectoryAndEmptyFile) {
  const auto missing = load_models_config(dir_ / "nope.yaml");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kConfig);
  EXPECT_HAS(missing.error().message, "cannot read config file");
  EXPECT_HAS(missing.error().message, "No such file");

  const auto directory = load_models_config(dir_);
  ASSERT_FALSE(directory.has_value());
  EXPECT_HAS(directory.error().message, "is a directory");

  const auto empty = dir_ / "empty.yaml";
  std::ofstream(empty).flush();
  const auto e = load_models_config(empty);
  ASSERT_FALSE(e.has_value());
  EXPECT_HAS(e.error().message, "the file is empty");
}

}  // namespace
}  // namespace hfm::config
