// Request and Response as the I/O thread sees them. Body bytes either stream
// into a caller's sink (data transfers: straight into a pooled buffer) or are
// collected into Response::body up to a cap (API calls).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/secret.h"

namespace hfm::http {

// Header names are stored lowercased; lookups are case-insensitive.
class Headers {
 public:
  void add(std::string_view name, std::string_view value);
  void set(std::string_view name, std::string_view value);
  std::optional<std::string_view> get(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }
  void clear() { items_.clear(); }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

struct ByteRange {
  uint64_t first = 0;  // inclusive
  uint64_t last = 0;   // inclusive
  uint64_t length() const { return last - first + 1; }
};

struct Timeouts {
  std::chrono::milliseconds connect{10'000};
  // Low-speed floor: abort when fewer than low_speed_bytes_per_second arrive
  // for low_speed_window, instead of hanging on a stalled body forever.
  int64_t low_speed_bytes_per_second = 1024;
  std::chrono::seconds low_speed_window{30};
  std::chrono::milliseconds total{0};  // 0 = no overall limit
};

struct Response {
  int status = 0;
  Headers headers;
  std::string body;  // only when no on_body sink was given
  std::string url;   // the URL that answered (redacted form is for logs)
  int attempts = 0;
  uint64_t body_bytes = 0;
};

struct Request {
  std::string method = "GET";
  std::string url;
  Headers headers;
  // Sent as "Authorization: Bearer …"; kept apart so it is never logged and so
  // callers decide per host whether it goes at all.
  std::optional<Secret> bearer;
  std::string body;
  // Request body that is not copied (an upload straight from a pooled
  // buffer); used instead of `body` when set. Must outlive the request.
  std::optional<std::span<const char>> body_view;
  std::optional<ByteRange> range;
  bool identity_encoding = true;  // Accept-Encoding: identity (sizes and ranges are raw bytes)
  // Called once headers are known, before any body byte; return false to abort.
  std::function<bool(const Response& head)> on_headers;
  // Streaming sink; return false to abort (the attempt fails with the sink's error).
  std::function<bool(std::span<const char> bytes)> on_body;
  // Called before every attempt, so sinks can reset after a retry.
  std::function<void()> on_attempt;
  // Called on the I/O thread just before every attempt, with the request
  // itself: signing happens here, so a retry is signed afresh.
  std::function<void(Request&)> before_send;
  size_t max_body_bytes = 32u << 20;
  Timeouts timeouts;
  bool retry = true;
  std::string log_tag = "http";
};

}  // namespace hfm::http
