// Replays the fuzz corpora under GCC (the fuzzers themselves build with clang's libFuzzer), so
// every seed and every crash reproducer stays a regression test in the ordinary test run.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

TEST(FuzzCorpusReplay, SseParserSeedsRunClean) {
  std::filesystem::path dir = std::filesystem::path(BAAGATE_FUZZ_CORPUS_DIR) / "sse_parser";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string bytes = ss.str();
    EXPECT_EQ(LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                     bytes.size()),
              0)
        << entry.path();
    ++files;
  }
  EXPECT_GE(files, 5);
}

}  // namespace

#include "../fuzz/sse_parser_fuzzer.cc"  // NOLINT: the target under test, compiled into the replay
