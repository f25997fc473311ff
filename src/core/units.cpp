#include "core/units.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace hfm {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Multiplier for a unit suffix, 0 when the suffix is unknown.
uint64_t unit_multiplier(std::string_view suffix) {
  const std::string unit = lower(suffix);
  if (unit.empty() || unit == "b") return 1;
  constexpr std::string_view kLetters = "kmgt";
  const size_t power = kLetters.find(unit[0]);
  if (power == std::string_view::npos) return 0;
  const std::string_view rest = std::string_view(unit).substr(1);
  uint64_t base = 0;
  if (rest.empty() || rest == "i" || rest == "ib") {
    base = 1024;
  } else if (rest == "b") {
    base = 1000;
  } else {
    return 0;
  }
  uint64_t multiplier = 1;
  for (size_t i = 0; i <= power; ++i) multiplier *= base;
  return multiplier;
}

}  // namespace

Result<uint64_t> parse_byte_size(std::string_view text) {
  const std::string_view s = trim(text);
  auto fail = [text](std::string_view why) {
    return unexpected(
        ErrorCode::kUsage,
        fmt::format("invalid size \"{}\": {} (examples: 1048576, 64KiB, 512MiB, 1GiB, 500MB)", text, why));
  };
  if (s.empty()) return fail("empty");
  if (s.front() == '-') return fail("must not be negative");
  size_t digits = 0;
  while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits])) != 0) ++digits;
  if (digits == 0) return fail("expected a whole number followed by an optional unit");
  if (digits < s.size() && (s[digits] == '.' || s[digits] == ',')) {
    return fail("use a whole number with a smaller unit (1536MiB, not 1.5GiB)");
  }
  uint64_t number = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + digits, number);
  if (ec == std::errc::result_out_of_range) return fail("too large");
  const uint64_t multiplier = unit_multiplier(trim(s.substr(digits)));
  if (multiplier == 0) return fail("unknown unit (use B, KiB, MiB, GiB, TiB, or KB, MB, GB, TB)");
  if (number > std::numeric_limits<uint64_t>::max() / multiplier) return fail("too large");
  return number * multiplier;
}

std::string format_bytes(uint64_t bytes) {
  static constexpr std::array<std::string_view, 7> kUnits = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return fmt::format("{} B", bytes);
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < kUnits.size()) {
    value /= 1024.0;
    ++unit;
  }
  // 1023.7 KiB would print as "1024 KiB": show it as "1.00 MiB" instead.
  if (value >= 1023.5 && unit + 1 < kUnits.size()) {
    value /= 1024.0;
    ++unit;
  }
  const int decimals = value < 9.995 ? 2 : value < 99.95 ? 1 : 0;
  return fmt::format("{:.{}f} {}", value, decimals, kUnits[unit]);
}

std::string format_rate(double bytes_per_second) {
  if (!std::isfinite(bytes_per_second) || bytes_per_second <= 0) return "0 B/s";
  constexpr double kMax = static_cast<double>(std::numeric_limits<uint64_t>::max() / 2);
  return format_bytes(static_cast<uint64_t>(std::llround(std::min(bytes_per_second, kMax)))) + "/s";
}

std::string format_duration(std::chrono::milliseconds duration) {
  const int64_t ms = std::max<int64_t>(duration.count(), 0);
  if (ms < 1000) return fmt::format("{}ms", ms);
  if (ms < 59'950) {  // below this, tenths of a second would not round up to 60.0s
    const int64_t tenths = (ms + 50) / 100;
    return fmt::format("{}.{}s", tenths / 10, tenths % 10);
  }
  const int64_t seconds = (ms + 500) / 1000;
  if (seconds < 3600) return fmt::format("{}m{:02}s", seconds / 60, seconds % 60);
  return fmt::format("{}h{:02}m", seconds / 3600, seconds % 3600 / 60);
}

std::string utc_timestamp_iso8601(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(time);
  const auto day = floor<days>(secs);
  const year_month_day ymd(day);
  const hh_mm_ss hms(secs - day);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
                     hms.minutes().count(), hms.seconds().count());
}

}  // namespace hfm
