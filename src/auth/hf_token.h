// Finds the Hugging Face token the way huggingface_hub does: --token, then
// HF_TOKEN (or the legacy HUGGING_FACE_HUB_TOKEN), then the token file
// (HF_TOKEN_PATH, else $HF_HOME/token, else ~/.cache/huggingface/token).
// HF_HUB_DISABLE_IMPLICIT_TOKEN=1 turns off everything but --token. Values
// are trimmed; empty means none. The result is a Secret: it never prints.
#pragma once

#include <optional>
#include <string>

#include "core/secret.h"

namespace hfm::auth {

struct TokenSource {
  Secret token;
  std::string origin;  // "--token", "HF_TOKEN", "token file <path>" (for logs)
};

std::optional<TokenSource> find_hf_token(const std::optional<std::string>& flag_value);

}  // namespace hfm::auth
