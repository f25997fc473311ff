#include "core/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>

#include "core/secret.h"

namespace hfm::log {
namespace {

std::atomic<Level> g_level{Level::kWarn};
std::atomic<Level> g_file_level{Level::kOff};  // kOff while no file is open
std::atomic<Level> g_min_level{Level::kWarn};  // min of the two: the cheap check in emit()
std::mutex g_mu;                               // guards g_fd and serialises lines
int g_fd = -1;
bool g_file_error_reported = false;

const char* name(Level l) {
  switch (l) {
    case Level::kTrace:
      return "TRACE";
    case Level::kDebug:
      return "DEBUG";
    case Level::kInfo:
      return "INFO";
    case Level::kWarn:
      return "WARN";
    case Level::kError:
      return "ERROR";
    case Level::kOff:
      return "OFF";
  }
  return "?";
}

void update_min_level() { g_min_level.store(std::min(g_level.load(), g_file_level.load())); }

// "2024-05-01T12:00:00.123Z"
std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", stamp, static_cast<int>(ms % 1000));
}

// One line per event in the file, whatever the message holds.
void append_escaped(std::string& out, std::string_view line) {
  for (char c : line) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
}

// One write(2) per line: with O_APPEND the kernel places it atomically at the
// end, so processes sharing the file never split each other's lines.
void write_file_line_locked(const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(g_fd, text.data() + done, text.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (!g_file_error_reported) {
      g_file_error_reported = true;
      std::fprintf(stderr, "WARN log.file_write_failed error=\"%s\" (further lines to the log file are lost)\n",
                   std::strerror(errno));
    }
    return;
  }
}

}  // namespace

void set_level(Level l) {
  g_level.store(l);
  update_min_level();
}
Level level() { return g_level.load(std::memory_order_relaxed); }

bool enabled(Level l) { return l != Level::kOff && l >= g_min_level.load(std::memory_order_relaxed); }

bool parse_level(std::string_view t, Level* out) {
  if (t == "trace")
    *out = Level::kTrace;
  else if (t == "debug")
    *out = Level::kDebug;
  else if (t == "info")
    *out = Level::kInfo;
  else if (t == "warn" || t == "warning")
    *out = Level::kWarn;
  else if (t == "error")
    *out = Level::kError;
  else if (t == "off")
    *out = Level::kOff;
  else
    return false;
  return true;
}

std::string_view level_name(Level l) {
  switch (l) {
    case Level::kTrace:
      return "trace";
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
    case Level::kOff:
      return "off";
  }
  return "?";
}

void write(Level l, std::string_view raw) {
  if (l == Level::kOff) return;
  // Callers redact what they log; this catches a URL that slipped through
  // (a presigned query, a session token, a password in userinfo).
  const std::string redacted = redact_url(raw);
  const std::string_view line = redacted;
  const std::string stamp = timestamp();
  std::lock_guard<std::mutex> lock(g_mu);
  if (l >= g_level.load()) {
    std::fprintf(stderr, "%s %s %.*s\n", stamp.c_str(), name(l), static_cast<int>(line.size()), line.data());
  }
  if (g_fd >= 0 && l >= g_file_level.load()) {
    std::string text = fmt::format("{} [{}] {} ", stamp, ::getpid(), name(l));
    append_escaped(text, line);
    text += '\n';
    write_file_line_locked(text);
  }
}

Status open_file(const std::string& path, Level level) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    return unexpected(ErrorCode::kConfig, fmt::format("cannot open log file '{}': {}", path, std::strerror(errno)));
  }
  {
    std::lock_guard<std::mutex> lock(g_mu);
    if (g_fd >= 0) ::close(g_fd);
    g_fd = fd;
    g_file_error_reported = false;
    g_file_level.store(level);
    // The header says at which level this process writes, so a reader (the
    // test suite's secret scan) knows what the file can be expected to hold.
    write_file_line_locked(fmt::format("{} [{}] INFO log.file_open file_level={} stderr_level={}\n", timestamp(),
                                       ::getpid(), level_name(level), level_name(g_level.load())));
  }
  update_min_level();
  return {};
}

void close_file() {
  {
    std::lock_guard<std::mutex> lock(g_mu);
    if (g_fd >= 0) ::close(g_fd);
    g_fd = -1;
    g_file_level.store(Level::kOff);
  }
  update_min_level();
}

Status open_file_from_settings(std::string_view flag_path, std::string_view flag_level) {
  auto env = [](const char* name) -> std::string_view {
    const char* v = std::getenv(name);
    return v != nullptr ? std::string_view(v) : std::string_view();
  };
  const std::string path(!flag_path.empty() ? flag_path : env("HFMIRROR_LOG_FILE"));
  if (path.empty()) {
    if (!flag_level.empty()) {
      return unexpected(ErrorCode::kUsage, "--log-file-level needs --log-file FILE (or HFMIRROR_LOG_FILE)");
    }
    return {};
  }
  const bool from_flag = !flag_level.empty();
  const std::string_view text = from_flag ? flag_level : env("HFMIRROR_LOG_FILE_LEVEL");
  Level level = Level::kInfo;
  if (!text.empty() && !parse_level(text, &level)) {
    return unexpected(ErrorCode::kUsage,
                      fmt::format("{} '{}' is not a log level (use trace, debug, info, warn, error or off)",
                                  from_flag ? "--log-file-level" : "HFMIRROR_LOG_FILE_LEVEL", text));
  }
  return open_file(path, level);
}

}  // namespace hfm::log
