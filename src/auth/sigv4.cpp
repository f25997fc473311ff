#include "auth/sigv4.h"

#include "core/percent_encoding.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <span>

#include "core/hash.h"

namespace hfm::auth {
namespace {

using Digest = std::array<unsigned char, 32>;
using std::chrono::system_clock;

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

Digest hmac_sha256(std::span<const unsigned char> key, std::string_view message) {
  Digest out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), out.data(), &len);
  return out;
}

std::span<const unsigned char> bytes_of(std::string_view s) {
  return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trim both ends and collapse inner whitespace runs to one space (SigV4 "Trimall").
std::string trimall(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool pending_space = false;
  for (char c : v) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

// The signer owns these; a caller's copy is dropped rather than signed twice.
bool owned_by_signer(std::string_view name) {
  return name == "host" || name == "x-amz-date" || name == "x-amz-content-sha256" || name == "x-amz-security-token" ||
         name == "authorization";
}

// Never signed: a proxy or the HTTP client may add or rewrite them after
// signing (botocore's SIGNED_HEADERS_BLACKLIST; aws-c-auth skips the same).
bool never_signed(std::string_view name) {
  static constexpr std::string_view kSkipped[] = {
      "connection", "expect",  "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
      "trailer",    "upgrade", "user-agent", "transfer-encoding",  "x-amzn-trace-id",
  };
  return std::find(std::begin(kSkipped), std::end(kSkipped), name) != std::end(kSkipped);
}

struct CanonicalHeaders {
  std::string block;    // "name:value\n" per header
  std::string signed_;  // "a;b;c"
};

CanonicalHeaders canonical_headers(std::vector<std::pair<std::string, std::string>> headers) {
  std::stable_sort(headers.begin(), headers.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  CanonicalHeaders out;
  for (size_t i = 0; i < headers.size(); ++i) {
    const auto& [name, value] = headers[i];
    if (i > 0 && headers[i - 1].first == name) {
      out.block.back() = ',';  // repeated header: one line, values in original order
      out.block += value;
      out.block += '\n';
      continue;
    }
    out.block += name;
    out.block += ':';
    out.block += value;
    out.block += '\n';
    if (!out.signed_.empty()) out.signed_ += ';';
    out.signed_ += name;
  }
  return out;
}

std::string date_stamp(std::string_view amz_date) { return std::string(amz_date.substr(0, 8)); }

std::string credential_scope(std::string_view amz_date, std::string_view region, std::string_view service) {
  return fmt::format("{}/{}/{}/aws4_request", date_stamp(amz_date), region, service);
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope, std::string_view canonical_request) {
  return fmt::format("{}\n{}\n{}\n{}", kAlgorithm, amz_date, scope, sha256_hex(canonical_request));
}

std::string signature_hex(const AwsCredentials& creds, std::string_view amz_date, std::string_view region,
                          std::string_view service, std::string_view sts) {
  const Digest key = derive_signing_key(creds.secret_access_key.reveal(), date_stamp(amz_date), region, service);
  const Digest sig = hmac_sha256(key, sts);
  return to_hex(sig);
}

// Signs the caller's headers plus host and the extra signer-owned ones.
std::vector<std::pair<std::string, std::string>> headers_to_sign(
    const SigningRequest& req, std::vector<std::pair<std::string, std::string>> owned) {
  owned.emplace_back("host", trimall(req.host));
  for (const auto& [name, value] : req.headers) {
    std::string lname = lowercase(trimall(name));
    if (lname.empty() || owned_by_signer(lname) || never_signed(lname)) continue;
    owned.emplace_back(std::move(lname), trimall(value));
  }
  return owned;
}

std::string canonical_request(std::string_view method, std::string_view path, std::string_view query,
                              const CanonicalHeaders& headers, std::string_view payload) {
  return fmt::format("{}\n{}\n{}\n{}\n{}\n{}", method, path.empty() ? "/" : path, query, headers.block, headers.signed_,
                     payload);
}

// Two digits at s[i], or -1.
int two_digits(std::string_view s, size_t i) {
  if (i + 2 > s.size() || !std::isdigit(static_cast<unsigned char>(s[i])) ||
      !std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
    return -1;
  }
  return (s[i] - '0') * 10 + (s[i + 1] - '0');
}

int n_digits(std::string_view s, size_t i, size_t n) {
  if (i + n > s.size()) return -1;
  int v = 0;
  for (size_t k = i; k < i + n; ++k) {
    if (!std::isdigit(static_cast<unsigned char>(s[k]))) return -1;
    v = v * 10 + (s[k] - '0');
  }
  return v;
}

// In whole seconds, which hold any year 0000-9999; see to_time_point.
std::optional<std::chrono::sys_seconds> make_time(int y, int mo, int d, int h, int mi, int sec) {
  using namespace std::chrono;
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60) {
    return std::nullopt;
  }
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return sys_days(ymd) + hours(h) + minutes(mi) + seconds(sec);
}

// system_clock counts nanoseconds in 64 bits (years 1678-2262 with
// libstdc++): a time outside that is refused rather than overflowed.
std::optional<system_clock::time_point> to_time_point(std::optional<std::chrono::sys_seconds> t) {
  using namespace std::chrono;
  if (!t) return std::nullopt;
  const seconds since_epoch = t->time_since_epoch();
  if (since_epoch < ceil<seconds>(system_clock::duration::min()) ||
      since_epoch > floor<seconds>(system_clock::duration::max())) {
    return std::nullopt;
  }
  return system_clock::time_point(since_epoch);
}

// "Fri, 24 May 2013 00:00:00 GMT" (IMF-fixdate; the weekday is not checked).
std::optional<std::chrono::sys_seconds> parse_imf_fixdate(std::string_view s) {
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const size_t comma = s.find(", ");
  if (comma == std::string_view::npos) return std::nullopt;
  s.remove_prefix(comma + 2);
  // "24 May 2013 00:00:00 GMT"
  if (s.size() != 24 || s[2] != ' ' || s[6] != ' ' || s[11] != ' ' || s[14] != ':' || s[17] != ':' ||
      s.substr(20) != " GMT") {
    return std::nullopt;
  }
  int month = 0;
  for (int m = 0; m < 12; ++m) {
    if (s.substr(3, 3) == kMonths[m]) month = m + 1;
  }
  if (month == 0) return std::nullopt;
  return make_time(n_digits(s, 7, 4), month, two_digits(s, 0), two_digits(s, 12), two_digits(s, 15), two_digits(s, 18));
}

// "2013-05-24T00:00:00Z", "2013-05-24T00:00:00.123Z", "2013-05-24T02:00:00+02:00".
std::optional<std::chrono::sys_seconds> parse_iso8601(std::string_view s) {
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  auto t = make_time(n_digits(s, 0, 4), two_digits(s, 5), two_digits(s, 8), two_digits(s, 11), two_digits(s, 14),
                     two_digits(s, 17));
  if (!t) return std::nullopt;
  std::string_view rest = s.substr(19);
  if (!rest.empty() && rest.front() == '.') {  // fractional seconds: dropped
    rest.remove_prefix(1);
    size_t n = 0;
    while (n < rest.size() && std::isdigit(static_cast<unsigned char>(rest[n]))) ++n;
    if (n == 0) return std::nullopt;
    rest.remove_prefix(n);
  }
  if (rest == "Z" || rest == "z") return t;
  if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    const int oh = two_digits(rest, 1);
    const int om = two_digits(rest, 4);
    if (oh < 0 || om < 0) return std::nullopt;
    const auto offset = std::chrono::hours(oh) + std::chrono::minutes(om);
    return rest[0] == '+' ? *t - offset : *t + offset;
  }
  return std::nullopt;
}

// "20130524T000000Z".
std::optional<std::chrono::sys_seconds> parse_basic(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  return make_time(n_digits(s, 0, 4), two_digits(s, 4), two_digits(s, 6), two_digits(s, 9), two_digits(s, 11),
                   two_digits(s, 13));
}

}  // namespace

