// Byte sizes, rates, durations and timestamps as people read and write them.
// Parsing is strict (flags and config are validated before anything runs);
// formatting is for progress lines and summaries, never parsed back.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace hfm {

// "1048576", "64KiB", "8 MiB", "1G", "1TiB" (binary: K, Ki, KiB = 1024 …), "512MB"
// (decimal: KB, MB, GB, TB = 1000 …), "512B"; case-insensitive, whole numbers
// only. Anything else, or a value beyond uint64, is ErrorCode::kUsage.
Result<uint64_t> parse_byte_size(std::string_view text);

// "0 B", "512 B", "1.50 KiB", "48.0 MiB", "512 MiB", "1.00 GiB": 3 significant digits.
std::string format_bytes(uint64_t bytes);
// "12.3 MiB/s"; negative or non-finite rates print as "0 B/s".
std::string format_rate(double bytes_per_second);
// "850ms", "12.4s", "3m05s", "1h02m".
std::string format_duration(std::chrono::milliseconds duration);
// "2026-11-27T03:37:59Z" (UTC, whole seconds).
std::string utc_timestamp_iso8601(std::chrono::system_clock::time_point time);

}  // namespace hfm
