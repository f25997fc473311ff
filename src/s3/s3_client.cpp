#include "s3/s3_client.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <future>
#include <iterator>
#include <string_view>

#include "auth/sigv4.h"
#include "core/hash.h"
#include "core/log.h"
#include "http/url.h"

namespace hfm::s3 {
namespace {

constexpr const char* kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

bool is_aws(const S3Settings& s) { return s.endpoint.empty(); }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

ErrorCode code_for(int status, const std::string& s3_code) {
  if (s3_code == "AccessDenied" || s3_code == "SignatureDoesNotMatch" || s3_code == "InvalidAccessKeyId" ||
      s3_code == "InvalidToken" || s3_code == "ExpiredToken" || s3_code == "TokenRefreshRequired" ||
      s3_code == "AuthorizationHeaderMalformed" || status == 401 || status == 403) {
    return ErrorCode::kUnauthorized;
  }
  if (s3_code == "NoSuchBucket" || s3_code == "NoSuchKey" || s3_code == "NoSuchUpload" || status == 404) {
    return ErrorCode::kEntryNotFound;
  }
  // Bytes changed or stalled on the way, a busy or failing server: worth another attempt.
  static constexpr std::string_view kTransient[] = {"XAmzContentSHA256Mismatch",
                                                    "BadDigest",
                                                    "IncompleteBody",
                                                    "RequestTimeout",
                                                    "RequestTimeoutException",
                                                    "SlowDown",
                                                    "InternalError",
                                                    "ServiceUnavailable",
                                                    "Throttling",
                                                    "ThrottlingException",
                                                    "RequestLimitExceeded",
                                                    "PriorRequestNotComplete",
                                                    "OperationAborted"};
  if (std::find(std::begin(kTransient), std::end(kTransient), s3_code) != std::end(kTransient)) {
    return ErrorCode::kNetwork;
  }
  return ErrorCode::kHttpStatus;
}

// The server no longer accepts these credentials; new ones (a rotated key, a
// refreshed session) may be waiting in their source.
bool may_be_stale_credentials(const Error& e, const std::string& method) {
  static constexpr std::string_view kCodes[] = {"ExpiredToken", "InvalidToken", "TokenRefreshRequired",
                                                "InvalidAccessKeyId", "SignatureDoesNotMatch"};
  if (std::find(std::begin(kCodes), std::end(kCodes), e.remote_code) != std::end(kCodes)) return true;
  // A HEAD answer has no body to name the reason: a bare 400/403 may be an expired key too.
  return method == "HEAD" && e.remote_code.empty() && (e.http_status == 400 || e.http_status == 403);
}

// Server clock minus ours, for RequestTimeTooSkewed: the <ServerTime> of the
// error body (the server's own word), else the Date header (which a proxy or
// load balancer in between may have stamped).
struct ServerClock {
  std::chrono::seconds skew;
  const char* source;
};
std::optional<ServerClock> server_clock(const http::Response& r) {
  const auto now = std::chrono::system_clock::now();
  if (const auto body = parse_error_body(r.body); body && auth::parse_aws_time(body->server_time)) {
    return ServerClock{auth::clock_skew_from_date_header(body->server_time, now), "ServerTime"};
  }
  if (const auto date = r.headers.get("date"); date && auth::parse_aws_time(*date)) {
    return ServerClock{auth::clock_skew_from_date_header(*date, now), "Date"};
  }
  return std::nullopt;
}

std::string origin_of(const std::string& url) {
  const auto u = http::parse_url(url);
  return u ? u->origin() : redact_url(url);
}

std::string hint_for(const std::string& s3_code) {
  if (s3_code == "SignatureDoesNotMatch")
    return " The secret key does not match the access key: check AWS_SECRET_ACCESS_KEY or the profile.";
  if (s3_code == "InvalidAccessKeyId") return " The access key is unknown to this S3 server.";
  if (s3_code == "AccessDenied") return " The credentials lack permission for this bucket or prefix.";
  if (s3_code == "NoSuchBucket") return " Create the bucket first, or check the name and --s3-endpoint.";
  if (s3_code == "ExpiredToken") return " The session token has expired.";
  return "";
}

}  // namespace

Result<S3Uri> parse_s3_uri(std::string_view uri) {
  if (uri.substr(0, 5) != "s3://") return unexpected(ErrorCode::kUsage, fmt::format("not an s3:// URI: '{}'", uri));
  std::string_view rest = uri.substr(5);
  const size_t slash = rest.find('/');
  S3Uri out;
  out.bucket = std::string(rest.substr(0, slash));
  std::string_view prefix = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  out.prefix = std::string(prefix);
  HFM_TRY(validate_bucket_name(out.bucket));
  if (out.prefix.find("//") != std::string::npos || (!out.prefix.empty() && out.prefix.front() == '/')) {
    return unexpected(ErrorCode::kUsage, fmt::format("the key prefix in '{}' has an empty segment", uri));
  }
  return out;
}

Status validate_bucket_name(std::string_view b) {
  auto bad = [&](std::string_view why) {
    return unexpected(ErrorCode::kUsage, fmt::format("invalid S3 bucket name '{}': {}", b, why));
  };
  if (b.size() < 3 || b.size() > 63) return bad("must be 3 to 63 characters");
  for (char c : b) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
      return bad("only lowercase letters, digits, '.' and '-' are allowed");
  }
  if (!std::isalnum(static_cast<unsigned char>(b.front())) || !std::isalnum(static_cast<unsigned char>(b.back())))
    return bad("must start and end with a letter or digit");
  if (b.find("..") != std::string_view::npos) return bad("must not contain '..'");
  return {};
}

