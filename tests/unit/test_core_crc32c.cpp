#include "core/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace hfm {
namespace {

std::span<const char> sp(const std::string& s) { return {s.data(), s.size()}; }

// RFC 3720 (iSCSI) appendix B.4 test vectors, plus the classic check value.
TEST(Crc32c, PublishedVectors) {
  EXPECT_EQ(crc32c(sp("123456789")), 0xE3069283u);
  EXPECT_EQ(crc32c(sp(std::string(32, '\0'))), 0x8A9136AAu);
  EXPECT_EQ(crc32c(sp(std::string(32, '\xff'))), 0x62A8AB43u);
  std::string inc;
  for (int i = 0; i < 32; ++i) inc.push_back(static_cast<char>(i));
  EXPECT_EQ(crc32c(sp(inc)), 0x46DD794Eu);
  std::string dec;
  for (int i = 31; i >= 0; --i) dec.push_back(static_cast<char>(i));
  EXPECT_EQ(crc32c(sp(dec)), 0x113FDB5Cu);
  EXPECT_EQ(crc32c({}), 0u);
}

TEST(Crc32c, HeaderFormIsBase64OfBigEndianBytes) {
  EXPECT_EQ(crc32c_base64(crc32c(sp("hello world"))), "yZRlqg==");
  EXPECT_EQ(crc32c_base64(0), "AAAAAA==");
}

TEST(Crc32c, IncrementalEqualsWholeAndHardwareEqualsTable) {
  std::mt19937 rng(7);
  std::string data(100'003, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  const uint32_t whole = crc32c(sp(data));
  EXPECT_EQ(whole, detail::crc32c_update_portable(0, sp(data)));
  for (size_t cut : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{4097}, data.size()}) {
    const uint32_t a = crc32c_update(0, {data.data(), cut});
    EXPECT_EQ(crc32c_update(a, {data.data() + cut, data.size() - cut}), whole) << "cut at " << cut;
  }
}

}  // namespace
}  // namespace hfm
