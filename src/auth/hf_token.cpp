#include "auth/hf_token.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace hfm::auth {
namespace {

std::string trim(std::string s) {
  const char* ws = " \t\r\n";
  s.erase(0, s.find_first_not_of(ws));
  const size_t end = s.find_last_not_of(ws);
  s.erase(end == std::string::npos ? 0 : end + 1);
  return s;
}

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  std::string t = trim(v);
  if (t.empty()) return std::nullopt;
  return t;
}

std::filesystem::path token_file_path() {
  if (auto p = env("HF_TOKEN_PATH")) return *p;
  if (auto home = env("HF_HOME")) return std::filesystem::path(*home) / "token";
  if (auto xdg = env("XDG_CACHE_HOME")) return std::filesystem::path(*xdg) / "huggingface" / "token";
  if (auto home = env("HOME")) return std::filesystem::path(*home) / ".cache" / "huggingface" / "token";
  return {};
}

}  // namespace

std::optional<TokenSource> find_hf_token(const std::optional<std::string>& flag_value) {
  if (flag_value) {
    std::string t = trim(*flag_value);
    if (!t.empty()) return TokenSource{Secret(std::move(t)), "--token"};
  }
  if (auto d = env("HF_HUB_DISABLE_IMPLICIT_TOKEN"); d && (*d == "1" || *d == "true" || *d == "TRUE")) {
    return std::nullopt;
  }
  if (auto t = env("HF_TOKEN")) return TokenSource{Secret(*t), "HF_TOKEN"};
  if (auto t = env("HUGGING_FACE_HUB_TOKEN")) return TokenSource{Secret(*t), "HUGGING_FACE_HUB_TOKEN"};
  const auto path = token_file_path();
  if (!path.empty()) {
    std::ifstream in(path);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      std::string t = trim(ss.str());
      if (!t.empty()) return TokenSource{Secret(std::move(t)), "token file " + path.string()};
    }
  }
  return std::nullopt;
}

}  // namespace hfm::auth
