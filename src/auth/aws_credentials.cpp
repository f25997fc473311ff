#include "auth/aws_credentials.h"

#include <fmt/format.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "core/log.h"

namespace hfm::auth {
namespace {

using std::chrono::system_clock;

constexpr std::string_view kWhitespace = " \t\r\n\v\f";

std::string_view trim(std::string_view s) {
  const size_t b = s.find_first_not_of(kWhitespace);
  if (b == std::string_view::npos) return {};
  const size_t e = s.find_last_not_of(kWhitespace);
  return s.substr(b, e - b + 1);
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_true(std::string_view v) { return lowercase(trim(v)) == "true"; }

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  std::string t(trim(v));
  if (t.empty()) return std::nullopt;
  return t;
}

std::string expand_home(std::string path) {
  if (path == "~" || path.starts_with("~/")) {
    if (auto home = env("HOME")) return *home + path.substr(1);
  }
  return path;
}

std::string shared_file_path(const char* env_name, const char* file_name) {
  if (auto p = env(env_name)) return expand_home(*p);
  if (auto home = env("HOME")) return (std::filesystem::path(*home) / ".aws" / file_name).string();
  return {};
}

std::string credentials_file_path() { return shared_file_path("AWS_SHARED_CREDENTIALS_FILE", "credentials"); }
std::string config_file_path() { return shared_file_path("AWS_CONFIG_FILE", "config"); }

// An explicitly chosen profile: the argument, else AWS_PROFILE.
std::optional<std::string> explicit_profile(const std::optional<std::string>& profile) {
  if (profile) {
    std::string p(trim(*profile));
    if (!p.empty()) return p;
  }
  return env("AWS_PROFILE");
}

Unexpected config_error(std::string message) { return unexpected(ErrorCode::kConfig, std::move(message)); }

// A missing file is not an error (nullopt); an unreadable or malformed one is.
Result<std::optional<AwsIniFile>> load_ini(const std::string& path, AwsFileKind kind) {
  if (path.empty()) return std::optional<AwsIniFile>();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<AwsIniFile>();
  std::ifstream in(path, std::ios::binary);
  if (!in) return config_error(fmt::format("{}: cannot be read", path));
  std::stringstream ss;
  ss << in.rdbuf();
  HFM_ASSIGN_OR_RETURN(AwsIniFile file, parse_aws_ini(ss.str(), path, kind));
  return std::optional<AwsIniFile>(std::move(file));
}

// Cuts a trailing comment: '#' or ';' preceded by whitespace.
std::string_view strip_inline_comment(std::string_view v) {
  for (size_t i = 1; i < v.size(); ++i) {
    if ((v[i] == '#' || v[i] == ';') && (v[i - 1] == ' ' || v[i - 1] == '\t')) return trim(v.substr(0, i));
  }
  return v;
}

std::string describe_expiration(const std::optional<system_clock::time_point>& t) {
  return t ? format_amz_date(*t) : std::string("never");
}

// Enough of the key id to tell two apart in logs (the CLI shows the same).
std::string key_id_hint(std::string_view id) {
  return id.size() <= 4 ? std::string("****") : "****" + std::string(id.substr(id.size() - 4));
}

class EnvProvider final : public CredentialsProvider {
 public:
  std::string name() const override { return "env"; }