S3Client::S3Client(http::Client& http, auth::CredentialChain& credentials, S3Settings settings)
    : http_(http), credentials_(credentials), settings_(std::move(settings)), jitter_rng_(std::random_device{}()) {
  while (!settings_.endpoint.empty() && settings_.endpoint.back() == '/') settings_.endpoint.pop_back();
}

S3Client::Target S3Client::target(const std::string& bucket, const std::string& key,
                                  const std::vector<std::pair<std::string, std::string>>& query) const {
  std::string origin;
  std::string host;
  std::string path;
  const std::string encoded_key = key.empty() ? "" : auth::uri_encode_s3_path(key);
  const bool path_style = settings_.path_style.value_or(!is_aws(settings_));
  if (is_aws(settings_)) {
    const std::string region = region_for(bucket);
    host =
        path_style ? fmt::format("s3.{}.amazonaws.com", region) : fmt::format("{}.s3.{}.amazonaws.com", bucket, region);
    origin = "https://" + host;
  } else {
    auto url = http::parse_url(settings_.endpoint);
    origin = url ? url->origin() : settings_.endpoint;
    host = origin.substr(origin.find("://") + 3);
    if (!path_style) {
      host = bucket + "." + host;
      origin = url->scheme + "://" + host;
    }
  }
  path = path_style ? "/" + bucket + (key.empty() ? "/" : "/" + encoded_key) : "/" + encoded_key;
  std::string q;
  for (const auto& [k, v] : query) {
    q += q.empty() ? "?" : "&";
    q += auth::uri_encode(k, false) + "=" + auth::uri_encode(v, false);
  }
  return {origin + path + q, host, path};
}

std::string S3Client::region_for(const std::string& bucket) const {
  std::lock_guard<std::mutex> lock(region_mu_);
  const auto it = bucket_regions_.find(bucket);
  return it == bucket_regions_.end() ? settings_.region : it->second;
}

std::string S3Client::object_url(const std::string& bucket, const std::string& key) const {
  return target(bucket, key, {}).url;
}

