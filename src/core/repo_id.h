// Hugging Face repo ids ("gpt2", "acme/tiny-model"), checked before they are
// put into URLs, S3 keys or cache folder names. Lives in core because the CLI,
// the config loader, the Hub client and the manifest reader all check them.
#pragma once

#include <string_view>

#include "core/result.h"

namespace hfm {

// "name" or "namespace/name": each part 1..96 of [A-Za-z0-9._-], starting and
// ending with a letter, digit or '_', without "--" or ".." (huggingface_hub's
// validate_repo_id). ErrorCode::kUsage with the reason otherwise.
Status validate_repo_id(std::string_view repo_id);

}  // namespace hfm
