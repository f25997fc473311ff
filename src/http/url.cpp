#include "http/url.h"

#include "core/percent_encoding.h"

#include <fmt/format.h>

#include <cctype>
#include <optional>

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
  if (sep == std::string_view::npos)
    return unexpected(ErrorCode::kUsage,
                      "not a URL (expected http://HOST or https://HOST; the value is not shown, it may hold a secret)");
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
  // host[:port] or [IPv6]:port. A ':' left in the host ("a:b:80") would make
  // str() name another origin than the one this Url was checked as.
  std::string_view host = authority;
  std::optional<std::string_view> port_text;
  if (!authority.empty() && authority.front() == '[') {  // IPv6 literal
    const size_t close = authority.find(']');
    const std::string_view after = close == std::string_view::npos ? "" : authority.substr(close + 1);
    if (close == std::string_view::npos || (!after.empty() && after.front() != ':'))
      return unexpected(ErrorCode::kUsage, fmt::format("bad URL host in '{}'", text));
    host = authority.substr(0, close + 1);
    if (!after.empty()) port_text = after.substr(1);
  } else if (const size_t colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
  }
  if (port_text) {
    const bool digits = !port_text->empty() && port_text->size() <= 5 &&
                        port_text->find_first_not_of("0123456789") == std::string_view::npos;
    url.port = digits ? std::stoi(std::string(*port_text)) : 0;
    if (url.port < 1 || url.port > 65535) return unexpected(ErrorCode::kUsage, fmt::format("bad port in '{}'", text));
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
  if (location.substr(0, 2) == "//") return parse_url(base.scheme + ":" + std::string(location));
  // Absolute only with a scheme in front (RFC 3986 §3.1): a "://" further on,
  // as in "/resolve?from=https://…", is part of a path or query.
  const size_t colon = location.find(':');
  const bool has_scheme =
      colon != std::string_view::npos && colon > 0 && std::isalpha(static_cast<unsigned char>(location[0])) != 0 &&
      location.substr(0, colon).find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.") == std::string_view::npos;
  if (has_scheme) return parse_url(location);
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