Error S3Client::error_from(const http::Response& r, const S3Call& call) const {
  const auto body = parse_error_body(r.body);
  const std::string code = body ? body->code : "";
  Error e;
  e.code = code_for(r.status, code);
  e.http_status = r.status;
  e.remote_code = code;
  e.request_id = body && !body->request_id.empty() ? body->request_id
                                                   : std::string(r.headers.get("x-amz-request-id").value_or(""));
  const std::string what =
      call.key.empty() ? fmt::format("s3://{}", call.bucket) : fmt::format("s3://{}/{}", call.bucket, call.key);
  std::string msg = body && !body->message.empty()
                        ? body->message
                        : (code.empty() ? fmt::format("S3 answered HTTP {}", r.status) : code);
  if (!msg.empty() && msg.back() != '.') msg += '.';
  e.message = fmt::format("{} {}: {}{}", call.method, what, msg, hint_for(code));
  if (code == "PermanentRedirect" || r.status == 301) {
    const auto region = r.headers.get("x-amz-bucket-region");
    e.message +=
        fmt::format(" The bucket is in region {}: set --region or AWS_REGION.", region.value_or("another region"));
    e.code = ErrorCode::kConfig;
  }
  return e;
}

void S3Client::send(S3Call call, std::function<void(Result<http::Response>)> done) {
  send_attempt(std::make_shared<S3Call>(std::move(call)), Attempt{}, std::move(done));
}

void S3Client::send_attempt(std::shared_ptr<S3Call> call, Attempt attempt, Done done) {
  auto loaded = credentials_.get();
  if (!loaded) {
    done(unexpected(std::move(loaded.error())));
    return;
  }
  auto creds = std::make_shared<const auth::AwsCredentials>(std::move(*loaded));
  if (call->payload_sha256_hex.empty()) {
    if (call->body_view) {
      call->payload_sha256_hex = sha256_hex({call->body_view->data(), call->body_view->size()});
    } else {
      call->payload_sha256_hex = call->body.empty() ? kEmptySha256 : sha256_hex(call->body);
    }
  }
  const Target t = target(call->bucket, call->key, call->query);
  http::Request req;
  req.method = call->method;
  req.url = t.url;
  req.body = call->body;
  req.body_view = call->body_view;
  req.range = call->range;
  req.on_body = call->on_body;
  req.on_headers = call->on_headers;
  req.on_attempt = call->on_attempt;
  req.log_tag = call->log_tag;
  req.identity_encoding = false;  // S3 does not compress; keep the signed header set minimal
  // Signing happens on the I/O thread right before each attempt.
  req.before_send = [this, call, t, creds](http::Request& r) {
    auth::SigningRequest sr;
    sr.method = call->method;
    sr.host = t.host;
    sr.path = t.canonical_path;
    sr.query = call->query;
    sr.headers = call->headers;
    if (call->range) {
      sr.headers.emplace_back("range", fmt::format("bytes={}-{}", call->range->first, call->range->last));
    }
    sr.payload_sha256_hex = call->payload_sha256_hex;
    const auto now = std::chrono::system_clock::now() + std::chrono::seconds(clock_skew_seconds_.load());
    const auto signed_headers = auth::sign_v4(sr, *creds, region_for(call->bucket), "s3", now);
    r.headers.clear();
    for (const auto& [k, v] : call->headers) r.headers.set(k, v);
    for (const auto& [k, v] : signed_headers.headers_to_add) r.headers.set(k, v);
  };
  http_.submit(std::move(req), [this, call, attempt, creds, done = std::move(done)](Result<http::Response> r) mutable {
    on_answer(std::move(call), attempt, std::move(creds), std::move(r), std::move(done));
  });
}

