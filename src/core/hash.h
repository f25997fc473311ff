// Streaming content hashes (OpenSSL EVP): sha256 for LFS/Xet files and the
// git blob sha1 ("blob <len>\0" + bytes) for regular files, the two content
// ids the Hub exposes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace hfm {

enum class HashKind { kSha256, kGitSha1 };

class ContentHasher {
 public:
  // For kGitSha1 the total size must be known up front (it is in the header).
  ContentHasher(HashKind kind, uint64_t total_size);
  ~ContentHasher();
  ContentHasher(ContentHasher&&) noexcept;
  ContentHasher& operator=(ContentHasher&&) noexcept;
  ContentHasher(const ContentHasher&) = delete;
  ContentHasher& operator=(const ContentHasher&) = delete;

  void update(std::span<const std::byte> data);
  void update(std::string_view data);
  // Lowercase hex digest; the hasher is spent afterwards.
  std::string finish_hex();
  // The state after the bytes hashed so far, as hex, for a later run to
  // continue from (same machine architecture).
  std::string save_state() const;
  static std::optional<ContentHasher> restore(HashKind kind, std::string_view state_hex);
  HashKind kind() const { return kind_; }

 private:
  struct Ctx;
  HashKind kind_;
  std::unique_ptr<Ctx> ctx_;
};

std::string to_hex(std::span<const unsigned char> bytes);
std::string sha256_hex(std::string_view data);
std::string git_blob_sha1_hex(std::string_view data);
// True for exactly 40 (sha1) or 64 (sha256) lowercase hex characters.
bool is_hex_id(std::string_view s, size_t length);
std::string base64_encode(std::span<const unsigned char> bytes);
// Content-MD5 header value: base64 of the raw MD5 digest.
std::string md5_base64(std::string_view data);
std::string md5_hex(std::string_view data);
// x-amz-checksum-sha256 value: base64 of the raw digest given in hex.
std::string hex_to_base64(std::string_view hex);

}  // namespace hfm
