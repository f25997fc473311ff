#include "store/path_safety.h"

#include <fmt/format.h>

#include <cctype>

namespace hfm::store {
namespace {

constexpr size_t kMaxPathBytes = 4096;    // PATH_MAX on Linux
constexpr size_t kMaxSegmentBytes = 255;  // NAME_MAX on Linux, macOS, NTFS
constexpr std::string_view kStateDir = ".hfmirror";

// Length of the valid UTF-8 sequence starting at text[i], or 0 if it is not
// one (overlong forms, surrogates and code points above U+10FFFF are invalid).
size_t utf8_sequence_length(std::string_view text, size_t i) {
  const auto b0 = static_cast<unsigned char>(text[i]);
  if (b0 < 0x80) return 1;
  size_t length = 0;
  uint32_t cp = 0;
  uint32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    length = 2, cp = b0 & 0x1Fu, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    length = 3, cp = b0 & 0x0Fu, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    length = 4, cp = b0 & 0x07u, min = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return length;
}

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

bool iequals_ascii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

// Empty when the path is safe, else the reason.
std::string unsafe_reason(std::string_view path) {
  if (path.empty()) return "it is empty";
  if (path.size() > kMaxPathBytes) return fmt::format("it is longer than {} bytes", kMaxPathBytes);
  for (size_t i = 0; i < path.size();) {
    const auto c = static_cast<unsigned char>(path[i]);
    if (is_control(c)) return "it contains a control character";
    if (c == '\\') return "it contains a backslash";
    const size_t length = utf8_sequence_length(path, i);
    if (length == 0) return "it is not valid UTF-8";
    i += length;
  }
  if (path.front() == '/') return "it is absolute";
  if (path.size() >= 2 && path[1] == ':' && std::isalpha(static_cast<unsigned char>(path[0])) != 0) {
    return "it starts with a Windows drive";
  }
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    const std::string_view segment =
        path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (segment.empty()) return "it has an empty segment";
    if (segment == ".") return "it has a \".\" segment";
    if (segment == "..") return "it has a \"..\" segment";
    if (segment.size() > kMaxSegmentBytes) {
      return fmt::format("a segment is longer than {} bytes", kMaxSegmentBytes);
    }
    // Case-insensitive because the destination may be a case-insensitive
    // filesystem, where ".HFMirror/manifest.json" would overwrite our manifest.
    if (start == 0 && iequals_ascii(segment, kStateDir)) {
      return fmt::format("\"{}\" at the top level is reserved for hfmirror's state", kStateDir);
    }
    if (slash == std::string_view::npos) return {};
    start = slash + 1;
  }
}

}  // namespace

Result<std::string> validate_repo_path(std::string_view path) {
  const std::string why = unsafe_reason(path);
  if (why.empty()) return std::string(path);
  // An over-long path is named by its beginning only, to keep the message readable.
  constexpr size_t kShownBytes = 200;
  std::string shown = printable(path.substr(0, kShownBytes));
  if (path.size() > kShownBytes) shown += "...";
  return unexpected(
      ErrorCode::kUnsafePath,
      fmt::format("refusing repo file \"{}\": {}; it could escape or corrupt the destination", shown, why));
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const size_t length = utf8_sequence_length(text, i);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\\' || c == '"') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (length == 0 || is_control(c)) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out.append(text.substr(i, length));
      i += length;
      continue;
    }
    ++i;
  }
  return out;
}

}  // namespace hfm::store
