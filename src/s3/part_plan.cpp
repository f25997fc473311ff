#include "s3/part_plan.h"

#include <fmt/format.h>

#include "core/units.h"

namespace hfm::s3 {

uint64_t min_part_size_for(uint64_t size_bytes) {
  constexpr uint64_t kMiB = 1ull << 20;
  const uint64_t needed = (size_bytes + kMaxParts - 1) / kMaxParts;
  const uint64_t rounded = (needed + kMiB - 1) / kMiB * kMiB;
  return rounded < kMinPartBytes ? kMinPartBytes : rounded;
}

Result<PartPlan> plan_parts(uint64_t size_bytes, uint64_t part_size_bytes) {
  if (size_bytes > kMaxObjectBytes) {
    return unexpected(ErrorCode::kUsage,
                      fmt::format("{} is larger than S3's 5 TiB object limit", format_bytes(size_bytes)));
  }
  if (part_size_bytes < kMinPartBytes || part_size_bytes > kMaxPartBytes) {
    return unexpected(ErrorCode::kUsage,
                      fmt::format("S3 parts must be between 5 MiB and 5 GiB, not {}", format_bytes(part_size_bytes)));
  }
  PartPlan plan;
  plan.part_size_bytes = part_size_bytes;
  plan.part_count = size_bytes == 0 ? 1 : (size_bytes + part_size_bytes - 1) / part_size_bytes;
  plan.last_part_bytes = size_bytes - (plan.part_count - 1) * part_size_bytes;
  if (plan.part_count > kMaxParts) {
    return unexpected(ErrorCode::kUsage,
                      fmt::format("{} in parts of {} needs {} parts, over S3's 10,000; use --part-size {} or more",
                                  format_bytes(size_bytes), format_bytes(part_size_bytes), plan.part_count,
                                  format_bytes(min_part_size_for(size_bytes))));
  }
  return plan;
}

}  // namespace hfm::s3
