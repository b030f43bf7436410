// Replays the PHI fuzz corpora under GCC (the fuzzers build with clang's libFuzzer), so every
// seed and crash reproducer stays a regression test. Both targets are compiled in here under
// their own names.
#include "replay.h"

#include <cstdint>
#include <string>

#define LLVMFuzzerTestOneInput PhiDetectorFuzzOne
#include "../fuzz/phi_detector_fuzzer.cc"  // NOLINT
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput PhiReidentifyFuzzOne
#include "../fuzz/phi_reidentify_fuzzer.cc"  // NOLINT
#undef LLVMFuzzerTestOneInput

namespace {

using baagate::fuzz::ReplayCorpus;

TEST(FuzzCorpusReplay, PhiDetectorSeedsRunClean) {
  EXPECT_GE(ReplayCorpus("phi_detector", PhiDetectorFuzzOne), 5);
}

TEST(FuzzCorpusReplay, PhiReidentifySeedsRunClean) {
  EXPECT_GE(ReplayCorpus("phi_reidentify", PhiReidentifyFuzzOne), 5);
}

}  // namespace
