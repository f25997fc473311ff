// AWS credentials and settings, found the way the SDKs find them.
//
// A CredentialChain asks a list of providers in order and caches the first
// answer until 5 minutes before it expires (static keys: until invalidate()).
// Providers here: the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN, AWS_CREDENTIAL_EXPIRATION) and a profile with static keys
// in the shared files (~/.aws/credentials, then ~/.aws/config). Web identity
// (IRSA), container (ECS / EKS Pod Identity) and IMDSv2 providers slot into
// the same list later; a profile that needs one of them (role_arn,
// credential_process, sso_*) is reported as not supported yet rather than
// skipped. Secrets stay in Secret; logs name the provider, never the secret.
// (docs: shared/reference/s3-aws.md §3)
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/sigv4.h"
#include "core/result.h"

namespace hfm::auth {

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  virtual std::string name() const = 0;
  // nullopt: not configured here, try the next provider. An error (kConfig
  // for a malformed file or half a key pair) stops the chain: a broken setup
  // must not silently fall through to other credentials.
  virtual Result<std::optional<AwsCredentials>> load() = 0;
};

// AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (both or neither), optional
// AWS_SESSION_TOKEN (legacy AWS_SECURITY_TOKEN) and AWS_CREDENTIAL_EXPIRATION
// (ISO 8601). Empty variables count as unset.
std::unique_ptr<CredentialsProvider> make_env_provider();

// Static keys of a profile (aws_access_key_id, aws_secret_access_key,
// aws_session_token), from AWS_SHARED_CREDENTIALS_FILE (default
// ~/.aws/credentials), then AWS_CONFIG_FILE (default ~/.aws/config, where
// sections are "[profile name]" except "[default]"). The profile is the
// argument, else AWS_PROFILE, else "default"; a profile named explicitly that
// exists in neither file is an error, a missing "default" is not.
std::unique_ptr<CredentialsProvider> make_profile_provider(std::optional<std::string> profile);

// Fixed credentials (tests, or keys given on the command line).
std::unique_ptr<CredentialsProvider> make_static_provider(AwsCredentials credentials);

class CredentialChain {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;
  // Cached credentials are reloaded this long before they expire.
  static constexpr std::chrono::minutes kRefreshBeforeExpiry{5};

  // now defaults to the system clock; tests pass a fake one.
  explicit CredentialChain(std::vector<std::unique_ptr<CredentialsProvider>> providers, Clock now = {});
  ~CredentialChain();
  CredentialChain(CredentialChain&&) noexcept;
  CredentialChain& operator=(CredentialChain&&) noexcept;

  // Thread-safe; concurrent callers wait for the one reload in progress. A
  // failed refresh keeps returning the cached credentials until they expire.
  Result<AwsCredentials> get();
  // After an auth error (ExpiredToken, InvalidAccessKeyId…): reload on the next get().
  void invalidate();
  // The server rejected `rejected` (ExpiredToken, InvalidAccessKeyId… — e.g. the
  // key was rotated in ~/.aws/credentials and the old one revoked): the
  // credentials to retry with. Those already cached if another request has
  // reloaded them since, else a fresh load; nullopt when the providers still
  // hand out the rejected ones (nothing changed, so the error stands). One
  // reload serves every request that failed with the same credentials.
  Result<std::optional<AwsCredentials>> replace_rejected(const AwsCredentials& rejected);
  std::vector<std::string> provider_names() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// SDK order for what this build supports: environment, then the profile.
// An explicit profile (a --profile flag) drops the environment provider, as
// botocore does, so the flag is not overridden by stray AWS_* variables;
// AWS_PROFILE does not.
CredentialChain default_chain(std::optional<std::string> profile);

struct AwsConfigSettings {
  // AWS_REGION, AWS_DEFAULT_REGION, then the profile's `region`.
  std::optional<std::string> region;
  // AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's `services` section
  // (its s3 = / endpoint_url), the profile's s3 = / endpoint_url, then its
  // endpoint_url; none of them when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true
  // or the profile sets ignore_configured_endpoint_urls = true.
  std::optional<std::string> endpoint_url;
  // The profile's s3 = / addressing_style: "auto", "virtual" or "path".
  std::optional<std::string> addressing_style;
  std::string profile;  // the profile these came from
};

// Reads the config file of the profile (argument, AWS_PROFILE, "default").
// A missing file or profile is not an error; a malformed file is (kConfig).
Result<AwsConfigSettings> load_aws_config_settings(std::optional<std::string> profile);

// --- The shared-file format (exposed for tests and later providers) -------

enum class AwsFileKind { kCredentials, kConfig };

struct AwsIniProperty {
  std::string value;
  int line = 0;
};

struct AwsIniSection {
  enum class Kind { kProfile, kServices, kOther };  // kOther: sso-session and unknown sections
  Kind kind = Kind::kProfile;
  std::string name;  // profile or services name, without the "profile "/"services " prefix
  int line = 0;      // of the section header
  // Keys lowercased; sub-properties (indented under "s3 =") as "s3.addressing_style".
  std::map<std::string, AwsIniProperty, std::less<>> properties;

  const AwsIniProperty* get(std::string_view key) const;
};

struct AwsIniFile {
  std::string path;
  std::vector<AwsIniSection> sections;  // repeated sections are merged, later keys win

  const AwsIniSection* find(AwsIniSection::Kind kind, std::string_view name) const;
};

// INI as the SDKs read it: "[section]" headers, "key = value" lines, '#' and
// ';' comments (whole line, or after whitespace at the end of a line),
// indented "key = value" lines under an empty "s3 =" as sub-properties,
// other indented lines as continuations. Errors name path and line.
Result<AwsIniFile> parse_aws_ini(std::string_view text, std::string path, AwsFileKind kind);

}  // namespace hfm::auth
