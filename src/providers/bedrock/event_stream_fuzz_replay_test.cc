// Replays fuzz/corpus/event_stream through the fuzz target's body under GCC, so every seed and
// every crash reproducer stays a regression test in the ordinary test run.
#define BAAGATE_FUZZ_NO_ENTRY
#include "../../../fuzz/event_stream_fuzzer.cc"  // NOLINT: the target under test

#include "../../../fuzz/replay.h"

namespace {

TEST(FuzzCorpusReplay, EventStreamSeedsRunClean) {
  EXPECT_GE(baagate::fuzz::ReplayCorpus("event_stream", baagate::fuzz::EventStreamOneInput), 5);
}

}  // namespace
