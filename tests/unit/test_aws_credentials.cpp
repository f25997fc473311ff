// AWS credential providers, the chain, the shared-file parser and settings.
// Every test runs with the AWS_* variables cleared, HOME pointing at a fresh
// temp dir (so a developer's ~/.aws never leaks in), and restores both after.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

#include "auth/aws_credentials.h"
#include "core/log.h"

namespace hfm::auth {
namespace {

namespace fs = std::filesystem;
using std::chrono::system_clock;
using namespace std::chrono_literals;

constexpr const char* kManagedEnv[] = {
    "HOME",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_PROFILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
};

class AwsCredTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : kManagedEnv) {
      if (const char* v = std::getenv(name)) saved_[name] = v;
      ::unsetenv(name);
    }
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           fmt::format("hfm_awscred_{}_{}_{}", ::getpid(), info->test_suite_name(), info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / ".aws");
    set("HOME", dir_.string());
  }

  void TearDown() override {
    for (const char* name : kManagedEnv) {
      auto it = saved_.find(name);
      if (it == saved_.end()) {
        ::unsetenv(name);
      } else {
        ::setenv(name, it->second.c_str(), 1);
      }
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static void set(const char* name, const std::string& value) { ::setenv(name, value.c_str(), 1); }

  std::string write(const std::string& rel, const std::string& text) {
    const fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

  std::string credentials_path() const { return (dir_ / ".aws" / "credentials").string(); }
  std::string config_path() const { return (dir_ / ".aws" / "config").string(); }

  fs::path dir_;
  std::map<std::string, std::string> saved_;
};

using AwsCredEnv = AwsCredTest;
using AwsCredProfile = AwsCredTest;
using AwsCredIni = AwsCredTest;
using AwsCredChain = AwsCredTest;
using AwsCredSettings = AwsCredTest;

// --- Environment -----------------------------------------------------------

TEST_F(AwsCredEnv, ReadsKeysTokenAndExpiration) {
  set("AWS_ACCESS_KEY_ID", "AKIAENV");
  set("AWS_SECRET_ACCESS_KEY", " envsecret/+ ");  // trimmed
  set("AWS_SESSION_TOKEN", "envtoken");
  set("AWS_CREDENTIAL_EXPIRATION", "2030-01-31T12:00:00Z");
  auto r = make_env_provider()->load();
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(r->has_value());
  const AwsCredentials& c = **r;
  EXPECT_EQ(c.access_key_id, "AKIAENV");
  EXPECT_EQ(c.secret_access_key.reveal(), "envsecret/+");
  ASSERT_TRUE(c.session_token.has_value());
  EXPECT_EQ(c.session_token->reveal(), "envtoken");
  ASSERT_TRUE(c.expiration.has_value());
  EXPECT_EQ(format_amz_date(*c.expiration), "20300131T120000Z");
  EXPECT_EQ(c.provider, "env");
  EXPECT_EQ(fmt::format("{} {}", c.secret_access_key, *c.session_token), "*** ***");
}

TEST_F(AwsCredEnv, LegacySecurityTokenAndNoExpiration) {
  set("AWS_ACCESS_KEY_ID", "AKIAENV");
  set("AWS_SECRET_ACCESS_KEY", "s");
  set("AWS_SECURITY_TOKEN", "legacy");
  auto r = make_env_provider()->load();
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->session_token->reveal(), "legacy");
  EXPECT_FALSE((*r)->expiration.has_value());
}

TEST_F(AwsCredEnv, UnsetOrEmptyIsNotConfigured) {
  auto r = make_env_provider()->load();
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
  set("AWS_ACCESS_KEY_ID", "");
  set("AWS_SECRET_ACCESS_KEY", "  ");
  r = make_env_provider()->load();
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
}

TEST_F(AwsCredEnv, HalfAPairIsAnError) {
  set("AWS_ACCESS_KEY_ID", "AKIAENV");
  auto r = make_env_provider()->load();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConfig);
  EXPECT_NE(r.error().message.find("AWS_SECRET_ACCESS_KEY is not"), std::string::npos) << r.error().message;

  ::unsetenv("AWS_ACCESS_KEY_ID");
  set("AWS_SECRET_ACCESS_KEY", "secret-value");
  r = make_env_provider()->load();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("AWS_ACCESS_KEY_ID is not"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find("secret-value"), std::string::npos);
}

