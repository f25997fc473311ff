#include "core/units.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace hfm {
namespace {

using namespace std::chrono_literals;

TEST(ParseByteSize, PlainNumbersAreBytes) {
  EXPECT_EQ(parse_byte_size("0").value(), 0u);
  EXPECT_EQ(parse_byte_size("1048576").value(), 1048576u);
  EXPECT_EQ(parse_byte_size(" 7 ").value(), 7u);
  EXPECT_EQ(parse_byte_size("512B").value(), 512u);
  EXPECT_EQ(parse_byte_size("18446744073709551615").value(), std::numeric_limits<uint64_t>::max());
}

TEST(ParseByteSize, BinarySuffixes) {
  EXPECT_EQ(parse_byte_size("64KiB").value(), 64u * 1024);
  EXPECT_EQ(parse_byte_size("2K").value(), 2048u);
  EXPECT_EQ(parse_byte_size("2Ki").value(), 2048u);
  EXPECT_EQ(parse_byte_size("512MiB").value(), 512u << 20);
  EXPECT_EQ(parse_byte_size("8 MiB").value(), 8u << 20);
  EXPECT_EQ(parse_byte_size("8M").value(), 8u << 20);
  EXPECT_EQ(parse_byte_size("1GiB").value(), 1ull << 30);
  EXPECT_EQ(parse_byte_size("3G").value(), 3ull << 30);
  EXPECT_EQ(parse_byte_size("1T").value(), 1ull << 40);
  EXPECT_EQ(parse_byte_size("1TiB").value(), 1ull << 40);
  EXPECT_EQ(parse_byte_size("16777215TiB").value(), 16777215ull << 40);
}

TEST(ParseByteSize, DecimalSuffixes) {
  EXPECT_EQ(parse_byte_size("1KB").value(), 1000u);
  EXPECT_EQ(parse_byte_size("500MB").value(), 500'000'000u);
  EXPECT_EQ(parse_byte_size("2GB").value(), 2'000'000'000u);
  EXPECT_EQ(parse_byte_size("1TB").value(), 1'000'000'000'000u);
}

TEST(ParseByteSize, CaseInsensitive) {
  EXPECT_EQ(parse_byte_size("1gib").value(), 1ull << 30);
  EXPECT_EQ(parse_byte_size("1GIB").value(), 1ull << 30);
  EXPECT_EQ(parse_byte_size("1mb").value(), 1'000'000u);
  EXPECT_EQ(parse_byte_size("4k").value(), 4096u);
  EXPECT_EQ(parse_byte_size("10b").value(), 10u);
}

TEST(ParseByteSize, RejectsBadInputWithUsageError) {
  for (const char* text : {"", "  ", "-1", "-5MiB", "1.5GiB", "1,5G", "MiB", "12XB", "1 2", "1MiBs", "0x10", "+5",
                           "1e6", "5 PiB", "1KiBB", "abc"}) {
    const auto r = parse_byte_size(text);
    ASSERT_FALSE(r.has_value()) << "accepted \"" << text << "\"";
    EXPECT_EQ(r.error().code, ErrorCode::kUsage);
    EXPECT_NE(r.error().message.find(std::string("\"") + text + "\""), std::string::npos) << r.error().message;
  }
}

TEST(ParseByteSize, MessagesSayWhy) {
  EXPECT_NE(parse_byte_size("-1").error().message.find("negative"), std::string::npos);
  EXPECT_NE(parse_byte_size("").error().message.find("empty"), std::string::npos);
  EXPECT_NE(parse_byte_size("1.5GiB").error().message.find("1536MiB"), std::string::npos);
  EXPECT_NE(parse_byte_size("2XB").error().message.find("unknown unit"), std::string::npos);
}

TEST(ParseByteSize, RejectsOverflow) {
  for (const char* text :
       {"18446744073709551616", "99999999999999999999999", "16777216TiB", "17179869184GiB", "18446744073709552KB"}) {
    const auto r = parse_byte_size(text);
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_NE(r.error().message.find("too large"), std::string::npos) << r.error().message;
  }
}

TEST(FormatBytes, ThreeSignificantDigits) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(1023), "1023 B");
  EXPECT_EQ(format_bytes(1024), "1.00 KiB");
  EXPECT_EQ(format_bytes(1536), "1.50 KiB");
  EXPECT_EQ(format_bytes(10239), "10.0 KiB");
  EXPECT_EQ(format_bytes(102348), "99.9 KiB");
  EXPECT_EQ(format_bytes(102400), "100 KiB");
  EXPECT_EQ(format_bytes(48ull << 20), "48.0 MiB");
  EXPECT_EQ(format_bytes(512ull << 20), "512 MiB");
  EXPECT_EQ(format_bytes(1ull << 30), "1.00 GiB");
  EXPECT_EQ(format_bytes(5ull << 40), "5.00 TiB");
  EXPECT_EQ(format_bytes(std::numeric_limits<uint64_t>::max()), "16.0 EiB");
}

