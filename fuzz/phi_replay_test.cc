// Replays the PHI fuzz corpora under GCC (the fuzzers build with clang's libFuzzer), so every
// seed and crash reproducer stays a regression test. Both targets are compiled in here under
// their own names.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#define LLVMFuzzerTestOneInput PhiDetectorFuzzOne
#include "../fuzz/phi_detector_fuzzer.cc"  // NOLINT
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput PhiReidentifyFuzzOne
#include "../fuzz/phi_reidentify_fuzzer.cc"  // NOLINT
#undef LLVMFuzzerTestOneInput

namespace {

int ReplayDir(const char* name, int (*target)(const std::uint8_t*, std::size_t)) {
  std::filesystem::path dir = std::filesystem::path(BAAGATE_FUZZ_CORPUS_DIR) / name;
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string bytes = ss.str();
    EXPECT_EQ(target(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), 0)
        << entry.path();
    ++files;
  }
  return files;
}

TEST(FuzzCorpusReplay, PhiDetectorSeedsRunClean) {
  EXPECT_GE(ReplayDir("phi_detector", PhiDetectorFuzzOne), 5);
}

TEST(FuzzCorpusReplay, PhiReidentifySeedsRunClean) {
  EXPECT_GE(ReplayDir("phi_reidentify", PhiReidentifyFuzzOne), 5);
}

}  // namespace