std::string uri_encode(std::string_view s, bool keep_slash) { return percent_encode(s, keep_slash ? "/" : ""); }

std::string uri_encode_s3_path(std::string_view decoded_key_path) { return uri_encode(decoded_key_path, true); }

std::string canonical_query_string(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) encoded.emplace_back(uri_encode(name, false), uri_encode(value, false));
  std::sort(encoded.begin(), encoded.end());  // byte order of the encoded name, then value
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

std::array<unsigned char, 32> derive_signing_key(std::string_view secret_access_key, std::string_view yyyymmdd,
                                                 std::string_view region, std::string_view service) {
  const std::string k_secret = "AWS4" + std::string(secret_access_key);
  const Digest k_date = hmac_sha256(bytes_of(k_secret), yyyymmdd);
  const Digest k_region = hmac_sha256(k_date, region);
  const Digest k_service = hmac_sha256(k_region, service);
  return hmac_sha256(k_service, "aws4_request");
}

std::string format_amz_date(system_clock::time_point t) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(t);
  const auto day_start = floor<days>(secs);
  const year_month_day ymd{day_start};
  const hh_mm_ss hms{secs - day_start};
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
                     hms.minutes().count(), hms.seconds().count());
}

SignedHeaders sign_v4(const SigningRequest& request, const AwsCredentials& credentials, std::string_view region,
                      std::string_view service, system_clock::time_point now) {
  const std::string amz_date = format_amz_date(now);
  const std::string payload =
      request.payload_sha256_hex.empty() ? std::string(kEmptyPayloadSha256) : request.payload_sha256_hex;

  std::vector<std::pair<std::string, std::string>> owned = {{"x-amz-content-sha256", payload},
                                                            {"x-amz-date", amz_date}};
  if (credentials.session_token) owned.emplace_back("x-amz-security-token", credentials.session_token->reveal());
  const CanonicalHeaders headers = canonical_headers(headers_to_sign(request, owned));

  SignedHeaders out;
  out.canonical_request =
      canonical_request(request.method, request.path, canonical_query_string(request.query), headers, payload);
  const std::string scope = credential_scope(amz_date, region, service);
  out.string_to_sign = string_to_sign(amz_date, scope, out.canonical_request);
  out.signature = signature_hex(credentials, amz_date, region, service, out.string_to_sign);

  out.headers_to_add.emplace_back("Authorization",
                                  fmt::format("{} Credential={}/{}, SignedHeaders={}, Signature={}", kAlgorithm,
                                              credentials.access_key_id, scope, headers.signed_, out.signature));
  out.headers_to_add.emplace_back("x-amz-date", amz_date);
  out.headers_to_add.emplace_back("x-amz-content-sha256", payload);
  if (credentials.session_token) {
    out.headers_to_add.emplace_back("x-amz-security-token", credentials.session_token->reveal());
  }
  return out;
}

