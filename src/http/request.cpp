#include "http/request.h"

#include <cctype>

namespace hfm::http {
namespace {
std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
}  // namespace

void Headers::add(std::string_view name, std::string_view value) {
  items_.emplace_back(lower(name), std::string(value));
}

void Headers::set(std::string_view name, std::string_view value) {
  const std::string key = lower(name);
  for (auto& [k, v] : items_) {
    if (k == key) {
      v = std::string(value);
      return;
    }
  }
  items_.emplace_back(key, std::string(value));
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
  const std::string key = lower(name);
  for (const auto& [k, v] : items_) {
    if (k == key) return std::string_view(v);
  }
  return std::nullopt;
}

}  // namespace hfm::http