TEST_F(AwsCredEnv, BadExpirationIsAnError) {
  set("AWS_ACCESS_KEY_ID", "AKIAENV");
  set("AWS_SECRET_ACCESS_KEY", "s");
  set("AWS_CREDENTIAL_EXPIRATION", "tomorrow");
  auto r = make_env_provider()->load();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConfig);
  EXPECT_NE(r.error().message.find("AWS_CREDENTIAL_EXPIRATION"), std::string::npos);
}

// --- Profiles ----------------------------------------------------------------

TEST_F(AwsCredProfile, DefaultProfileFromCredentialsFile) {
  write(".aws/credentials",
        "# a comment\n"
        "[default]\n"
        "aws_access_key_id = AKIADEFAULT\n"
        "aws_secret_access_key=defaultsecret   ; trailing comment\n"
        "aws_session_token =  tok==  \n"
        "\n"
        "[other]\n"
        "aws_access_key_id = AKIAOTHER\n"
        "aws_secret_access_key = othersecret\n");
  auto r = make_profile_provider(std::nullopt)->load();
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->access_key_id, "AKIADEFAULT");
  EXPECT_EQ((*r)->secret_access_key.reveal(), "defaultsecret");
  EXPECT_EQ((*r)->session_token->reveal(), "tok==");
  EXPECT_EQ((*r)->provider, "profile:default");
}

TEST_F(AwsCredProfile, ArgumentBeatsAwsProfileWhichBeatsDefault) {
  write(".aws/credentials",
        "[default]\naws_access_key_id = A_DEFAULT\naws_secret_access_key = s\n"
        "[env-chosen]\naws_access_key_id = A_ENV\naws_secret_access_key = s\n"
        "[flag-chosen]\naws_access_key_id = A_FLAG\naws_secret_access_key = s\n");
  set("AWS_PROFILE", "env-chosen");
  auto by_env = make_profile_provider(std::nullopt);
  EXPECT_EQ(by_env->name(), "profile:env-chosen");
  auto r = by_env->load();
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->access_key_id, "A_ENV");
  r = make_profile_provider("flag-chosen")->load();
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->access_key_id, "A_FLAG");
}

TEST_F(AwsCredProfile, ConfigFileUsesProfilePrefix) {
  write(".aws/config",
        "[default]\n"
        "aws_access_key_id = A_CFG_DEFAULT\n"
        "aws_secret_access_key = s1\n"
        "[profile dev]\n"
        "aws_access_key_id = A_CFG_DEV\n"
        "aws_secret_access_key = s2\n"
        "[staging]\n"  // no "profile " prefix: not a profile in a config file
        "aws_access_key_id = A_WRONG\n"
        "aws_secret_access_key = s3\n");
  auto r = make_profile_provider(std::nullopt)->load();
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->access_key_id, "A_CFG_DEFAULT");
  r = make_profile_provider("dev")->load();
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->access_key_id, "A_CFG_DEV");
  r = make_profile_provider("staging")->load();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("AWS profile 'staging' not found"), std::string::npos) << r.error().message;
}

TEST_F(AwsCredProfile, CredentialsFileWinsOverConfigFile) {
  write(".aws/credentials", "[dev]\naws_access_key_id = A_CREDS\naws_secret_access_key = from-creds\n");
  write(".aws/config", "[profile dev]\nregion = eu-west-1\naws_access_key_id = A_CFG\naws_secret_access_key = cfg\n");
  auto r = make_profile_provider("dev")->load();
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->access_key_id, "A_CREDS");
  EXPECT_EQ((*r)->secret_access_key.reveal(), "from-creds");
}

TEST_F(AwsCredProfile, HalfAPairNamesFileAndLine) {
  const std::string path = write(".aws/credentials",
                                 "[default]\n"
                                 "region = us-east-1\n"
                                 "aws_access_key_id = AKIAONLY\n");
  auto r = make_profile_provider(std::nullopt)->load();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConfig);
  EXPECT_EQ(r.error().message, path + ":3: profile 'default' has aws_access_key_id but no aws_secret_access_key");
}

