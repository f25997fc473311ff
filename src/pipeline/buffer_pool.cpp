#include "pipeline/buffer_pool.h"

#include <cassert>

namespace hfm::pipeline {

BufferPool::BufferPool(size_t buffer_count, uint64_t buffer_bytes)
    : buffer_bytes_(buffer_bytes), buffers_(buffer_count) {
  free_.reserve(buffer_count);
  for (size_t i = buffer_count; i > 0; --i) free_.push_back(i - 1);
}

std::optional<size_t> BufferPool::try_acquire() {
  if (free_.empty()) return std::nullopt;
  const size_t id = free_.back();
  free_.pop_back();
  // Pages are only touched when bytes arrive, so RSS follows real use.
  if (!buffers_[id]) buffers_[id].reset(new char[buffer_bytes_]);
  return id;
}

void BufferPool::release(size_t id) {
  assert(id < buffers_.size());
  free_.push_back(id);
}

}  // namespace hfm::pipeline
