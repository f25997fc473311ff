#include "core/secret.h"

#include <array>
#include <cctype>

namespace hfm {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

constexpr std::array<std::string_view, 7> kSecretParams = {
    "x-amz-signature", "signature", "x-amz-credential", "policy", "key-pair-id", "x-amz-security-token", "token"};

}  // namespace

std::string redact_url(std::string_view url) {
  const size_t q = url.find('?');
  if (q == std::string_view::npos) return std::string(url);
  std::string out(url.substr(0, q + 1));
  std::string_view query = url.substr(q + 1);
  bool first = true;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (!first) out += '&';
    first = false;
    const size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    bool secret = false;
    for (auto name : kSecretParams) secret = secret || iequals(key, name);
    if (secret && eq != std::string_view::npos) {
      out.append(key);
      out += "=***";
    } else {
      out.append(pair);
    }
  }
  return out;
}

}  // namespace hfm
