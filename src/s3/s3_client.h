// S3Client: one method per S3 operation, named after the wire, on top of the
// shared http::Client. Requests are signed with our SigV4 signer just before
// each attempt (so retries are signed afresh), with the server's clock when
// it said RequestTimeTooSkewed. Error bodies become distinct Errors; an
// <Error> inside a 200 (CompleteMultipartUpload) is an error too.
//
// On top of the HTTP layer's retries (transport errors, 408/429/5xx), a call
// is sent again when only the S3 error code says it may work now: a transient
// code in a 400 or inside a 200 (RequestTimeout, InternalError…; backoff, up
// to the same attempt limit), a bucket in another region, a skewed clock, and
// credentials the server no longer accepts (ExpiredToken, InvalidAccessKeyId…)
// when re-reading them yields new ones — once each per call.
//
// Not here: what to upload (store/s3), retry policy (http), credentials
// discovery (auth).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "auth/aws_credentials.h"
#include "core/result.h"
#include "http/client.h"
#include "http/retry.h"
#include "s3/xml.h"

namespace hfm::s3 {

// How each uploaded part is protected on its way to the server.
//   sha256: the SigV4 signed payload hash; every S3 server checks it. A second
//           full sha256 pass next to the whole-file hash (0.78 CPU s/GiB here).
//   crc32c: UNSIGNED-PAYLOAD + x-amz-checksum-crc32c (0.15 CPU s/GiB); checked
//           by servers with flexible checksums (AWS S3), ignored by older ones.
//   auto:   crc32c where CreateMultipartUpload confirms the algorithm, else sha256.
enum class PartChecksum { kAuto, kSha256, kCrc32c };

struct S3Settings {
  std::string endpoint;  // origin of an S3-compatible server; empty = AWS
  std::string region = "us-east-1";
  std::optional<bool> path_style;  // default: path-style for custom endpoints, virtual-hosted on AWS
  PartChecksum part_checksum = PartChecksum::kAuto;
};

// The integrity of one UploadPart: exactly one of the two is set.
struct PartIntegrity {
  std::string payload_sha256_hex;  // signed payload
  std::string crc32c_base64;       // UNSIGNED-PAYLOAD + x-amz-checksum-crc32c
};

struct CreatedUpload {
  std::string upload_id;
  bool crc32c_confirmed = false;  // the server echoed x-amz-checksum-algorithm: CRC32C
};

struct ObjectInfo {
  uint64_t size_bytes = 0;
  std::string etag;
  std::map<std::string, std::string> metadata;  // x-amz-meta-* without the prefix, lowercased names
};

struct PutOptions {
  std::string payload_sha256_hex;                             // computed when empty
  std::vector<std::pair<std::string, std::string>> metadata;  // x-amz-meta-<name>: value
  std::string content_type;
  bool crc32c_algorithm = false;  // CreateMultipartUpload: ask for per-part CRC32C
};

// One call on the wire.
struct S3Call {
  std::string method = "GET";
  std::string bucket;
  std::string key;                                           // decoded; empty for bucket-level calls
  std::vector<std::pair<std::string, std::string>> query;    // decoded
  std::vector<std::pair<std::string, std::string>> headers;  // signed
  std::string body;
  std::optional<std::span<const char>> body_view;
  std::string payload_sha256_hex;  // of the body; computed when empty
  std::optional<http::ByteRange> range;
  std::function<bool(std::span<const char>)> on_body;
  std::function<bool(const http::Response&)> on_headers;
  std::function<void()> on_attempt;
  std::string log_tag = "s3";
};

class S3Client {
 public:
  S3Client(http::Client& http, auth::CredentialChain& credentials, S3Settings settings);

  const S3Settings& settings() const { return settings_; }
  // "http://127.0.0.1:7480/bucket/key" or "https://bucket.s3.us-west-2.amazonaws.com/key" (for messages).
  std::string object_url(const std::string& bucket, const std::string& key) const;

  // Async primitive: signs, sends, maps S3 errors (done runs on the I/O thread).
  void send(S3Call call, std::function<void(Result<http::Response>)> done);
  Result<http::Response> perform(S3Call call);

