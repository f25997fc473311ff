#include "core/hash.h"

// The SHA contexts are deprecated in OpenSSL 3 only in favour of EVP, which
// cannot save a hash state; they remain supported.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <string>
#include <vector>

namespace hfm {

// The low-level SHA contexts, unlike EVP's, are plain structs: a file's hash
// state can be saved mid-way and restored by a later run (resume without
// re-reading the bytes already hashed). Same SHA-NI code paths as EVP.
struct ContentHasher::Ctx {
  SHA256_CTX sha256{};
  SHA_CTX sha1{};
};

ContentHasher::ContentHasher(HashKind kind, uint64_t total_size) : kind_(kind), ctx_(std::make_unique<Ctx>()) {
  if (kind == HashKind::kSha256) {
    SHA256_Init(&ctx_->sha256);
  } else {
    SHA1_Init(&ctx_->sha1);
    const std::string header = "blob " + std::to_string(total_size);
    SHA1_Update(&ctx_->sha1, header.data(), header.size() + 1);  // includes the NUL
  }
}

ContentHasher::~ContentHasher() = default;
ContentHasher::ContentHasher(ContentHasher&&) noexcept = default;
ContentHasher& ContentHasher::operator=(ContentHasher&&) noexcept = default;

void ContentHasher::update(std::span<const std::byte> data) {
  if (kind_ == HashKind::kSha256) {
    SHA256_Update(&ctx_->sha256, data.data(), data.size());
  } else {
    SHA1_Update(&ctx_->sha1, data.data(), data.size());
  }
}

void ContentHasher::update(std::string_view data) {
  update(std::span<const std::byte>(reinterpret_cast<const std::byte*>(data.data()), data.size()));
}

std::string ContentHasher::finish_hex() {
  unsigned char out[SHA256_DIGEST_LENGTH];
  if (kind_ == HashKind::kSha256) {
    SHA256_Final(out, &ctx_->sha256);
    return to_hex({out, SHA256_DIGEST_LENGTH});
  }
  SHA1_Final(out, &ctx_->sha1);
  return to_hex({out, SHA_DIGEST_LENGTH});
}

std::string ContentHasher::save_state() const {
  const auto* p = kind_ == HashKind::kSha256 ? reinterpret_cast<const unsigned char*>(&ctx_->sha256)
                                             : reinterpret_cast<const unsigned char*>(&ctx_->sha1);
  const size_t n = kind_ == HashKind::kSha256 ? sizeof(SHA256_CTX) : sizeof(SHA_CTX);
  return to_hex({p, n});
}

std::optional<ContentHasher> ContentHasher::restore(HashKind kind, std::string_view state_hex) {
  const size_t n = kind == HashKind::kSha256 ? sizeof(SHA256_CTX) : sizeof(SHA_CTX);
  if (state_hex.size() != 2 * n) return std::nullopt;
  ContentHasher h(kind, 0);
  auto* p = kind == HashKind::kSha256 ? reinterpret_cast<unsigned char*>(&h.ctx_->sha256)
                                      : reinterpret_cast<unsigned char*>(&h.ctx_->sha1);
  for (size_t i = 0; i < n; ++i) {
    const auto hexval = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    const int hi = hexval(state_hex[2 * i]);
    const int lo = hexval(state_hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    p[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return h;
}

std::string to_hex(std::span<const unsigned char> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0xF];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  ContentHasher h(HashKind::kSha256, data.size());
  h.update(data);
  return h.finish_hex();
}

std::string git_blob_sha1_hex(std::string_view data) {
  ContentHasher h(HashKind::kGitSha1, data.size());
  h.update(data);
  return h.finish_hex();
}

std::string base64_encode(std::span<const unsigned char> bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

namespace {
std::vector<unsigned char> md5_raw(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr);
  return {digest, digest + len};
}
}  // namespace

std::string md5_base64(std::string_view data) { return base64_encode(md5_raw(data)); }

std::string md5_hex(std::string_view data) { return to_hex(md5_raw(data)); }

std::string hex_to_base64(std::string_view hex) {
  std::vector<unsigned char> raw;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    raw.push_back(static_cast<unsigned char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return base64_encode(raw);
}

bool is_hex_id(std::string_view s, size_t length) {
  if (s.size() != length) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace hfm
