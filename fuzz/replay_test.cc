// Replays the fuzz corpora under GCC (the fuzzers themselves build with clang's libFuzzer), so
// every seed and every crash reproducer stays a regression test in the ordinary test run.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
int FuzzFeatureExtraction(const std::uint8_t* data, std::size_t size);

namespace {

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(FuzzCorpusReplay, FeatureExtractionSeedsRunClean) {
  std::filesystem::path dir = std::filesystem::path(BAAGATE_FUZZ_CORPUS_DIR) / "feature_extract";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string bytes = ReadAll(entry.path());
    EXPECT_EQ(FuzzFeatureExtraction(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), 0)
        << entry.path();
    ++files;
  }
  EXPECT_GE(files, 5);
}

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
#define BAAGATE_FUZZ_REPLAY
#include "../fuzz/feature_extract_fuzzer.cc"  // NOLINT