TEST_F(AwsCredProfile, MissingProfiles) {
  // No files at all, implicit default: simply not configured.
  auto r = make_profile_provider(std::nullopt)->load();
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
  // A profile without keys (only settings): not configured either.
  write(".aws/config", "[default]\nregion = us-west-2\n");
  r = make_profile_provider(std::nullopt)->load();
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
  // Named explicitly but absent: an error that names both files.
  set("AWS_PROFILE", "nope");
  r = make_profile_provider(std::nullopt)->load();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConfig);
  EXPECT_NE(r.error().message.find(credentials_path()), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(config_path()), std::string::npos) << r.error().message;
}

TEST_F(AwsCredProfile, UnsupportedSourcesAreReportedNotSkipped) {
  const std::string path = write(".aws/config",
                                 "[profile assume]\n"
                                 "role_arn = arn:aws:iam::123456789012:role/x\n"
                                 "source_profile = default\n");
  auto r = make_profile_provider("assume")->load();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConfig);
  EXPECT_NE(r.error().message.find(path + ":2: profile 'assume' uses role_arn"), std::string::npos)
      << r.error().message;
}

TEST_F(AwsCredProfile, FileLocationsFromEnvironment) {
  const std::string creds =
      write("elsewhere/creds.ini", "[default]\naws_access_key_id = A_ELSE\naws_secret_access_key = s\n");
  write(".aws/credentials", "[default]\naws_access_key_id = A_HOME\naws_secret_access_key = s\n");
  set("AWS_SHARED_CREDENTIALS_FILE", creds);
  auto r = make_profile_provider(std::nullopt)->load();
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->access_key_id, "A_ELSE");

  set("AWS_SHARED_CREDENTIALS_FILE", "~/missing");  // "~" expands to HOME; a missing file is fine
  write("cfg/config", "[profile x]\naws_access_key_id = A_CFG\naws_secret_access_key = s\n");
  set("AWS_CONFIG_FILE", "~/cfg/config");
  r = make_profile_provider("x")->load();
  ASSERT_TRUE(r && r->has_value()) << (r ? "" : r.error().message);
  EXPECT_EQ((*r)->access_key_id, "A_CFG");
}

TEST_F(AwsCredProfile, MalformedFileIsAnError) {
  const std::string path = write(".aws/credentials", "[default]\naws_access_key_id AKIA\n");
  auto r = make_profile_provider(std::nullopt)->load();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConfig);
  EXPECT_TRUE(r.error().message.starts_with(path + ":2: expected 'name = value'")) << r.error().message;
}

// --- INI format ----------------------------------------------------------------

TEST_F(AwsCredIni, CommentsWhitespaceAndSubsections) {
  const std::string text =
      "; leading comment\n"
      "  # indented comment\n"
      "[profile dev]   # comment after header\n"
      "Region=eu-central-1\r\n"
      "s3 =\n"
      "  addressing_style = path\n"
      "\n"
      "  endpoint_url = http://localhost:9000 # local MinIO\n"
      "output = json\n"
      "[ default ]\n"
      "region = us-east-1\n"
      "[services local]\n"
      "s3 =\n"
      "\tendpoint_url = http://127.0.0.1:9000\n"
      "[sso-session corp]\n"
      "sso_region = us-east-1\n";
  auto f = parse_aws_ini(text, "cfg", AwsFileKind::kConfig);
  ASSERT_TRUE(f) << f.error().message;
  const auto* dev = f->find(AwsIniSection::Kind::kProfile, "dev");
  ASSERT_NE(dev, nullptr);
  EXPECT_EQ(dev->line, 3);
  ASSERT_NE(dev->get("region"), nullptr);
  EXPECT_EQ(dev->get("region")->value, "eu-central-1");
  EXPECT_EQ(dev->get("s3")->value, "");
  EXPECT_EQ(dev->get("s3.addressing_style")->value, "path");
  EXPECT_EQ(dev->get("s3.endpoint_url")->value, "http://localhost:9000");
  EXPECT_EQ(dev->get("s3.endpoint_url")->line, 8);
  EXPECT_EQ(dev->get("output")->value, "json");  // back at the top level after an unindented line
  EXPECT_EQ(dev->get("s3.output"), nullptr);
  const auto* def = f->find(AwsIniSection::Kind::kProfile, "default");
  ASSERT_NE(def, nullptr);
  EXPECT_EQ(def->get("region")->value, "us-east-1");
  const auto* svc = f->find(AwsIniSection::Kind::kServices, "local");
  ASSERT_NE(svc, nullptr);
  EXPECT_EQ(svc->get("s3.endpoint_url")->value, "http://127.0.0.1:9000");
  EXPECT_NE(f->find(AwsIniSection::Kind::kOther, "sso-session corp"), nullptr);
  EXPECT_EQ(f->find(AwsIniSection::Kind::kProfile, "sso-session corp"), nullptr);
}

