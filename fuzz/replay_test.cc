// Replays the fuzz corpora under GCC (the fuzzers themselves build with clang's libFuzzer), so
// every seed and every crash reproducer stays a regression test in the ordinary test run.
#include "replay.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
int FuzzFeatureExtraction(const std::uint8_t* data, std::size_t size);

namespace {

TEST(FuzzCorpusReplay, FeatureExtractionSeedsRunClean) {
  EXPECT_GE(baagate::fuzz::ReplayCorpus("feature_extract", FuzzFeatureExtraction), 5);
}

TEST(FuzzCorpusReplay, SseParserSeedsRunClean) {
  EXPECT_GE(baagate::fuzz::ReplayCorpus("sse_parser", LLVMFuzzerTestOneInput), 5);
}

}  // namespace

#include "../fuzz/sse_parser_fuzzer.cc"  // NOLINT: the target under test, compiled into the replay
#define BAAGATE_FUZZ_REPLAY
#include "../fuzz/feature_extract_fuzzer.cc"  // NOLINT
