// Replays fuzz/corpus/event_stream through the fuzz target's body under GCC, so every seed and
// every crash reproducer stays a regression test in the ordinary test run.
#define BAAGATE_FUZZ_NO_ENTRY
#include "../../../fuzz/event_stream_fuzzer.cc"  // NOLINT: the target under test

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

TEST(FuzzCorpusReplay, EventStreamSeedsRunClean) {
  std::filesystem::path dir = std::filesystem::path(BAAGATE_FUZZ_CORPUS_DIR) / "event_stream";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string bytes = ss.str();
    EXPECT_EQ(baagate::fuzz::EventStreamOneInput(
                  reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()),
              0)
        << entry.path();
    ++files;
  }
  EXPECT_GE(files, 5);
}

}  // namespace