  Result<std::optional<AwsCredentials>> load() override {
    auto id = env("AWS_ACCESS_KEY_ID");
    auto secret = env("AWS_SECRET_ACCESS_KEY");
    if (!id && !secret) return std::optional<AwsCredentials>();
    if (!id || !secret) {
      return config_error(fmt::format("{} is set but {} is not: set both, or neither",
                                      id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                                      id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID"));
    }
    AwsCredentials c;
    c.access_key_id = std::move(*id);
    c.secret_access_key = Secret(std::move(*secret));
    if (auto token = env("AWS_SESSION_TOKEN")) {
      c.session_token = Secret(std::move(*token));
    } else if (auto legacy = env("AWS_SECURITY_TOKEN")) {
      c.session_token = Secret(std::move(*legacy));
    }
    if (auto exp = env("AWS_CREDENTIAL_EXPIRATION")) {
      auto t = parse_aws_time(*exp);
      if (!t) {
        return config_error(
            fmt::format("AWS_CREDENTIAL_EXPIRATION=\"{}\" is not an ISO 8601 time (e.g. 2030-01-31T12:00:00Z)", *exp));
      }
      c.expiration = *t;
    }
    c.provider = name();
    return std::optional<AwsCredentials>(std::move(c));
  }
};

class ProfileProvider final : public CredentialsProvider {
 public:
  explicit ProfileProvider(std::optional<std::string> profile) : profile_(std::move(profile)) {}

  std::string name() const override { return "profile:" + profile_name(); }

  Result<std::optional<AwsCredentials>> load() override {
    const std::string profile = profile_name();
    const bool is_explicit = explicit_profile(profile_).has_value();
    const std::string credentials_path = credentials_file_path();
    const std::string config_path = config_file_path();
    HFM_ASSIGN_OR_RETURN(auto credentials_file, load_ini(credentials_path, AwsFileKind::kCredentials));
    HFM_ASSIGN_OR_RETURN(auto config_file, load_ini(config_path, AwsFileKind::kConfig));

    // The credentials file wins over the config file, as a whole key pair.
    std::vector<std::pair<const AwsIniFile*, const AwsIniSection*>> found;
    for (const auto* file : {credentials_file ? &*credentials_file : nullptr, config_file ? &*config_file : nullptr}) {
      if (file == nullptr) continue;
      if (const auto* s = file->find(AwsIniSection::Kind::kProfile, profile)) found.emplace_back(file, s);
    }
    for (const auto& [file, section] : found) {
      const AwsIniProperty* id = section->get("aws_access_key_id");
      const AwsIniProperty* secret = section->get("aws_secret_access_key");
      if (id != nullptr && id->value.empty()) id = nullptr;
      if (secret != nullptr && secret->value.empty()) secret = nullptr;
      if (id == nullptr && secret == nullptr) continue;
      if (id == nullptr || secret == nullptr) {
        const int line = id != nullptr ? id->line : secret->line;
        return config_error(fmt::format("{}:{}: profile '{}' has {} but no {}", file->path, line, profile,
                                        id != nullptr ? "aws_access_key_id" : "aws_secret_access_key",
                                        id != nullptr ? "aws_secret_access_key" : "aws_access_key_id"));
      }
      AwsCredentials c;
      c.access_key_id = id->value;
      c.secret_access_key = Secret(secret->value);
      const AwsIniProperty* token = section->get("aws_session_token");
      if (token == nullptr || token->value.empty()) token = section->get("aws_security_token");
      if (token != nullptr && !token->value.empty()) c.session_token = Secret(token->value);
      c.provider = name();
      return std::optional<AwsCredentials>(std::move(c));
    }
    // No static keys: say so if the profile wants a provider not built yet.
    static constexpr std::string_view kUnsupported[] = {"credential_process", "role_arn", "web_identity_token_file",
                                                        "sso_session", "sso_start_url"};
    for (const auto& [file, section] : found) {
      for (std::string_view key : kUnsupported) {
        if (const auto* p = section->get(key)) {
          return config_error(
              fmt::format("{}:{}: profile '{}' uses {}, which hfmirror does not support yet; give the profile "
                          "aws_access_key_id/aws_secret_access_key or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
                          file->path, p->line, profile, key));
        }
      }
    }
    if (found.empty() && is_explicit) {
      return config_error(fmt::format("AWS profile '{}' not found in {} or {}", profile,
                                      credentials_path.empty() ? "~/.aws/credentials" : credentials_path,
                                      config_path.empty() ? "~/.aws/config" : config_path));
    }
    return std::optional<AwsCredentials>();
  }

 private:
  std::string profile_name() const { return explicit_profile(profile_).value_or("default"); }

  std::optional<std::string> profile_;
};

class StaticProvider final : public CredentialsProvider {
 public:
  explicit StaticProvider(AwsCredentials c) : creds_(std::move(c)) {
    if (creds_.provider.empty()) creds_.provider = "static";
  }
  std::string name() const override { return creds_.provider; }
  Result<std::optional<AwsCredentials>> load() override { return std::optional<AwsCredentials>(creds_); }

 private:
  AwsCredentials creds_;
};

// --- INI parsing ----------------------------------------------------------

struct SectionHeader {
  AwsIniSection::Kind kind;
  std::string name;
};

Result<SectionHeader> parse_section_header(std::string_view inner, AwsFileKind kind, const std::string& where) {
  const std::string_view name = trim(inner);
  if (name.empty()) return config_error(where + ": empty section name '[]'");
  if (kind == AwsFileKind::kCredentials) return SectionHeader{AwsIniSection::Kind::kProfile, std::string(name)};
  if (name == "default") return SectionHeader{AwsIniSection::Kind::kProfile, "default"};
  const auto prefixed = [&](std::string_view prefix) -> std::optional<std::string_view> {
    if (name == prefix) return std::string_view();
    if (name.size() > prefix.size() && name.starts_with(prefix) &&
        (name[prefix.size()] == ' ' || name[prefix.size()] == '\t')) {
      return trim(name.substr(prefix.size()));
    }
    return std::nullopt;
  };
  if (auto p = prefixed("profile")) {
    if (p->empty()) return config_error(where + ": section '[profile]' has no profile name");
    return SectionHeader{AwsIniSection::Kind::kProfile, std::string(*p)};
  }
  if (auto s = prefixed("services")) {
    if (s->empty()) return config_error(where + ": section '[services]' has no name");
    return SectionHeader{AwsIniSection::Kind::kServices, std::string(*s)};
  }
  // "[dev]" in a config file, "[sso-session x]", …: not a profile (as in the SDKs).
  return SectionHeader{AwsIniSection::Kind::kOther, std::string(name)};
}

}  // namespace

std::unique_ptr<CredentialsProvider> make_env_provider() { return std::make_unique<EnvProvider>(); }

std::unique_ptr<CredentialsProvider> make_profile_provider(std::optional<std::string> profile) {
  return std::make_unique<ProfileProvider>(std::move(profile));
}

std::unique_ptr<CredentialsProvider> make_static_provider(AwsCredentials credentials) {
  return std::make_unique<StaticProvider>(std::move(credentials));
}

const AwsIniProperty* AwsIniSection::get(std::string_view key) const {
  auto it = properties.find(key);
  return it == properties.end() ? nullptr : &it->second;
}

const AwsIniSection* AwsIniFile::find(AwsIniSection::Kind kind, std::string_view name) const {
  for (const auto& s : sections) {
    if (s.kind == kind && s.name == name) return &s;
  }
  return nullptr;
}

Result<AwsIniFile> parse_aws_ini(std::string_view text, std::string path, AwsFileKind kind) {
  AwsIniFile file;
  file.path = std::move(path);
  AwsIniSection* section = nullptr;
  std::string parent_key;  // the property indented lines belong to
  bool parent_is_subsection = false;

  int line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    const std::string where = fmt::format("{}:{}", file.path, line_no);

    const std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    const bool indented = raw.front() == ' ' || raw.front() == '\t';

    if (line.front() == '[') {
      const size_t close = line.find(']');
      if (close == std::string_view::npos) return config_error(where + ": section header is missing ']'");
      const std::string_view after = trim(line.substr(close + 1));
      if (!after.empty() && after.front() != '#' && after.front() != ';') {
        return config_error(fmt::format("{}: unexpected text after ']': '{}'", where, after));
      }
      HFM_ASSIGN_OR_RETURN(SectionHeader header, parse_section_header(line.substr(1, close - 1), kind, where));
      section = nullptr;
      for (auto& s : file.sections) {  // a repeated section continues the first one
        if (s.kind == header.kind && s.name == header.name) section = &s;
      }
      if (section == nullptr) {
        file.sections.push_back(AwsIniSection{header.kind, std::move(header.name), line_no, {}});
        section = &file.sections.back();
      }
      parent_key.clear();
      continue;
    }

    if (section == nullptr) {
      return config_error(fmt::format("{}: '{}' comes before any [section] header", where, line));
    }
    if (indented && !parent_key.empty() && !parent_is_subsection) {
      // Continuation of the previous value (configparser semantics).
      auto& prop = section->properties[parent_key];
      prop.value += '\n';
      prop.value += strip_inline_comment(line);
      continue;
    }
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return config_error(fmt::format("{}: expected 'name = value' or '[section]', got '{}'", where, line));
    }
    std::string key = lowercase(trim(line.substr(0, eq)));
    if (key.empty()) return config_error(fmt::format("{}: property has no name: '{}'", where, line));
    std::string value(strip_inline_comment(trim(line.substr(eq + 1))));