TEST_F(AwsCredIni, CredentialsFileSectionsAreBareNames) {
  auto f = parse_aws_ini("[profile x]\na = 1\n[x]\nb = 2\n", "creds", AwsFileKind::kCredentials);
  ASSERT_TRUE(f);
  EXPECT_NE(f->find(AwsIniSection::Kind::kProfile, "profile x"), nullptr);
  EXPECT_NE(f->find(AwsIniSection::Kind::kProfile, "x"), nullptr);
}

TEST_F(AwsCredIni, RepeatedSectionsMergeAndContinuationLines) {
  auto f = parse_aws_ini(
      "[default]\n"
      "a = 1\n"
      "b = first\n"
      "  second line\n"
      "[other]\n"
      "c = 3\n"
      "[default]\n"
      "a = 2\n",
      "creds", AwsFileKind::kCredentials);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->sections.size(), 2u);
  const auto* d = f->find(AwsIniSection::Kind::kProfile, "default");
  EXPECT_EQ(d->get("a")->value, "2");
  EXPECT_EQ(d->get("a")->line, 8);
  EXPECT_EQ(d->get("b")->value, "first\nsecond line");
}

TEST_F(AwsCredIni, MalformedLinesNameFileAndLine) {
  const struct {
    const char* text;
    const char* message;
  } cases[] = {
      {"[default\na = 1\n", "f.ini:1: section header is missing ']'"},
      {"a = 1\n[default]\n", "f.ini:1: 'a = 1' comes before any [section] header"},
      {"[default]\n\njust words\n", "f.ini:3: expected 'name = value' or '[section]', got 'just words'"},
      {"[default]\n = value\n", "f.ini:2: property has no name: '= value'"},
      {"[]\n", "f.ini:1: empty section name '[]'"},
      {"[default] x\n", "f.ini:1: unexpected text after ']': 'x'"},
      {"[profile]\n", "f.ini:1: section '[profile]' has no profile name"},
      {"[default]\ns3 =\n  no equals here\n", "f.ini:3: expected 'name = value' or '[section]', got 'no equals here'"},
  };
  for (const auto& c : cases) {
    auto f = parse_aws_ini(c.text, "f.ini", AwsFileKind::kConfig);
    ASSERT_FALSE(f) << c.text;
    EXPECT_EQ(f.error().code, ErrorCode::kConfig);
    EXPECT_EQ(f.error().message, c.message);
  }
}

// --- Chain ------------------------------------------------------------------------

class FakeProvider final : public CredentialsProvider {
 public:
  using Fn = std::function<Result<std::optional<AwsCredentials>>()>;
  FakeProvider(std::string name, Fn fn, std::atomic<int>* calls)
      : name_(std::move(name)), fn_(std::move(fn)), calls_(calls) {}
  std::string name() const override { return name_; }
  Result<std::optional<AwsCredentials>> load() override {
    ++*calls_;
    return fn_();
  }

 private:
  std::string name_;
  Fn fn_;
  std::atomic<int>* calls_;
};

AwsCredentials creds(std::string id, std::optional<system_clock::time_point> expiration = std::nullopt) {
  AwsCredentials c;
  c.access_key_id = std::move(id);
  c.secret_access_key = Secret("chain-secret-value");
  c.expiration = expiration;
  return c;
}

FakeProvider::Fn returns(std::optional<AwsCredentials> c) {
  return [c] { return Result<std::optional<AwsCredentials>>(c); };
}

struct FakeClock {
  system_clock::time_point now = std::chrono::sys_days{std::chrono::year{2030} / 1 / 1};
  CredentialChain::Clock fn() {
    return [this] { return now; };
  }
};