void S3Client::on_answer(std::shared_ptr<S3Call> call, Attempt attempt,
                         std::shared_ptr<const auth::AwsCredentials> creds, Result<http::Response> result, Done done) {
  const std::string what =
      call->key.empty() ? fmt::format("s3://{}", call->bucket) : fmt::format("s3://{}/{}", call->bucket, call->key);
  if (!result) {
    // Transport failure after the HTTP layer's retries: say which call it was.
    if (result.error().code != ErrorCode::kCancelled) {
      result.error().message = fmt::format("{} {}: {}", call->method, what, result.error().message);
    }
    done(std::move(result));
    return;
  }
  const http::Response& r = *result;
  Error e;
  if (r.status >= 200 && r.status < 300) {
    // CompleteMultipartUpload (and CopyObject) may report failure inside a 200.
    const auto in_200 = call->method == "POST" && !call->on_body ? parse_error_body(r.body) : std::nullopt;
    if (!in_200) {
      done(std::move(result));
      return;
    }
    e = error_from(r, *call);
    e.code = code_for(500, in_200->code);
    // AWS: the operation failed after the status line went out; retry it.
    if (e.code == ErrorCode::kHttpStatus) e.code = ErrorCode::kNetwork;
    e.message = fmt::format("{} {}: {} inside a 200 answer ({})", call->method, what, in_200->code,
                            in_200->message.empty() ? "no message" : in_200->message);
  } else {
    e = error_from(r, *call);
  }
  const int attempts_so_far = attempt.earlier_http_attempts + r.attempts;
  attempt.earlier_http_attempts = attempts_so_far;

  // The bucket lives in another region: AWS says which (header or body); learn it and resend once.
  if (!attempt.region_learnt &&
      (r.status == 301 || e.remote_code == "PermanentRedirect" || e.remote_code == "AuthorizationHeaderMalformed" ||
       e.remote_code == "IllegalLocationConstraintException")) {
    std::string region(r.headers.get("x-amz-bucket-region").value_or(""));
    if (region.empty()) {
      if (auto body = parse_error_body(r.body)) region = body->region;
    }
    if (!region.empty() && region != region_for(call->bucket)) {
      {
        std::lock_guard<std::mutex> lock(region_mu_);
        bucket_regions_[call->bucket] = region;
      }
      log::info("s3.region_redirect bucket={} region={}", call->bucket, region);
      attempt.region_learnt = true;
      resend_after(std::chrono::milliseconds(0), std::move(call), attempt, std::move(done));
      return;
    }
  }
  if (e.remote_code == "RequestTimeTooSkewed" && !attempt.clock_corrected) {
    if (const auto clock = server_clock(r)) {
      clock_skew_seconds_.store(clock->skew.count());
      log::warn("s3.clock_skew seconds={} (correcting with the server's {})", clock->skew.count(), clock->source);
      attempt.clock_corrected = true;
      resend_after(std::chrono::milliseconds(0), std::move(call), attempt, std::move(done));
      return;
    }
  }
  if (!attempt.credentials_replaced && may_be_stale_credentials(e, call->method)) {
    attempt.credentials_replaced = true;
    retry_timer_.after(std::chrono::milliseconds(0),
                       [this, call = std::move(call), attempt, creds = std::move(creds), e = std::move(e),
                        done = std::move(done)](bool cancelled) mutable {
                         if (cancelled) {
                           done(unexpected(std::move(e)));
                           return;
                         }
                         resend_with_new_credentials(std::move(call), attempt, *creds, std::move(e), std::move(done));
                       });
    return;
  }
  // A transient S3 error in an answer whose status the HTTP layer does not
  // retry (400 RequestTimeout, an <Error> in a 200): back off and resend.
  if (e.code == ErrorCode::kNetwork && !http::is_retryable_status(r.status) &&
      attempt.transient_retries + 1 < transient_retry_.max_attempts) {
    attempt.transient_retries++;
    const auto delay =
        transient_delay(attempt.transient_retries, http::server_requested_delay(r, std::chrono::system_clock::now()));
    log::info("s3.retry tag={} url={} status={} code={} attempt={} delay_ms={}", call->log_tag, redact_url(r.url),
              r.status, e.remote_code, attempts_so_far, delay.count());
    resend_after(delay, std::move(call), attempt, std::move(done));
    return;
  }
  if (attempts_so_far > 1) {
    e.message += fmt::format(" Gave up after {} attempts at {}.", attempts_so_far, origin_of(r.url));
  }
  done(unexpected(std::move(e)));
}

void S3Client::resend_after(std::chrono::milliseconds delay, std::shared_ptr<S3Call> call, Attempt attempt, Done done) {
  retry_timer_.after(delay, [this, call = std::move(call), attempt, done = std::move(done)](bool cancelled) mutable {
    if (cancelled) {
      done(unexpected(ErrorCode::kCancelled, "S3 client stopped"));
      return;
    }
    send_attempt(std::move(call), attempt, std::move(done));
  });
}

