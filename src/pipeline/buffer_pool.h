// BufferPool: the memory budget made concrete. A fixed number of part-sized
// buffers; a part transfer starts only when it holds one, so memory is
// bounded by the budget whatever the file or model size. Buffers are
// allocated on first use and reused; single-threaded (the scheduler's).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace hfm::pipeline {

class BufferPool {
 public:
  BufferPool(size_t buffer_count, uint64_t buffer_bytes);

  std::optional<size_t> try_acquire();  // buffer id
  void release(size_t id);
  char* data(size_t id) { return buffers_[id].get(); }
  uint64_t buffer_bytes() const { return buffer_bytes_; }
  size_t capacity() const { return buffers_.size(); }
  size_t available() const { return free_.size(); }

 private:
  uint64_t buffer_bytes_;
  std::vector<std::unique_ptr<char[]>> buffers_;
  std::vector<size_t> free_;
};

}  // namespace hfm::pipeline