TEST_F(AwsCredChain, FirstConfiguredProviderWins) {
  std::atomic<int> a{0}, b{0}, c{0};
  std::vector<std::unique_ptr<CredentialsProvider>> ps;
  ps.push_back(std::make_unique<FakeProvider>("first", returns(std::nullopt), &a));
  ps.push_back(std::make_unique<FakeProvider>("second", returns(creds("A2")), &b));
  ps.push_back(std::make_unique<FakeProvider>("third", returns(creds("A3")), &c));
  CredentialChain chain(std::move(ps));
  EXPECT_EQ(chain.provider_names(), (std::vector<std::string>{"first", "second", "third"}));
  auto r = chain.get();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->access_key_id, "A2");
  EXPECT_EQ(r->provider, "second");  // filled in from the provider's name
  EXPECT_EQ(a.load() + b.load() + c.load(), 2);
  ASSERT_TRUE(chain.get());  // cached: static credentials never expire
  EXPECT_EQ(b.load(), 1);
  chain.invalidate();  // e.g. after InvalidAccessKeyId
  ASSERT_TRUE(chain.get());
  EXPECT_EQ(b.load(), 2);
  EXPECT_EQ(c.load(), 0);
}

TEST_F(AwsCredChain, NothingConfiguredListsWhatWasTried) {
  std::atomic<int> n{0};
  std::vector<std::unique_ptr<CredentialsProvider>> ps;
  ps.push_back(std::make_unique<FakeProvider>("env", returns(std::nullopt), &n));
  ps.push_back(std::make_unique<FakeProvider>("profile:default", returns(std::nullopt), &n));
  CredentialChain chain(std::move(ps));
  auto r = chain.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConfig);
  EXPECT_NE(r.error().message.find("tried: env, profile:default"), std::string::npos) << r.error().message;
}

TEST_F(AwsCredChain, ProviderErrorStopsTheChain) {
  std::atomic<int> a{0}, b{0};
  std::vector<std::unique_ptr<CredentialsProvider>> ps;
  ps.push_back(std::make_unique<FakeProvider>(
      "env", [] { return Result<std::optional<AwsCredentials>>(unexpected(ErrorCode::kConfig, "half a pair")); }, &a));
  ps.push_back(std::make_unique<FakeProvider>("profile:default", returns(creds("A2")), &b));
  CredentialChain chain(std::move(ps));
  auto r = chain.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "AWS credentials (env): half a pair");
  EXPECT_EQ(b.load(), 0);
}

TEST_F(AwsCredChain, RefreshesFiveMinutesBeforeExpiry) {
  FakeClock clock;
  std::atomic<int> calls{0};
  int generation = 0;
  const auto expiry = clock.now + 1h;
  std::vector<std::unique_ptr<CredentialsProvider>> ps;
  ps.push_back(std::make_unique<FakeProvider>(
      "sts",
      [&] {
        ++generation;
        return Result<std::optional<AwsCredentials>>(
            creds("GEN" + std::to_string(generation), expiry + (generation - 1) * 1h));
      },
      &calls));
  CredentialChain chain(std::move(ps), clock.fn());
  EXPECT_EQ(chain.get()->access_key_id, "GEN1");
  clock.now = expiry - 5min - 1s;
  EXPECT_EQ(chain.get()->access_key_id, "GEN1");
  EXPECT_EQ(calls.load(), 1);
  clock.now = expiry - 5min;
  EXPECT_EQ(chain.get()->access_key_id, "GEN2");
  EXPECT_EQ(calls.load(), 2);
  clock.now = expiry + 30min;  // GEN2 expires at expiry + 1h
  EXPECT_EQ(chain.get()->access_key_id, "GEN2");
  EXPECT_EQ(calls.load(), 2);
}

TEST_F(AwsCredChain, FailedRefreshKeepsUnexpiredCredentials) {
  FakeClock clock;
  std::atomic<int> calls{0};
  bool fail = false;
  const auto expiry = clock.now + 10min;
  std::vector<std::unique_ptr<CredentialsProvider>> ps;
  ps.push_back(std::make_unique<FakeProvider>(
      "sts",
      [&]() -> Result<std::optional<AwsCredentials>> {
        if (fail) return unexpected(ErrorCode::kNetwork, "sts unreachable");
        return std::optional<AwsCredentials>(creds("OLD", expiry));
      },
      &calls));
  CredentialChain chain(std::move(ps), clock.fn());
  ASSERT_TRUE(chain.get());
  fail = true;
  clock.now = expiry - 1min;  // inside the refresh window, still valid
  auto r = chain.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->access_key_id, "OLD");
  EXPECT_EQ(calls.load(), 2);
  clock.now = expiry;  // expired: the error surfaces
  r = chain.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNetwork);
}