void S3Client::resend_with_new_credentials(std::shared_ptr<S3Call> call, Attempt attempt,
                                           const auth::AwsCredentials& rejected, Error error, Done done) {
  auto replacement = credentials_.replace_rejected(rejected);
  if (!replacement) {
    log::warn("s3.credentials_reload_failed error=\"{}\"", replacement.error().message);
    done(unexpected(std::move(error)));
    return;
  }
  if (!*replacement) {  // the same credentials again: the server's answer stands
    done(unexpected(std::move(error)));
    return;
  }
  log::info("s3.retry_with_new_credentials tag={} code={} status={}", call->log_tag, error.remote_code,
            error.http_status);
  send_attempt(std::move(call), attempt, std::move(done));
}

std::chrono::milliseconds S3Client::transient_delay(int retry, std::optional<std::chrono::milliseconds> server_delay) {
  std::lock_guard<std::mutex> lock(jitter_mu_);
  return http::backoff_delay(transient_retry_, retry, server_delay, jitter_rng_);
}

Result<http::Response> S3Client::perform(S3Call call) {
  std::promise<Result<http::Response>> p;
  auto f = p.get_future();
  send(std::move(call), [&p](Result<http::Response> r) { p.set_value(std::move(r)); });
  return f.get();
}

namespace {
void add_put_headers(S3Call& call, const PutOptions& o) {
  for (const auto& [k, v] : o.metadata) call.headers.emplace_back("x-amz-meta-" + lower(k), v);
  if (!o.content_type.empty()) call.headers.emplace_back("content-type", o.content_type);
  if (o.crc32c_algorithm) call.headers.emplace_back("x-amz-checksum-algorithm", "CRC32C");
}
}  // namespace

Status S3Client::put_object(const std::string& bucket, const std::string& key, std::span<const char> body,
                            const PutOptions& options) {
  S3Call c;
  c.method = "PUT";
  c.bucket = bucket;
  c.key = key;
  c.body_view = body;
  c.payload_sha256_hex = options.payload_sha256_hex;
  c.log_tag = "s3.put";
  add_put_headers(c, options);
  HFM_ASSIGN_OR_RETURN(auto r, perform(std::move(c)));
  (void)r;
  return {};
}

Result<CreatedUpload> S3Client::create_multipart_upload(const std::string& bucket, const std::string& key,
                                                        const PutOptions& options) {
  S3Call c;
  c.method = "POST";
  c.bucket = bucket;
  c.key = key;
  c.query = {{"uploads", ""}};
  c.log_tag = "s3.create_mpu";
  add_put_headers(c, options);
  HFM_ASSIGN_OR_RETURN(auto r, perform(std::move(c)));
  CreatedUpload created;
  HFM_ASSIGN_OR_RETURN(created.upload_id, parse_initiate_multipart_upload(r.body));
  const auto algo = r.headers.get("x-amz-checksum-algorithm");
  created.crc32c_confirmed = options.crc32c_algorithm && algo && lower(std::string(*algo)) == "crc32c";
  return created;
}

