// libFuzzer target: URLs, redirect Locations, percent-encoding, Retry-After / RateLimit for the retry policy.
// The checks live in fuzz_checks.h, shared with the unit test that replays
// the corpus and the saved crashes.
#include "fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  hfm::fuzz::check_http(hfm::fuzz::as_text(data, size));
  return 0;
}
