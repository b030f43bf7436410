// Replays fuzz/corpus/translator_stream through the streaming-translator fuzz target under GCC.
#define BAAGATE_FUZZ_NO_ENTRY
#include "../../../fuzz/translator_stream_fuzzer.cc"  // NOLINT: the target under test

#include "../../../fuzz/replay.h"

namespace {

TEST(FuzzCorpusReplay, TranslatorStreamSeedsRunClean) {
  EXPECT_GE(baagate::fuzz::ReplayCorpus("translator_stream", baagate::fuzz::TranslatorStreamOneInput), 5);
}

}  // namespace
