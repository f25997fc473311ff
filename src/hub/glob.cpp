#include "hub/glob.h"

#include <algorithm>
#include <optional>

namespace hfm::hub {
namespace {

using CodePoints = std::u32string;

// Decodes UTF-8 leniently: a byte that does not start a valid sequence stands
// for itself as U+DC00+byte (Python's surrogateescape), so invalid bytes in a
// pattern still match the same bytes in a name.
CodePoints decode_utf8(std::string_view text) {
  CodePoints out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    size_t length = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if (b0 < 0x80) {
      length = 1, cp = b0;
    } else if ((b0 & 0xE0) == 0xC0) {
      length = 2, cp = b0 & 0x1Fu, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      length = 3, cp = b0 & 0x0Fu, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      length = 4, cp = b0 & 0x07u, min = 0x10000;
    }
    bool valid = length != 0 && i + length <= text.size();
    for (size_t k = 1; valid && k < length; ++k) {
      const auto b = static_cast<unsigned char>(text[i + k]);
      valid = (b & 0xC0) == 0x80;
      cp = (cp << 6) | (b & 0x3Fu);
    }
    valid = valid && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (!valid) {
      out.push_back(0xDC00 + b0);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += length;
  }
  return out;
}

// One compiled element of a pattern; each matches exactly one character except kStar.
struct Token {
  enum Kind { kLiteral, kAny, kSet, kStar } kind = kLiteral;
  char32_t literal = 0;
  bool negated = false;
  // Set members as inclusive ranges; single characters are [c, c].
  std::vector<std::pair<char32_t, char32_t>> ranges;

  static Token of(Kind kind, char32_t literal = 0) {
    Token t;
    t.kind = kind;
    t.literal = literal;
    return t;
  }

  bool matches(char32_t c) const {
    switch (kind) {
      case kLiteral:
        return c == literal;
      case kAny:
        return true;
      case kSet: {
        const bool in =
            std::any_of(ranges.begin(), ranges.end(), [c](const auto& r) { return r.first <= c && c <= r.second; });
        return in != negated;
      }
      case kStar:
        return false;
    }
    return false;
  }
};

// Builds the set for "[stuff]" exactly as CPython 3.11 does: fnmatch.translate
// turns it into a regex class body (hyphens split the text into chunks joined
// by ranges, reversed ranges are dropped with their end points, other special
// characters are escaped), and the regex engine then reads that body. Both
// steps are reproduced, because their corner cases interact ("[--*!-!]").
Token make_set(const CodePoints& stuff) {
  std::vector<CodePoints> chunks;
  if (stuff.find(U'-') == CodePoints::npos) {
    chunks.push_back(stuff);
  } else {
    size_t start = 0;
    size_t k = stuff[0] == U'!' ? 2 : 1;
    while ((k = stuff.find(U'-', k)) != CodePoints::npos) {
      chunks.push_back(stuff.substr(start, k - start));
      start = k + 1;
      k += 3;
    }
    const CodePoints last = stuff.substr(start);
    if (last.empty()) {
      chunks.back() += U'-';
    } else {
      chunks.push_back(last);
    }
    for (size_t i = chunks.size() - 1; i > 0; --i) {
      if (chunks[i - 1].back() > chunks[i].front()) {
        chunks[i - 1] = chunks[i - 1].substr(0, chunks[i - 1].size() - 1) + chunks[i].substr(1);
        chunks.erase(chunks.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
  }
  // The regex class body: chunk characters escaped, chunks joined by a bare '-'.
  CodePoints body;
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (i > 0) body += U'-';
    for (char32_t c : chunks[i]) {
      if (c == U'\\' || c == U'-' || c == U'&' || c == U'~' || c == U'|') body += U'\\';
      body += c;
    }
  }

  Token token = Token::of(Token::kSet);
  if (body.empty()) return token;                   // "(?!)": matches nothing
  if (body == U"!") return Token::of(Token::kAny);  // negated empty set
  size_t i = 0;
  if (body[0] == U'!') token.negated = true, i = 1;
  // The regex engine's reading: an escaped character is literal, "x-y" is a
  // range, and a '-' first or last is literal.
  auto next_char = [&body, &i] {
    if (body[i] == U'\\') ++i;
    return body[i++];
  };
  while (i < body.size()) {
    const char32_t lo = next_char();
    if (i + 1 < body.size() && body[i] == U'-') {
      ++i;
      token.ranges.emplace_back(lo, next_char());
    } else {
      token.ranges.emplace_back(lo, lo);
    }
  }
  return token;
}

std::vector<Token> compile(const CodePoints& pattern) {
  std::vector<Token> tokens;
  size_t i = 0;
  const size_t n = pattern.size();
  while (i < n) {
    const char32_t c = pattern[i++];
    if (c == U'*') {
      if (tokens.empty() || tokens.back().kind != Token::kStar) tokens.push_back(Token::of(Token::kStar));
    } else if (c == U'?') {
      tokens.push_back(Token::of(Token::kAny));
    } else if (c == U'[') {
      size_t j = i;
      if (j < n && pattern[j] == U'!') ++j;
      if (j < n && pattern[j] == U']') ++j;
      while (j < n && pattern[j] != U']') ++j;
      if (j >= n) {
        tokens.push_back(Token::of(Token::kLiteral, U'['));
      } else {
        tokens.push_back(make_set(pattern.substr(i, j - i)));
        i = j + 1;
      }
    } else {
      tokens.push_back(Token::of(Token::kLiteral, c));
    }
  }
  return tokens;
}

// Wildcard matching where every token but '*' consumes exactly one character,
// so backtracking to the most recent '*' is enough: O(pattern x name) at worst, no recursion.
bool match_tokens(const std::vector<Token>& tokens, const CodePoints& name) {
  size_t t = 0;
  size_t s = 0;
  std::optional<size_t> star_token;
  size_t star_name = 0;
  while (s < name.size()) {
    if (t < tokens.size() && tokens[t].kind == Token::kStar) {
      star_token = t++;
      star_name = s;
    } else if (t < tokens.size() && tokens[t].matches(name[s])) {
      ++t;
      ++s;
    } else if (star_token) {
      t = *star_token + 1;
      s = ++star_name;
    } else {
      return false;
    }
  }
  while (t < tokens.size() && tokens[t].kind == Token::kStar) ++t;
  return t == tokens.size();
}

std::string slashes_normalised(std::string_view text) {
  std::string out(text);
  std::replace(out.begin(), out.end(), '\\', '/');
  return out;
}

std::vector<std::string> normalise_patterns(std::vector<std::string> patterns) {
  for (std::string& p : patterns) {
    p = slashes_normalised(p);
    if (!p.empty() && p.back() == '/') p += '*';
  }
  return patterns;
}

}  // namespace

bool fnmatch_case(std::string_view pattern, std::string_view name) {
  return match_tokens(compile(decode_utf8(pattern)), decode_utf8(name));
}

PathFilter::PathFilter(std::vector<std::string> include, std::vector<std::string> exclude)
    : include_(normalise_patterns(std::move(include))), exclude_(normalise_patterns(std::move(exclude))) {}

bool PathFilter::keep(std::string_view path) const {
  const std::string p = slashes_normalised(path);
  auto matches = [&p](const std::string& pattern) { return fnmatch_case(pattern, p); };
  if (!include_.empty() && std::none_of(include_.begin(), include_.end(), matches)) return false;
  return std::none_of(exclude_.begin(), exclude_.end(), matches);
}

}  // namespace hfm::hub
