// Repo file paths come from the Hub and are untrusted: before one becomes a
// local file name or an S3 key it must be a plain relative path that stays
// inside the destination on POSIX and on Windows (hub-protocol.md §1.3).
// This checks the text only; it does not touch the filesystem (symlinks at the
// destination are the local store's concern).
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace hfm::store {

// Returns the path unchanged when it is safe, else ErrorCode::kUnsafePath
// naming it. Refused: empty; longer than 4096 bytes or a segment longer than
// 255; invalid UTF-8; NUL and control characters; backslashes; absolute paths;
// Windows drive ("C:") forms; empty, "." or ".." segments; a first segment
// ".hfmirror" in any letter case (our state directory).
Result<std::string> validate_repo_path(std::string_view path);

// The text with control characters, '\\', '"' and invalid UTF-8 bytes escaped
// ("\n", "\x7f", "\\"), for quoting untrusted names in messages and logs.
std::string printable(std::string_view text);

}  // namespace hfm::store