    if (indented && parent_is_subsection && !parent_key.empty()) {
      section->properties[parent_key + "." + key] = AwsIniProperty{std::move(value), line_no};
      continue;
    }
    parent_is_subsection = value.empty();  // "s3 =" opens a sub-section
    parent_key = key;
    section->properties[std::move(key)] = AwsIniProperty{std::move(value), line_no};
  }
  return file;
}

// --- CredentialChain --------------------------------------------------------

struct CredentialChain::State {
  std::vector<std::unique_ptr<CredentialsProvider>> providers;
  Clock now;
  std::mutex mu;
  std::optional<AwsCredentials> cached;  // guarded by mu
  std::string last_logged_locked;        // guarded by mu: what the last log line described

  bool needs_refresh_locked(system_clock::time_point t) const {
    return !cached || (cached->expiration && t >= *cached->expiration - kRefreshBeforeExpiry);
  }

  Result<AwsCredentials> load_locked() {
    std::string tried;
    for (auto& p : providers) {
      const std::string name = p->name();
      auto r = p->load();
      if (!r) {
        Error e = std::move(r.error());
        e.message = fmt::format("AWS credentials ({}): {}", name, e.message);
        return e;
      }
      if (*r) {
        AwsCredentials c = std::move(**r);
        if (c.provider.empty()) c.provider = name;
        return c;
      }
      tried += tried.empty() ? name : ", " + name;
    }
    return config_error(fmt::format(
        "no AWS credentials found (tried: {}); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or put keys in a "
        "profile of ~/.aws/credentials and select it with AWS_PROFILE",
        tried.empty() ? "no providers" : tried));
  }
};

CredentialChain::CredentialChain(std::vector<std::unique_ptr<CredentialsProvider>> providers, Clock now)
    : state_(std::make_unique<State>()) {
  state_->providers = std::move(providers);
  state_->now = now ? std::move(now) : Clock([] { return system_clock::now(); });
}

CredentialChain::~CredentialChain() = default;
CredentialChain::CredentialChain(CredentialChain&&) noexcept = default;
CredentialChain& CredentialChain::operator=(CredentialChain&&) noexcept = default;

Result<AwsCredentials> CredentialChain::get() {
  std::lock_guard<std::mutex> lock(state_->mu);
  const auto t = state_->now();
  if (!state_->needs_refresh_locked(t)) return *state_->cached;
  auto fresh = state_->load_locked();
  if (!fresh) {
    const auto& old = state_->cached;
    if (old && old->expiration && t < *old->expiration) {
      log::warn("aws.credentials_refresh_failed provider={} expires={} error=\"{}\" (still using them)", old->provider,
                describe_expiration(old->expiration), fresh.error().message);
      return *old;
    }
    return fresh;
  }
  // Log each new set once: credentials near expiry whose source hands back the
  // same ones (env with AWS_CREDENTIAL_EXPIRATION) reload on every call.
  const std::string identity =
      fmt::format("{} {} {}", fresh->provider, fresh->access_key_id, describe_expiration(fresh->expiration));
  if (identity != state_->last_logged_locked) {
    state_->last_logged_locked = identity;
    log::info("aws.credentials provider={} access_key_id={} session_token={} expires={}", fresh->provider,
              key_id_hint(fresh->access_key_id), fresh->session_token ? "yes" : "no",
              describe_expiration(fresh->expiration));
    if (fresh->expiration && *fresh->expiration <= t) {
      log::warn("aws.credentials_expired provider={} expired={} (requests will fail with ExpiredToken)",
                fresh->provider, describe_expiration(fresh->expiration));
    }
  }
  state_->cached = *fresh;
  return fresh;
}

namespace {
bool same_credentials(const AwsCredentials& a, const AwsCredentials& b) {
  const auto token = [](const AwsCredentials& c) { return c.session_token ? c.session_token->reveal() : ""; };
  return a.access_key_id == b.access_key_id && a.secret_access_key.reveal() == b.secret_access_key.reveal() &&
         token(a) == token(b);
}
}  // namespace

Result<std::optional<AwsCredentials>> CredentialChain::replace_rejected(const AwsCredentials& rejected) {
  std::lock_guard<std::mutex> lock(state_->mu);
  if (state_->cached && !same_credentials(*state_->cached, rejected)) return state_->cached;
  auto fresh = state_->load_locked();
  if (!fresh) return unexpected(std::move(fresh.error()));
  if (same_credentials(*fresh, rejected)) return std::optional<AwsCredentials>();
  log::info("aws.credentials_reloaded provider={} access_key_id={} rejected={}", fresh->provider,
            key_id_hint(fresh->access_key_id), key_id_hint(rejected.access_key_id));
  state_->last_logged_locked.clear();
  state_->cached = *fresh;
  return std::optional<AwsCredentials>(std::move(*fresh));
}

void CredentialChain::invalidate() {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->cached.reset();
}

std::vector<std::string> CredentialChain::provider_names() const {
  std::vector<std::string> names;
  for (const auto& p : state_->providers) names.push_back(p->name());
  return names;
}

CredentialChain default_chain(std::optional<std::string> profile) {
  std::vector<std::unique_ptr<CredentialsProvider>> providers;
  const bool flag_profile = profile && !trim(*profile).empty();
  if (!flag_profile) providers.push_back(make_env_provider());
  providers.push_back(make_profile_provider(std::move(profile)));
  return CredentialChain(std::move(providers));
}

// --- Settings -----------------------------------------------------------------

Result<AwsConfigSettings> load_aws_config_settings(std::optional<std::string> profile) {
  AwsConfigSettings out;
  out.profile = explicit_profile(profile).value_or("default");
  HFM_ASSIGN_OR_RETURN(auto config_file, load_ini(config_file_path(), AwsFileKind::kConfig));
  const AwsIniSection* section = config_file ? config_file->find(AwsIniSection::Kind::kProfile, out.profile) : nullptr;
  const auto prop = [&](std::string_view key) -> const AwsIniProperty* {
    if (section == nullptr) return nullptr;
    const AwsIniProperty* p = section->get(key);
    return p != nullptr && !p->value.empty() ? p : nullptr;
  };

  if (auto r = env("AWS_REGION")) {
    out.region = std::move(r);
  } else if (auto d = env("AWS_DEFAULT_REGION")) {
    out.region = std::move(d);
  } else if (const auto* p = prop("region")) {
    out.region = p->value;
  }

  if (const auto* p = prop("s3.addressing_style")) {
    const std::string style = lowercase(p->value);
    if (style != "auto" && style != "virtual" && style != "path") {
      return config_error(fmt::format("{}:{}: s3 addressing_style must be auto, virtual or path, not '{}'",
                                      config_file->path, p->line, p->value));
    }
    out.addressing_style = style;
  }

  const bool ignore_endpoints =
      is_true(env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").value_or("")) ||
      (prop("ignore_configured_endpoint_urls") != nullptr && is_true(prop("ignore_configured_endpoint_urls")->value));
  if (ignore_endpoints) return out;
  if (auto e = env("AWS_ENDPOINT_URL_S3")) {
    out.endpoint_url = std::move(e);
    return out;
  }
  if (auto e = env("AWS_ENDPOINT_URL")) {
    out.endpoint_url = std::move(e);
    return out;
  }
  if (const auto* services = prop("services")) {
    const AwsIniSection* s = config_file->find(AwsIniSection::Kind::kServices, services->value);
    if (s == nullptr) {
      return config_error(fmt::format("{}:{}: profile '{}' refers to [services {}], which is not in the file",
                                      config_file->path, services->line, out.profile, services->value));
    }
    if (const auto* e = s->get("s3.endpoint_url"); e != nullptr && !e->value.empty()) {
      out.endpoint_url = e->value;
      return out;
    }
  }
  if (const auto* e = prop("s3.endpoint_url")) {
    out.endpoint_url = e->value;
  } else if (const auto* g = prop("endpoint_url")) {
    out.endpoint_url = g->value;
  }
  return out;
}

}  // namespace hfm::auth
