// libFuzzer target: S3 XML answers and the escaping of request bodies.
// The checks live in fuzz_checks.h, shared with the unit test that replays
// the corpus and the saved crashes.
#include "fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  hfm::fuzz::check_s3_xml(hfm::fuzz::as_text(data, size));
  return 0;
}
