// Secret: a string that never prints. Formatting or logging one yields "***";
// the raw value is reachable only through reveal(), at the point of use.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace hfm {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  bool empty() const { return value_.empty(); }
  const std::string& reveal() const { return value_; }

 private:
  std::string value_;
};

// Replaces the values of presigned query parameters (X-Amz-Signature,
// Signature, X-Amz-Credential, Policy, Key-Pair-Id, X-Amz-Security-Token,
// token) and the password of URL userinfo ("https://user:***@host"; a lone
// user part is masked whole, it is usually a token) with "***". Works on a URL
// or on a message that holds URLs anywhere in it, so it is used on every URL
// or message that might carry one before it is logged or printed.
std::string redact_url(std::string_view url);

}  // namespace hfm

template <>
struct fmt::formatter<hfm::Secret> : fmt::formatter<std::string_view> {
  auto format(const hfm::Secret&, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format("***", ctx);
  }
};
