// Error values shared by every layer. Nothing throws across layers: functions
// return Result<T>, and the ErrorCode alone decides whether a retry may help and
// which exit code the CLI uses.
#pragma once

#include <string>
#include <string_view>

namespace hfm {

enum class ErrorCode {
  kUsage,             // bad flags or arguments
  kConfig,            // invalid config file or setting
  kRepoNotFound,      // repo missing, or hidden from this token (Hub answers 401)
  kRevisionNotFound,  // branch/tag/sha unknown
  kEntryNotFound,     // file missing at the commit
  kGated,             // gated repo: no token, or token without a grant
  kUnauthorized,      // token rejected or access forbidden
  kRateLimited,       // 429 after the retry budget
  kHttpStatus,        // other unexpected HTTP status
  kNetwork,           // connect/reset/DNS/TLS
  kTimeout,           // stalled or slow transfer
  kProtocol,          // malformed response (JSON, headers, sizes)
  kUnsafePath,        // repo path that would escape the destination
  kIntegrity,         // bytes do not match the content id
  kIo,                // local filesystem
  kCancelled,         // stopped by signal or by a sibling failure
  kBusy,              // another live run holds the destination's lock
  kInternal,
};

std::string_view to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;      // user-facing, never contains secrets
  int http_status = 0;      // 0 when not an HTTP answer
  std::string remote_code;  // X-Error-Code or S3 <Code>
  std::string request_id;   // X-Request-Id / x-amz-request-id

  // A retry may succeed for these; everything else is final.
  bool retryable() const;
  // "message (HTTP 404, RepoNotFound, request id …)"
  std::string describe() const;
};

Error make_error(ErrorCode code, std::string message);

// Process exit codes, documented in the README.
enum class ExitCode : int {
  kSuccess = 0,
  kFailure = 1,        // anything else (network, I/O, internal)
  kUsage = 2,          // usage or config error
  kNotFound = 3,       // repo/revision/file not found, not authorised, gated
  kIntegrity = 4,      // verification failed
  kBusy = 5,           // another run is changing the same destination: nothing was done
  kInterrupted = 130,  // SIGINT/SIGTERM: state left resumable
};

ExitCode exit_code_for(ErrorCode code);

}  // namespace hfm