std::string presign_url(const SigningRequest& request, const AwsCredentials& credentials, std::string_view region,
                        std::string_view service, system_clock::time_point now, std::chrono::seconds expires,
                        std::string_view scheme) {
  const std::string amz_date = format_amz_date(now);
  const std::string scope = credential_scope(amz_date, region, service);
  const std::string payload =
      request.payload_sha256_hex.empty() ? std::string(kUnsignedPayload) : request.payload_sha256_hex;
  const CanonicalHeaders headers = canonical_headers(headers_to_sign(request, {}));
  const auto expires_s = std::clamp<std::chrono::seconds::rep>(expires.count(), 1, 604800);

  auto query = request.query;
  query.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
  query.emplace_back("X-Amz-Credential", credentials.access_key_id + "/" + scope);
  query.emplace_back("X-Amz-Date", amz_date);
  query.emplace_back("X-Amz-Expires", std::to_string(expires_s));
  if (credentials.session_token) query.emplace_back("X-Amz-Security-Token", credentials.session_token->reveal());
  query.emplace_back("X-Amz-SignedHeaders", headers.signed_);
  const std::string canonical_query = canonical_query_string(query);

  const std::string creq = canonical_request(request.method, request.path, canonical_query, headers, payload);
  const std::string sts = string_to_sign(amz_date, scope, creq);
  const std::string signature = signature_hex(credentials, amz_date, region, service, sts);
  return fmt::format("{}://{}{}?{}&X-Amz-Signature={}", scheme, request.host, request.path.empty() ? "/" : request.path,
                     canonical_query, signature);
}

std::optional<system_clock::time_point> parse_aws_time(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  if (auto t = parse_imf_fixdate(text)) return to_time_point(t);
  if (auto t = parse_iso8601(text)) return to_time_point(t);
  return to_time_point(parse_basic(text));
}

std::chrono::seconds clock_skew_from_date_header(std::string_view http_date, system_clock::time_point local_now) {
  const auto server = parse_aws_time(http_date);
  if (!server) return std::chrono::seconds(0);
  // In seconds: nanoseconds overflow between a Date near year 1678 and now.
  using std::chrono::floor;
  return floor<std::chrono::seconds>(*server) - floor<std::chrono::seconds>(local_now);
}

}  // namespace hfm::auth
