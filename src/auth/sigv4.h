// AWS Signature Version 4 for S3 (header auth and presigned GET URLs).
//
// Pure: no I/O, no clock reads (the signing time is a parameter), no logging.
// S3 rules, not the generic SigV4 ones: the request path is put into the
// canonical request exactly as it goes on the wire (already encoded once per
// segment, no second encoding, no '//' or '.' normalisation); query names and
// values are encoded with the strict RFC 3986 unreserved set and sorted;
// header names are lowercased and sorted, values trimmed with inner
// whitespace runs collapsed, repeated headers joined with ','.
// libcurl 7.88's CURLOPT_AWS_SIGV4 gets several of these wrong for S3, hence
// this file (docs: shared/reference/s3-aws.md §1, §6.7).
//
// Does not do: aws-chunked streaming signatures, SigV4a, S3 Express sessions.
#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/secret.h"

namespace hfm::auth {

// SHA-256 of the empty string: the payload hash of GET/HEAD/DELETE.
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

struct AwsCredentials {
  std::string access_key_id;
  Secret secret_access_key;
  std::optional<Secret> session_token;
  std::optional<std::chrono::system_clock::time_point> expiration;  // nullopt: does not expire
  std::string provider;                                             // "env", "profile:<name>", … (for logs)
};

struct SigningRequest {
  std::string method;  // "GET", "PUT", …
  std::string host;    // Host header value as sent (with :port when non-default)
  // Already URI-encoded path exactly as it goes on the request line (see
  // uri_encode_s3_path); empty means "/".
  std::string path;
  // Decoded name/value pairs; the signer encodes and sorts them. A valueless
  // parameter ("?uploads") is {"uploads", ""}.
  std::vector<std::pair<std::string, std::string>> query;
  // Headers to sign besides host, x-amz-date, x-amz-content-sha256 and
  // x-amz-security-token (which the signer owns; caller copies of those are
  // ignored). E.g. content-md5, content-type, range, x-amz-checksum-*,
  // x-amz-meta-*. Hop-by-hop headers (user-agent, expect, connection,
  // transfer-encoding, …) are never signed, as in botocore.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_sha256_hex;  // lowercase hex, or "UNSIGNED-PAYLOAD"; empty means the empty-body hash
};

struct SignedHeaders {
  // Authorization, x-amz-date, x-amz-content-sha256, [x-amz-security-token]:
  // add these to the request as is (the caller sends its own headers too).
  std::vector<std::pair<std::string, std::string>> headers_to_add;
  // For tests and debugging; never log raw (the token is in there).
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;  // lowercase hex
};

SignedHeaders sign_v4(const SigningRequest& request, const AwsCredentials& credentials, std::string_view region,
                      std::string_view service, std::chrono::system_clock::time_point now);

// Query-string authentication (a presigned URL): returns
// "<scheme>://<host><path>?<query>&X-Amz-Signature=…". request.headers are
// signed along with host (the user of the URL must send them). The payload
// line is request.payload_sha256_hex, or UNSIGNED-PAYLOAD when empty (S3).
// expires is clamped to 1 s … 7 days (S3's limit).
std::string presign_url(const SigningRequest& request, const AwsCredentials& credentials, std::string_view region,
                        std::string_view service, std::chrono::system_clock::time_point now,
                        std::chrono::seconds expires, std::string_view scheme = "https");

// RFC 3986 percent-encoding as SigV4 wants it: A-Z a-z 0-9 - _ . ~ kept,
// every other byte (UTF-8 included) as %XX with uppercase hex; '/' kept when
// keep_slash. Space is %20, never '+'.
std::string uri_encode(std::string_view s, bool keep_slash);

// Encodes an S3 key (or "bucket/key") once per segment for both the request
// line and the canonical URI: '/' kept, everything else as uri_encode. No
// normalisation: "a//b", "./x" stay literal. The caller adds the leading '/'.
std::string uri_encode_s3_path(std::string_view decoded_key_path);

// The canonical query string: each name and value uri_encode'd (slashes
// too), sorted by encoded name then value, "name=value" joined with '&'
// (valueless parameters keep their '='). Valid on the wire as well.
std::string canonical_query_string(const std::vector<std::pair<std::string, std::string>>& query);

// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, yyyymmdd), region), service), "aws4_request").
std::array<unsigned char, 32> derive_signing_key(std::string_view secret_access_key, std::string_view yyyymmdd,
                                                 std::string_view region, std::string_view service);

// "20130524T000000Z" (UTC, whole seconds).
std::string format_amz_date(std::chrono::system_clock::time_point t);

// Parses the time formats AWS hands out: an HTTP date ("Fri, 24 May 2013
// 00:00:00 GMT"), ISO 8601 ("2013-05-24T00:00:00Z", fractional seconds and a
// ±hh:mm offset allowed) and the SigV4 basic form ("20130524T000000Z").
// nullopt also for a time system_clock cannot hold (with libstdc++, before
// 1678 or after 2262): such a date is refused, not overflowed.
std::optional<std::chrono::system_clock::time_point> parse_aws_time(std::string_view text);

// Server clock minus local clock, from a response's Date (or x-amz-date)
// header, for correcting RequestTimeTooSkewed: the caller keeps the offset
// and signs with now + offset. Zero when the header does not parse.
std::chrono::seconds clock_skew_from_date_header(std::string_view http_date,
                                                 std::chrono::system_clock::time_point local_now);

}  // namespace hfm::auth