void S3Client::upload_part(const std::string& bucket, const std::string& key, const std::string& upload_id,
                           int part_number, std::span<const char> body, const PartIntegrity& integrity,
                           std::function<void(Result<UploadedPart>)> done) {
  S3Call c;
  c.method = "PUT";
  c.bucket = bucket;
  c.key = key;
  c.query = {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}};
  c.body_view = body;
  if (integrity.crc32c_base64.empty()) {
    c.payload_sha256_hex = integrity.payload_sha256_hex;
  } else {
    c.payload_sha256_hex = "UNSIGNED-PAYLOAD";
    c.headers.emplace_back("x-amz-checksum-crc32c", integrity.crc32c_base64);
  }
  c.log_tag = "s3.upload_part";
  send(std::move(c), [done = std::move(done), part_number, crc = integrity.crc32c_base64,
                      size = body.size()](Result<http::Response> r) {
    if (!r) {
      done(unexpected(std::move(r.error())));
      return;
    }
    auto etag = r->headers.get("etag");
    if (!etag || etag->empty()) {
      done(unexpected(ErrorCode::kProtocol, fmt::format("UploadPart {} answered without an ETag", part_number)));
      return;
    }
    const auto echoed = r->headers.get("x-amz-checksum-crc32c");
    if (!crc.empty() && echoed && *echoed != crc) {
      done(unexpected(ErrorCode::kIntegrity, fmt::format("UploadPart {}: the server stored CRC32C {} but we sent {}",
                                                         part_number, std::string(*echoed), crc)));
      return;
    }
    done(UploadedPart{part_number, size, std::string(*etag), crc});
  });
}

Status S3Client::complete_multipart_upload(const std::string& bucket, const std::string& key,
                                           const std::string& upload_id, const std::vector<UploadedPart>& parts) {
  S3Call c;
  c.method = "POST";
  c.bucket = bucket;
  c.key = key;
  c.query = {{"uploadId", upload_id}};
  c.body = complete_multipart_upload_body(parts);
  c.headers.emplace_back("content-type", "application/xml");
  c.log_tag = "s3.complete_mpu";
  HFM_ASSIGN_OR_RETURN(auto r, perform(std::move(c)));
  (void)r;  // the body's ETag is unreliable (empty on Ceph RGW); HEAD tells the truth
  return {};
}

Status S3Client::abort_multipart_upload(const std::string& bucket, const std::string& key,
                                        const std::string& upload_id) {
  S3Call c;
  c.method = "DELETE";
  c.bucket = bucket;
  c.key = key;
  c.query = {{"uploadId", upload_id}};
  c.log_tag = "s3.abort_mpu";
  auto r = perform(std::move(c));
  if (!r && r.error().code != ErrorCode::kEntryNotFound) return unexpected(std::move(r.error()));
  return {};
}

Result<std::vector<UploadedPart>> S3Client::list_parts(const std::string& bucket, const std::string& key,
                                                       const std::string& upload_id) {
  std::vector<UploadedPart> all;
  std::string marker;
  for (int page = 0; page < 100; ++page) {
    S3Call c;
    c.bucket = bucket;
    c.key = key;
    c.query = {{"uploadId", upload_id}};
    if (!marker.empty()) c.query.emplace_back("part-number-marker", marker);
    c.log_tag = "s3.list_parts";
    HFM_ASSIGN_OR_RETURN(auto r, perform(std::move(c)));
    HFM_ASSIGN_OR_RETURN(auto p, parse_list_parts(r.body));
    all.insert(all.end(), p.parts.begin(), p.parts.end());
    if (!p.truncated) return all;
    if (p.next_part_number_marker.empty() || p.next_part_number_marker == marker)
      return unexpected(ErrorCode::kProtocol, "ListParts pagination does not advance");
    marker = p.next_part_number_marker;
  }
  return unexpected(ErrorCode::kProtocol, "ListParts pagination does not end");
}

Result<std::vector<MultipartUploadEntry>> S3Client::list_multipart_uploads(const std::string& bucket,
                                                                           const std::string& prefix) {
  std::vector<MultipartUploadEntry> all;
  std::string key_marker;
  std::string id_marker;
  for (int page = 0; page < 10'000; ++page) {
    S3Call c;
    c.bucket = bucket;
    c.query = {{"uploads", ""}};
    if (!prefix.empty()) c.query.emplace_back("prefix", prefix);
    if (!key_marker.empty()) c.query.emplace_back("key-marker", key_marker);
    if (!id_marker.empty()) c.query.emplace_back("upload-id-marker", id_marker);
    c.log_tag = "s3.list_mpu";
    HFM_ASSIGN_OR_RETURN(auto r, perform(std::move(c)));
    HFM_ASSIGN_OR_RETURN(auto p, parse_list_multipart_uploads(r.body));
    all.insert(all.end(), p.uploads.begin(), p.uploads.end());
    if (!p.truncated) return all;
    key_marker = p.next_key_marker;
    id_marker = p.next_upload_id_marker;
  }
  return unexpected(ErrorCode::kProtocol, "ListMultipartUploads pagination does not end");
}