  Status put_object(const std::string& bucket, const std::string& key, std::span<const char> body,
                    const PutOptions& options);
  Result<CreatedUpload> create_multipart_upload(const std::string& bucket, const std::string& key,
                                                const PutOptions& options);
  // The integrity value is the per-part check: the server rejects a part whose
  // bytes do not match it. An echoed CRC32C that differs from ours fails too.
  void upload_part(const std::string& bucket, const std::string& key, const std::string& upload_id, int part_number,
                   std::span<const char> body, const PartIntegrity& integrity,
                   std::function<void(Result<UploadedPart>)> done);
  Status complete_multipart_upload(const std::string& bucket, const std::string& key, const std::string& upload_id,
                                   const std::vector<UploadedPart>& parts);
  Status abort_multipart_upload(const std::string& bucket, const std::string& key, const std::string& upload_id);
  Result<std::vector<UploadedPart>> list_parts(const std::string& bucket, const std::string& key,
                                               const std::string& upload_id);
  Result<std::vector<MultipartUploadEntry>> list_multipart_uploads(const std::string& bucket,
                                                                   const std::string& prefix);
  Result<std::optional<ObjectInfo>> head_object(const std::string& bucket, const std::string& key);
  // Whole small object (or a range); nullopt when it does not exist.
  Result<std::optional<std::string>> get_object(const std::string& bucket, const std::string& key,
                                                std::optional<http::ByteRange> range = std::nullopt);
  Result<std::vector<ObjectEntry>> list_objects_v2(const std::string& bucket, const std::string& prefix);
  // Batches of 1,000; fails if any key could not be deleted.
  Status delete_objects(const std::string& bucket, const std::vector<std::string>& keys);

 private:
  struct Target {
    std::string url;
    std::string host;  // Host header as curl sends it
    std::string canonical_path;
  };
  Target target(const std::string& bucket, const std::string& key,
                const std::vector<std::pair<std::string, std::string>>& query) const;
  using Done = std::function<void(Result<http::Response>)>;
  // What one call has tried beyond the HTTP layer's own retries.
  struct Attempt {
    int transient_retries = 0;      // S3 error codes the HTTP layer cannot see (400 RequestTimeout, <Error> in a 200)
    int earlier_http_attempts = 0;  // requests sent before this one, for messages
    bool region_learnt = false;
    bool clock_corrected = false;
    bool credentials_replaced = false;
  };

  Error error_from(const http::Response& r, const S3Call& call) const;
  std::string region_for(const std::string& bucket) const;
  void send_attempt(std::shared_ptr<S3Call> call, Attempt attempt, Done done);
  // Runs on the I/O thread; decides whether the call goes out again.
  void on_answer(std::shared_ptr<S3Call> call, Attempt attempt, std::shared_ptr<const auth::AwsCredentials> creds,
                 Result<http::Response> result, Done done);
  // Sends again from the retry timer's thread, so the I/O thread never waits
  // and credentials are (re)loaded off it.
  void resend_after(std::chrono::milliseconds delay, std::shared_ptr<S3Call> call, Attempt attempt, Done done);
  // On the retry timer's thread too: re-reading credentials reads files.
  void resend_with_new_credentials(std::shared_ptr<S3Call> call, Attempt attempt, const auth::AwsCredentials& rejected,
                                   Error error, Done done);
  std::chrono::milliseconds transient_delay(int retry, std::optional<std::chrono::milliseconds> server_delay);

  http::Client& http_;
  auth::CredentialChain& credentials_;
  S3Settings settings_;
  std::atomic<int64_t> clock_skew_seconds_{0};  // server time minus ours
  mutable std::mutex region_mu_;
  std::map<std::string, std::string> bucket_regions_;  // learnt from region redirects
  const http::RetrySettings transient_retry_;          // the HTTP layer's defaults: attempts, backoff
  std::mutex jitter_mu_;
  std::mt19937_64 jitter_rng_;    // guarded by jitter_mu_
  http::RetryTimer retry_timer_;  // last: its thread is joined before the members above go
};

// "s3://bucket/prefix/" -> bucket, prefix (without leading/trailing '/').
struct S3Uri {
  std::string bucket;
  std::string prefix;
};
Result<S3Uri> parse_s3_uri(std::string_view uri);
// Bucket naming rules (3-63 chars, lowercase letters, digits, '.', '-').
Status validate_bucket_name(std::string_view bucket);

}  // namespace hfm::s3
