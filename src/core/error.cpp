#include "core/error.h"

#include <fmt/format.h>

#include "core/secret.h"

namespace hfm {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUsage:
      return "usage";
    case ErrorCode::kConfig:
      return "config";
    case ErrorCode::kRepoNotFound:
      return "repo_not_found";
    case ErrorCode::kRevisionNotFound:
      return "revision_not_found";
    case ErrorCode::kEntryNotFound:
      return "entry_not_found";
    case ErrorCode::kGated:
      return "gated";
    case ErrorCode::kUnauthorized:
      return "unauthorized";
    case ErrorCode::kRateLimited:
      return "rate_limited";
    case ErrorCode::kHttpStatus:
      return "http_status";
    case ErrorCode::kNetwork:
      return "network";
    case ErrorCode::kTimeout:
      return "timeout";
    case ErrorCode::kProtocol:
      return "protocol";
    case ErrorCode::kUnsafePath:
      return "unsafe_path";
    case ErrorCode::kIntegrity:
      return "integrity";
    case ErrorCode::kIo:
      return "io";
    case ErrorCode::kCancelled:
      return "cancelled";
    case ErrorCode::kBusy:
      return "busy";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "unknown";
}

bool Error::retryable() const {
  switch (code) {
    case ErrorCode::kNetwork:
    case ErrorCode::kTimeout:
    case ErrorCode::kRateLimited:
      return true;
    case ErrorCode::kHttpStatus:
      return http_status == 408 || http_status == 429 || http_status >= 500;
    default:
      return false;
  }
}

std::string Error::describe() const {
  std::string out = message;
  std::string detail;
  auto add = [&detail](const std::string& part) {
    if (!detail.empty()) detail += ", ";
    detail += part;
  };
  if (http_status != 0) add(fmt::format("HTTP {}", http_status));
  if (!remote_code.empty()) add(remote_code);
  if (!request_id.empty()) add("request id " + request_id);
  if (!detail.empty()) out += " (" + detail + ")";
  // The last line of defence for what reaches stderr and --json: a URL in a
  // message never shows a signature, a session token or a password.
  return redact_url(out);
}

Error make_error(ErrorCode code, std::string message) {
  Error e;
  e.code = code;
  e.message = std::move(message);
  return e;
}

ExitCode exit_code_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUsage:
    case ErrorCode::kConfig:
      return ExitCode::kUsage;
    case ErrorCode::kRepoNotFound:
    case ErrorCode::kRevisionNotFound:
    case ErrorCode::kEntryNotFound:
    case ErrorCode::kGated:
    case ErrorCode::kUnauthorized:
      return ExitCode::kNotFound;
    case ErrorCode::kIntegrity:
      return ExitCode::kIntegrity;
    case ErrorCode::kCancelled:
      return ExitCode::kInterrupted;
    case ErrorCode::kBusy:
      return ExitCode::kBusy;
    default:
      return ExitCode::kFailure;
  }
}

}  // namespace hfm