Result<std::optional<ObjectInfo>> S3Client::head_object(const std::string& bucket, const std::string& key) {
  S3Call c;
  c.method = "HEAD";
  c.bucket = bucket;
  c.key = key;
  c.log_tag = "s3.head";
  auto r = perform(std::move(c));
  if (!r) {
    if (r.error().code == ErrorCode::kEntryNotFound && r.error().remote_code != "NoSuchBucket") {
      return std::optional<ObjectInfo>{};
    }
    return unexpected(std::move(r.error()));
  }
  ObjectInfo info;
  const auto len = r->headers.get("content-length");
  info.size_bytes = len ? std::stoull(std::string(*len)) : 0;
  info.etag = std::string(r->headers.get("etag").value_or(""));
  for (const auto& [k, v] : r->headers.items()) {
    if (k.rfind("x-amz-meta-", 0) == 0) info.metadata[k.substr(11)] = v;
  }
  return std::optional<ObjectInfo>(std::move(info));
}

Result<std::optional<std::string>> S3Client::get_object(const std::string& bucket, const std::string& key,
                                                        std::optional<http::ByteRange> range) {
  S3Call c;
  c.bucket = bucket;
  c.key = key;
  c.range = range;
  c.log_tag = "s3.get";
  auto r = perform(std::move(c));
  if (!r) {
    if (r.error().remote_code == "NoSuchKey") return std::optional<std::string>{};
    return unexpected(std::move(r.error()));
  }
  return std::optional<std::string>(std::move(r->body));
}

Result<std::vector<ObjectEntry>> S3Client::list_objects_v2(const std::string& bucket, const std::string& prefix) {
  std::vector<ObjectEntry> all;
  std::string token;
  for (int page = 0; page < 1'000'000; ++page) {
    S3Call c;
    c.bucket = bucket;
    c.query = {{"list-type", "2"}};
    if (!prefix.empty()) c.query.emplace_back("prefix", prefix);
    if (!token.empty()) c.query.emplace_back("continuation-token", token);
    c.log_tag = "s3.list";
    HFM_ASSIGN_OR_RETURN(auto r, perform(std::move(c)));
    HFM_ASSIGN_OR_RETURN(auto p, parse_list_objects_v2(r.body));
    all.insert(all.end(), p.objects.begin(), p.objects.end());
    if (!p.truncated) return all;
    token = p.next_continuation_token;
  }
  return unexpected(ErrorCode::kProtocol, "ListObjectsV2 pagination does not end");
}

Status S3Client::delete_objects(const std::string& bucket, const std::vector<std::string>& keys) {
  for (size_t i = 0; i < keys.size(); i += 1000) {
    const std::vector<std::string> batch(keys.begin() + static_cast<std::ptrdiff_t>(i),
                                         keys.begin() + static_cast<std::ptrdiff_t>(std::min(keys.size(), i + 1000)));
    S3Call c;
    c.method = "POST";
    c.bucket = bucket;
    c.query = {{"delete", ""}};
    c.body = delete_objects_body(batch);
    // DeleteObjects requires a body checksum header.
    const std::string md5 = md5_base64(c.body);
    c.headers.emplace_back("content-md5", md5);
    c.headers.emplace_back("content-type", "application/xml");
    c.log_tag = "s3.delete";
    HFM_ASSIGN_OR_RETURN(auto r, perform(std::move(c)));
    HFM_ASSIGN_OR_RETURN(auto result, parse_delete_result(r.body));
    if (!result.errors.empty()) {
      return unexpected(ErrorCode::kHttpStatus,
                        fmt::format("DeleteObjects could not delete {} ({}), and {} more", result.errors[0].first,
                                    result.errors[0].second, result.errors.size() - 1));
    }
  }
  return {};
}

}  // namespace hfm::s3
