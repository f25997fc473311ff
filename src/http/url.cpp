#include "http/url.h"

#include "core/percent_encoding.h"

#include <fmt/format.h>

#include <cctype>

namespace hfm::http {
namespace {

int default_port(std::string_view scheme) { return scheme == "https" ? 443 : 80; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string Url::origin() const {
  if (port == default_port(scheme)) return fmt::format("{}://{}", scheme, host);
  return fmt::format("{}://{}:{}", scheme, host, port);
}

Result<Url> parse_url(std::string_view text) {
  const size_t sep = text.find("://");
  if (sep == std::string_view::npos) return unexpected(ErrorCode::kUsage, fmt::format("not a URL: '{}'", text));
  Url url;
  url.scheme = lower(text.substr(0, sep));
  if (url.scheme != "http" && url.scheme != "https")
    return unexpected(ErrorCode::kUsage, fmt::format("unsupported URL scheme '{}' (use http or https)", url.scheme));
  std::string_view rest = text.substr(sep + 3);
  const size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  std::string_view tail = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos)
    return unexpected(ErrorCode::kUsage, "URLs with embedded credentials are not accepted");
  url.port = default_port(url.scheme);
  std::string_view host = authority;
  if (!authority.empty() && authority.front() == '[') {  // IPv6 literal
    const size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return unexpected(ErrorCode::kUsage, fmt::format("bad URL host in '{}'", text));
    host = authority.substr(0, close + 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() == ':')
      authority = after;
    else
      authority = {};
    if (!authority.empty()) {
      try {
        url.port = std::stoi(std::string(authority.substr(1)));
      } catch (...) {
        return unexpected(ErrorCode::kUsage, fmt::format("bad port in '{}'", text));
      }
    }
  } else {
    const size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      const std::string port_text(authority.substr(colon + 1));
      if (port_text.empty() || port_text.find_first_not_of("0123456789") != std::string::npos || port_text.size() > 5)
        return unexpected(ErrorCode::kUsage, fmt::format("bad port in '{}'", text));
      url.port = std::stoi(port_text);
    }
  }
  if (host.empty()) return unexpected(ErrorCode::kUsage, fmt::format("URL has no host: '{}'", text));
  url.host = lower(host);
  std::string path(tail);
  if (const size_t hash = path.find('#'); hash != std::string::npos) path.resize(hash);
  if (path.empty() || path.front() == '?') path = std::string("/").append(path);
  url.path_and_query = std::move(path);
  return url;
}

bool same_origin(const Url& a, const Url& b) { return a.scheme == b.scheme && a.host == b.host && a.port == b.port; }

Result<Url> resolve_location(const Url& base, std::string_view location) {
  if (location.find("://") != std::string_view::npos) return parse_url(location);
  if (location.substr(0, 2) == "//") return parse_url(base.scheme + ":" + std::string(location));
  Url out = base;
  if (!location.empty() && location.front() == '/') {
    out.path_and_query = std::string(location);
    return out;
  }
  // Relative reference: replace the last path segment.
  std::string dir = base.path_and_query.substr(0, base.path_and_query.find('?'));
  dir.resize(dir.rfind('/') + 1);
  out.path_and_query = dir + std::string(location);
  return out;
}

std::string quote(std::string_view text, std::string_view safe) { return percent_encode(text, safe); }

std::string percent_decode(std::string_view text) {
  auto hexval = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() + 0 && i + 2 <= text.size() - 1) {
      const int hi = hexval(text[i + 1]);
      const int lo = hexval(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

}  // namespace hfm::http
