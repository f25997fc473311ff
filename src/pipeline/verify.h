// Verify: re-read every file a destination's manifest lists, check its size
// and re-hash it against the recorded content id. Parallel across files with
// bounded memory (threads × chunk size).
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "core/result.h"
#include "pipeline/file_transfer.h"
#include "pipeline/progress.h"
#include "store/destination.h"

namespace hfm::pipeline {

struct VerifySettings {
  size_t threads = 2;
  uint64_t chunk_bytes = 8ull << 20;
  // false: size and the content id the destination stored with the file
  // (S3 metadata) only; destinations that store none are always re-hashed.
  bool deep = true;
};

struct VerifyReport {
  std::string repo_id;
  std::string commit;
  size_t files_checked = 0;
  size_t files_ok = 0;
  uint64_t bytes_checked = 0;
  std::vector<FileFailure> problems;  // missing, wrong size, wrong hash
};

// kIntegrity when there is no manifest (not a complete mirror).
Result<VerifyReport> verify_destination(store::Destination& dest, const VerifySettings& settings, Progress& progress,
                                        const std::atomic<bool>& cancel_flag);

}  // namespace hfm::pipeline
