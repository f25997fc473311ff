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

// Where a query value (or a userinfo part) ends inside a message: none of
// these occur in signatures (hex, base64, CloudFront's -_~) or tokens.
bool ends_value(char c) {
  return c == '&' || c == '#' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\'' || c == '<' ||
         c == '>' || c == ')' || c == ']' || c == ',' || c == ';';
}

bool is_secret_param(std::string_view key) {
  for (auto name : kSecretParams) {
    if (iequals(key, name)) return true;
  }
  return false;
}

// "scheme://user:password@host" -> "scheme://user:***@host"; "scheme://token@host" -> "scheme://***@host".
std::string redact_userinfo(std::string_view text) {
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t sep = text.find("://", pos);
    if (sep == std::string_view::npos) break;
    const size_t begin = sep + 3;
    size_t end = begin;
    while (end < text.size() && text[end] != '/' && text[end] != '?' && !ends_value(text[end])) ++end;
    const std::string_view authority = text.substr(begin, end - begin);
    const size_t at = authority.rfind('@');
    out.append(text.substr(pos, begin - pos));
    if (at != std::string_view::npos) {
      const std::string_view userinfo = authority.substr(0, at);
      const size_t colon = userinfo.find(':');
      if (colon != std::string_view::npos) out.append(userinfo.substr(0, colon + 1));
      out += "***";
      out.append(authority.substr(at));
    } else {
      out.append(authority);
    }
    pos = end;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace

std::string redact_url(std::string_view url) {
  const std::string text = redact_userinfo(url);
  std::string out;
  out.reserve(text.size());
  // Every "?name=value" or "&name=value" in the text, wherever the URL sits in it.
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    out += c;
    ++i;
    if (c != '?' && c != '&') continue;
    size_t eq = i;
    while (eq < text.size() && text[eq] != '=' && text[eq] != '?' && !ends_value(text[eq])) ++eq;
    if (eq >= text.size() || text[eq] != '=' || !is_secret_param(std::string_view(text).substr(i, eq - i))) continue;
    size_t end = eq + 1;
    while (end < text.size() && text[end] != '?' && !ends_value(text[end])) ++end;
    out.append(text, i, eq + 1 - i);
    out += "***";
    i = end;
  }
  return out;
}

}  // namespace hfm
