// RFC 3986 percent-encoding, shared by Hub URLs (Python quote() semantics)
// and SigV4 canonical requests: unreserved characters (A-Z a-z 0-9 - . _ ~)
// and the bytes listed in `keep` stay; every other byte becomes %XX
// (uppercase hex). No normalisation, no double-encoding checks.
#pragma once

#include <string>
#include <string_view>

namespace hfm {

std::string percent_encode(std::string_view text, std::string_view keep = "");

}  // namespace hfm