TEST(FormatBytes, RoundingUpMovesToTheNextUnit) {
  EXPECT_EQ(format_bytes(1048575), "1.00 MiB");  // 1023.999 KiB
  EXPECT_EQ(format_bytes(1023ull << 20), "1023 MiB");
}

TEST(FormatRate, PerSecond) {
  EXPECT_EQ(format_rate(12.3 * 1048576), "12.3 MiB/s");
  EXPECT_EQ(format_rate(100.4), "100 B/s");
  EXPECT_EQ(format_rate(1.5 * 1024 * 1024 * 1024), "1.50 GiB/s");
}

TEST(FormatRate, NonsenseRatesAreZero) {
  EXPECT_EQ(format_rate(0), "0 B/s");
  EXPECT_EQ(format_rate(-5), "0 B/s");
  EXPECT_EQ(format_rate(std::nan("")), "0 B/s");
  EXPECT_EQ(format_rate(std::numeric_limits<double>::infinity()), "0 B/s");
  EXPECT_EQ(format_rate(1e300), "8.00 EiB/s");  // clamped, not undefined
}

TEST(FormatDuration, Ranges) {
  EXPECT_EQ(format_duration(0ms), "0ms");
  EXPECT_EQ(format_duration(850ms), "850ms");
  EXPECT_EQ(format_duration(999ms), "999ms");
  EXPECT_EQ(format_duration(1000ms), "1.0s");
  EXPECT_EQ(format_duration(12400ms), "12.4s");
  EXPECT_EQ(format_duration(12449ms), "12.4s");
  EXPECT_EQ(format_duration(12450ms), "12.5s");
  EXPECT_EQ(format_duration(59949ms), "59.9s");
  EXPECT_EQ(format_duration(59950ms), "1m00s");
  EXPECT_EQ(format_duration(185s), "3m05s");
  EXPECT_EQ(format_duration(3599499ms), "59m59s");
  EXPECT_EQ(format_duration(3599500ms), "1h00m");
  EXPECT_EQ(format_duration(62min + 30s), "1h02m");
  EXPECT_EQ(format_duration(25h), "25h00m");
  EXPECT_EQ(format_duration(-5ms), "0ms");
}

TEST(UtcTimestamp, Iso8601WholeSeconds) {
  using namespace std::chrono;
  const sys_days day = year(2026) / November / 27;
  EXPECT_EQ(utc_timestamp_iso8601(day + 3h + 37min + 59s), "2026-11-27T03:37:59Z");
  EXPECT_EQ(utc_timestamp_iso8601(day + 3h + 37min + 59s + 999ms), "2026-11-27T03:37:59Z");
  EXPECT_EQ(utc_timestamp_iso8601(system_clock::time_point{}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(utc_timestamp_iso8601(sys_days(year(2024) / February / 29) + 23h + 59min + 59s), "2024-02-29T23:59:59Z");
  EXPECT_EQ(utc_timestamp_iso8601(system_clock::time_point{} - 1s), "1969-12-31T23:59:59Z");
}

}  // namespace
}  // namespace hfm