TEST_F(AwsCredChain, ConcurrentCallersShareOneLoad) {
  std::atomic<int> calls{0};
  std::vector<std::unique_ptr<CredentialsProvider>> ps;
  ps.push_back(std::make_unique<FakeProvider>("env", returns(creds("A")), &calls));
  CredentialChain chain(std::move(ps));
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (auto r = chain.get(); r && r->access_key_id == "A") ++ok;
        if (i == 100) chain.invalidate();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8 * 200);
  EXPECT_GE(calls.load(), 1);
  EXPECT_LE(calls.load(), 1 + 8);  // at most one reload per invalidate()
}

TEST_F(AwsCredChain, LogsTheProviderNeverTheSecret) {
  const auto old_level = log::level();
  log::set_level(log::Level::kInfo);
  set("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE");
  set("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  set("AWS_SESSION_TOKEN", "session-token-value");
  CredentialChain chain = default_chain(std::nullopt);
  ::testing::internal::CaptureStderr();
  auto r = chain.get();
  const std::string err = ::testing::internal::GetCapturedStderr();
  log::set_level(old_level);
  ASSERT_TRUE(r);
  EXPECT_NE(err.find("aws.credentials provider=env access_key_id=****MPLE session_token=yes expires=never"),
            std::string::npos)
      << err;
  EXPECT_EQ(err.find("wJalrXUtnFEMI"), std::string::npos) << err;
  EXPECT_EQ(err.find("session-token-value"), std::string::npos) << err;
  EXPECT_EQ(err.find("AKIAIOSFODNN7EXAMPLE"), std::string::npos) << err;
}

size_t count(const std::string& haystack, std::string_view needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++n;
  return n;
}

TEST_F(AwsCredChain, LogsEachNewCredentialSetOnce) {
  FakeClock clock;
  std::atomic<int> calls{0};
  // Inside the refresh window, and the source keeps handing back the same set:
  // every get() reloads, but only the first one logs.
  std::vector<std::unique_ptr<CredentialsProvider>> ps;
  ps.push_back(std::make_unique<FakeProvider>("env", returns(creds("ASIAEXPIRING", clock.now + 1min)), &calls));
  CredentialChain chain(std::move(ps), clock.fn());
  const auto old_level = log::level();
  log::set_level(log::Level::kInfo);
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(chain.get());
  clock.now += 2min;  // expired now, but the same set: no new line (S3 will answer ExpiredToken)
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(chain.get());
  const std::string err = ::testing::internal::GetCapturedStderr();
  log::set_level(old_level);
  EXPECT_EQ(calls.load(), 6);
  EXPECT_EQ(count(err, "aws.credentials provider=env"), 1u) << err;
  EXPECT_EQ(count(err, "aws.credentials_expired"), 0u) << err;

  // A set that is already expired when it is loaded is called out.
  std::vector<std::unique_ptr<CredentialsProvider>> stale;
  stale.push_back(std::make_unique<FakeProvider>("env", returns(creds("ASIASTALE", clock.now - 1h)), &calls));
  CredentialChain stale_chain(std::move(stale), clock.fn());
  log::set_level(log::Level::kInfo);
  ::testing::internal::CaptureStderr();
  ASSERT_TRUE(stale_chain.get());
  ASSERT_TRUE(stale_chain.get());
  const std::string err2 = ::testing::internal::GetCapturedStderr();
  log::set_level(old_level);
  EXPECT_EQ(count(err2, "aws.credentials_expired provider=env"), 1u) << err2;
}

TEST_F(AwsCredChain, DefaultChainOrder) {
  write(".aws/credentials",
        "[default]\naws_access_key_id = A_FILE\naws_secret_access_key = s\n"
        "[dev]\naws_access_key_id = A_DEV\naws_secret_access_key = s\n");
  // Profile only.
  EXPECT_EQ(default_chain(std::nullopt).get()->access_key_id, "A_FILE");
  // Environment first.
  set("AWS_ACCESS_KEY_ID", "A_ENV");
  set("AWS_SECRET_ACCESS_KEY", "s");
  EXPECT_EQ(default_chain(std::nullopt).provider_names(), (std::vector<std::string>{"env", "profile:default"}));
  EXPECT_EQ(default_chain(std::nullopt).get()->access_key_id, "A_ENV");
  // AWS_PROFILE selects the profile but the environment keys still win.
  set("AWS_PROFILE", "dev");
  EXPECT_EQ(default_chain(std::nullopt).get()->access_key_id, "A_ENV");
  // An explicit profile (a flag) drops the environment provider.
  auto chain = default_chain("dev");
  EXPECT_EQ(chain.provider_names(), (std::vector<std::string>{"profile:dev"}));
  auto r = chain.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->access_key_id, "A_DEV");
  EXPECT_EQ(r->provider, "profile:dev");
}

