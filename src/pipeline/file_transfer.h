// TransferEngine: moves a set of files from the Hub into a Destination.
//
// Life of a part: the scheduler (the thread that called run()) takes a
// buffer from the BufferPool -> ranged GET on the I/O thread streams the
// bytes straight into it -> a worker writes it at its offset (and records it
// for resume) -> the file's parts reach the whole-file hasher in order, on a
// worker -> the buffer goes back to the pool. When the last part is hashed
// and the digest equals the Hub's content id, the file is committed (made
// visible); otherwise it is dropped and the file fails.
//
// Not here: deciding which files to move (planner) and the manifest (SyncJob).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "http/client.h"
#include "hub/hub_client.h"
#include "pipeline/progress.h"
#include "store/destination.h"

namespace hfm::pipeline {

struct TransferSettings {
  uint64_t part_size_bytes = 16ull << 20;
  uint64_t memory_budget_bytes = 512ull << 20;
  size_t max_parallel_requests = 16;  // part GETs in flight
  size_t max_parallel_files = 8;      // files being resolved or transferred at once
  size_t worker_threads = 2;          // hashing and disk writes
  int max_part_attempts = 4;          // pipeline-level: re-resolve on CDN 403, short bodies

  size_t buffer_count() const;
};

struct FileJob {
  store::FileSpec spec;
  bool lfs = false;  // bytes live behind a CDN redirect; metadata via HEAD first
};

struct FileFailure {
  std::string path;
  Error error;
};

struct TransferReport {
  size_t files_ok = 0;
  uint64_t bytes_downloaded = 0;
  uint64_t bytes_reused = 0;
  std::vector<FileFailure> failures;
  std::optional<Error> fatal;  // stopped the whole run (auth, cancel)
};

class TransferEngine {
 public:
  TransferEngine(http::Client& http, hub::HubClient& hub, store::Destination& dest, hub::RepoRef repo,
                 std::string commit, TransferSettings settings, Progress& progress,
                 const std::atomic<bool>& cancel_flag);
  ~TransferEngine();
  TransferEngine(const TransferEngine&) = delete;
  TransferEngine& operator=(const TransferEngine&) = delete;

  TransferReport run(std::vector<FileJob> jobs);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hfm::pipeline
