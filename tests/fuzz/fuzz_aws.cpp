// libFuzzer target: ~/.aws/config and ~/.aws/credentials, and the times AWS sends (Date, x-amz-date, expirations).
// The checks live in fuzz_checks.h, shared with the unit test that replays
// the corpus and the saved crashes.
#include "fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  hfm::fuzz::check_aws(hfm::fuzz::as_text(data, size));
  return 0;
}
