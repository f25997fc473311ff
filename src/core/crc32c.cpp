#include "core/crc32c.h"

#include <array>
#include <cstring>

#include "core/hash.h"

namespace hfm {
namespace {

constexpr uint32_t kPolyReflected = 0x82F63B78;

constexpr std::array<uint32_t, 256> make_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ ((c & 1) ? kPolyReflected : 0);
    t[i] = c;
  }
  return t;
}
constexpr auto kTable = make_table();

uint32_t update_table(uint32_t c, const unsigned char* p, size_t n) {
  for (size_t i = 0; i < n; ++i) c = kTable[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t update_sse42(uint32_t c, const unsigned char* p, size_t n) {
  uint64_t c64 = c;
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c64 = __builtin_ia32_crc32di(c64, v);
    p += 8;
    n -= 8;
  }
  c = static_cast<uint32_t>(c64);
  while (n-- > 0) c = __builtin_ia32_crc32qi(c, *p++);
  return c;
}
const bool kHasSse42 = __builtin_cpu_supports("sse4.2");
#endif

}  // namespace

uint32_t crc32c_update(uint32_t crc, std::span<const char> bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  uint32_t c = ~crc;
#if defined(__x86_64__)
  if (kHasSse42) return ~update_sse42(c, p, bytes.size());
#endif
  return ~update_table(c, p, bytes.size());
}

uint32_t detail::crc32c_update_portable(uint32_t crc, std::span<const char> bytes) {
  return ~update_table(~crc, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

std::string crc32c_base64(uint32_t crc) {
  const std::array<unsigned char, 4> be = {static_cast<unsigned char>(crc >> 24), static_cast<unsigned char>(crc >> 16),
                                           static_cast<unsigned char>(crc >> 8), static_cast<unsigned char>(crc)};
  return base64_encode(be);
}

}  // namespace hfm