// --- Settings ------------------------------------------------------------------------

TEST_F(AwsCredSettings, RegionPrecedence) {
  write(".aws/config", "[default]\nregion = eu-north-1\n[profile dev]\nregion = ap-south-1\n");
  auto s = load_aws_config_settings(std::nullopt);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->region, "eu-north-1");
  EXPECT_EQ(s->profile, "default");
  s = load_aws_config_settings("dev");
  EXPECT_EQ(s->region, "ap-south-1");
  set("AWS_DEFAULT_REGION", "us-west-1");
  EXPECT_EQ(load_aws_config_settings("dev")->region, "us-west-1");
  set("AWS_REGION", "us-east-2");
  EXPECT_EQ(load_aws_config_settings("dev")->region, "us-east-2");
}

TEST_F(AwsCredSettings, NothingConfigured) {
  auto s = load_aws_config_settings(std::nullopt);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->region);
  EXPECT_FALSE(s->endpoint_url);
  EXPECT_FALSE(s->addressing_style);
  s = load_aws_config_settings("absent");  // a missing profile is not an error for settings
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->region);
}

TEST_F(AwsCredSettings, AddressingStyleAndEndpointFromS3Subsection) {
  write(".aws/config",
        "[profile minio]\n"
        "region = us-east-1\n"
        "endpoint_url = http://global:1\n"
        "s3 =\n"
        "    addressing_style = Path\n"
        "    endpoint_url = http://localhost:9000\n");
  auto s = load_aws_config_settings("minio");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->addressing_style, "path");
  EXPECT_EQ(s->endpoint_url, "http://localhost:9000");
  set("AWS_ENDPOINT_URL", "http://env-global:2");
  EXPECT_EQ(load_aws_config_settings("minio")->endpoint_url, "http://env-global:2");
  set("AWS_ENDPOINT_URL_S3", "http://env-s3:3");
  EXPECT_EQ(load_aws_config_settings("minio")->endpoint_url, "http://env-s3:3");
  set("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true");
  s = load_aws_config_settings("minio");
  EXPECT_FALSE(s->endpoint_url);
  EXPECT_EQ(s->addressing_style, "path");  // not an endpoint: still applies
}

TEST_F(AwsCredSettings, ProfileEndpointAndServicesSection) {
  write(".aws/config",
        "[profile plain]\n"
        "endpoint_url = http://global:1\n"
        "[profile svc]\n"
        "services = local\n"
        "endpoint_url = http://global:1\n"
        "[services local]\n"
        "s3 =\n"
        "  endpoint_url = http://svc-s3:4\n"
        "[profile ignoring]\n"
        "endpoint_url = http://global:1\n"
        "ignore_configured_endpoint_urls = true\n"
        "[profile broken]\n"
        "services = nowhere\n");
  EXPECT_EQ(load_aws_config_settings("plain")->endpoint_url, "http://global:1");
  EXPECT_EQ(load_aws_config_settings("svc")->endpoint_url, "http://svc-s3:4");
  EXPECT_FALSE(load_aws_config_settings("ignoring")->endpoint_url);
  auto s = load_aws_config_settings("broken");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kConfig);
  EXPECT_NE(s.error().message.find(":13: profile 'broken' refers to [services nowhere]"), std::string::npos)
      << s.error().message;
}

TEST_F(AwsCredSettings, BadAddressingStyleAndMalformedFile) {
  const std::string path = write(".aws/config", "[default]\ns3 =\n  addressing_style = sideways\n");
  auto s = load_aws_config_settings(std::nullopt);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, path + ":3: s3 addressing_style must be auto, virtual or path, not 'sideways'");
  write(".aws/config", "[default\n");
  s = load_aws_config_settings(std::nullopt);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kConfig);
  EXPECT_EQ(s.error().message, path + ":1: section header is missing ']'");
}

}  // namespace
}  // namespace hfm::auth
