// Minimal URL handling for the URLs this tool builds and receives: split into
// origin and path, resolve a redirect's Location against the request URL, and
// percent-encode path segments the way huggingface_hub does (Python quote()).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace hfm::http {

struct Url {
  std::string scheme;          // "http" | "https"
  std::string host;            // lowercase, without port
  int port = 0;                // explicit or scheme default
  std::string path_and_query;  // starts with '/'

  // "scheme://host[:port]" with the default port omitted.
  std::string origin() const;
  std::string str() const { return origin() + path_and_query; }
};

Result<Url> parse_url(std::string_view text);

// Same scheme, host and port: the only case where a bearer token may follow.
bool same_origin(const Url& a, const Url& b);

// Resolves a Location header value (absolute, scheme-relative, absolute-path
// or relative) against the URL that produced it.
Result<Url> resolve_location(const Url& base, std::string_view location);

// Python urllib.parse.quote(text, safe=safe): unreserved and `safe` bytes stay.
std::string quote(std::string_view text, std::string_view safe = "/");
std::string percent_decode(std::string_view text);

}  // namespace hfm::http
