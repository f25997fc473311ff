#include "core/log.h"

#include <chrono>
#include <cstdio>
#include <mutex>

namespace hfm::log {
namespace {
std::atomic<Level> g_level{Level::kWarn};
std::mutex g_mu;

const char* name(Level l) {
  switch (l) {
    case Level::kTrace: return "TRACE";
    case Level::kDebug: return "DEBUG";
    case Level::kInfo: return "INFO";
    case Level::kWarn: return "WARN";
    case Level::kError: return "ERROR";
    case Level::kOff: return "OFF";
  }
  return "?";
}
}  // namespace

void set_level(Level l) { g_level.store(l); }
Level level() { return g_level.load(std::memory_order_relaxed); }

bool parse_level(std::string_view t, Level* out) {
  if (t == "trace") *out = Level::kTrace;
  else if (t == "debug") *out = Level::kDebug;
  else if (t == "info") *out = Level::kInfo;
  else if (t == "warn" || t == "warning") *out = Level::kWarn;
  else if (t == "error") *out = Level::kError;
  else if (t == "off") *out = Level::kOff;
  else return false;
  return true;
}

void write(Level l, std::string_view line) {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::lock_guard<std::mutex> lock(g_mu);
  std::fprintf(stderr, "%lld.%03lld %s %.*s\n", static_cast<long long>(ms / 1000),
               static_cast<long long>(ms % 1000), name(l), static_cast<int>(line.size()), line.data());
}

}  // namespace hfm::log
