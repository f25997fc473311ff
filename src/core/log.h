// Logging: one line per event, "TIME LEVEL event key=value ...", to stderr at
// set_level(), and — when open_file() was called (--log-file) — appended to a
// file at its own level, independent of stderr. stdout is reserved for results
// (--json). Callers pass already-redacted values; Secret formats as "***";
// every line also goes through redact_url() before it is written.
//
// The file is opened with O_APPEND and every line is one write(2), so several
// processes may append to the same file without interleaving inside a line.
// File lines carry the pid: "TIME [PID] LEVEL event key=value ...".
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

#include "core/result.h"

namespace hfm::log {

enum class Level { kTrace = 0, kDebug, kInfo, kWarn, kError, kOff };

// The stderr level (default warn).
void set_level(Level level);
Level level();
// True when stderr or the log file takes lines of this level.
bool enabled(Level level);
bool parse_level(std::string_view text, Level* out);
std::string_view level_name(Level level);  // "trace" ... "off"
void write(Level level, std::string_view line);

// Appends log lines at `level` to `path` (created 0600 if missing) from now on;
// replaces a file opened before. Writes a "log.file_open" header line.
Status open_file(const std::string& path, Level level);
void close_file();

// The CLI's --log-file / --log-file-level: a non-empty flag wins over
// $HFMIRROR_LOG_FILE / $HFMIRROR_LOG_FILE_LEVEL; the level defaults to info.
// Does nothing when neither names a file. A bad level is a usage error.
Status open_file_from_settings(std::string_view flag_path, std::string_view flag_level);

template <typename... Args>
void emit(Level lvl, fmt::format_string<Args...> f, Args&&... args) {
  if (!enabled(lvl)) return;
  write(lvl, fmt::format(f, std::forward<Args>(args)...));
}

template <typename... Args>
void trace(fmt::format_string<Args...> f, Args&&... a) {
  emit(Level::kTrace, f, std::forward<Args>(a)...);
}
template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... a) {
  emit(Level::kDebug, f, std::forward<Args>(a)...);
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... a) {
  emit(Level::kInfo, f, std::forward<Args>(a)...);
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... a) {
  emit(Level::kWarn, f, std::forward<Args>(a)...);
}
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... a) {
  emit(Level::kError, f, std::forward<Args>(a)...);
}

}  // namespace hfm::log
