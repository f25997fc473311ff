// libFuzzer target: Hub API answers: tree pages, revision info, Link, RateLimit, Retry-After, ETags, error mapping.
// The checks live in fuzz_checks.h, shared with the unit test that replays
// the corpus and the saved crashes.
#include "fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  hfm::fuzz::check_hub_wire(hfm::fuzz::as_text(data, size));
  return 0;
}
