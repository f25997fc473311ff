#include "core/hash.h"

#include <openssl/evp.h>

#include <string>

namespace hfm {

struct ContentHasher::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

ContentHasher::ContentHasher(HashKind kind, uint64_t total_size) : kind_(kind), ctx_(std::make_unique<Ctx>()) {
  ctx_->md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx_->md, kind == HashKind::kSha256 ? EVP_sha256() : EVP_sha1(), nullptr);
  if (kind == HashKind::kGitSha1) {
    const std::string header = "blob " + std::to_string(total_size);
    EVP_DigestUpdate(ctx_->md, header.data(), header.size() + 1);  // includes the NUL
  }
}

ContentHasher::~ContentHasher() = default;
ContentHasher::ContentHasher(ContentHasher&&) noexcept = default;
ContentHasher& ContentHasher::operator=(ContentHasher&&) noexcept = default;

void ContentHasher::update(std::span<const std::byte> data) { EVP_DigestUpdate(ctx_->md, data.data(), data.size()); }

void ContentHasher::update(std::string_view data) { EVP_DigestUpdate(ctx_->md, data.data(), data.size()); }

std::string ContentHasher::finish_hex() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_->md, out, &len);
  return to_hex({out, len});
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

bool is_hex_id(std::string_view s, size_t length) {
  if (s.size() != length) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace hfm
