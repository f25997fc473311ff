#include "core/repo_id.h"

#include <fmt/format.h>

#include <string>

namespace hfm {
namespace {

constexpr size_t kMaxPartLength = 96;

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Empty when the part is valid, else the reason.
std::string check_part(std::string_view part) {
  if (part.empty()) return "empty namespace or name";
  if (part.size() > kMaxPartLength) return fmt::format("a part is longer than {} characters", kMaxPartLength);
  for (char c : part) {
    if (!is_word_char(c) && c != '.' && c != '-') {
      return fmt::format(
          "character '{}' is not allowed (use letters, digits, '.', '_', '-')",
          c >= 0x20 && c < 0x7f ? std::string(1, c) : fmt::format("\\x{:02x}", static_cast<unsigned char>(c)));
    }
  }
  if (!is_word_char(part.front()) || !is_word_char(part.back())) {
    return "namespace and name must start and end with a letter, digit or '_'";
  }
  if (part.find("--") != std::string_view::npos) return "\"--\" is not allowed";
  if (part.find("..") != std::string_view::npos) return "\"..\" is not allowed";
  return {};
}

}  // namespace

Status validate_repo_id(std::string_view repo_id) {
  const size_t slash = repo_id.find('/');
  std::string why;
  if (repo_id.empty()) {
    why = "empty";
  } else if (slash != std::string_view::npos && repo_id.find('/', slash + 1) != std::string_view::npos) {
    why = "expected \"name\" or \"namespace/name\", with one '/' at most";
  } else if (slash == std::string_view::npos) {
    why = check_part(repo_id);
  } else {
    why = check_part(repo_id.substr(0, slash));
    if (why.empty()) why = check_part(repo_id.substr(slash + 1));
  }
  if (why.empty()) return {};
  // Show only a bounded, printable prefix of what was given.
  std::string shown;
  for (char c : repo_id.substr(0, 120)) shown += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (repo_id.size() > 120) shown += "...";
  return unexpected(ErrorCode::kUsage, fmt::format("invalid repo id \"{}\": {}", shown, why));
}

}  // namespace hfm
