// S3 multipart limits as a plan: parts of at least 5 MiB (except the last),
// at most 5 GiB, at most 10,000 of them. The pipeline's part size is kept when
// it fits; a file too large for it is refused with a clear message rather
// than silently re-planned (buffers are fixed-size).
#pragma once

#include <cstdint>

#include "core/result.h"

namespace hfm::s3 {

inline constexpr uint64_t kMinPartBytes = 5ull << 20;
inline constexpr uint64_t kMaxPartBytes = 5ull << 30;
inline constexpr uint64_t kMaxParts = 10'000;
inline constexpr uint64_t kMaxObjectBytes = 5ull << 40;

struct PartPlan {
  uint64_t part_size_bytes = 0;
  uint64_t part_count = 0;
  uint64_t last_part_bytes = 0;
};

// The plan for an object of `size_bytes` uploaded in parts of `part_size_bytes`.
Result<PartPlan> plan_parts(uint64_t size_bytes, uint64_t part_size_bytes);

// The smallest part size (a whole MiB, at least the minimum) that fits
// `size_bytes` into 10,000 parts.
uint64_t min_part_size_for(uint64_t size_bytes);

}  // namespace hfm::s3
