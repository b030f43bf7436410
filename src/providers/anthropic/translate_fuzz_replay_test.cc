// Replays fuzz/corpus/translator_stream through the streaming-translator fuzz target under GCC.
#define BAAGATE_FUZZ_NO_ENTRY
#include "../../../fuzz/translator_stream_fuzzer.cc"  // NOLINT: the target under test

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

TEST(FuzzCorpusReplay, TranslatorStreamSeedsRunClean) {
  std::filesystem::path dir =
      std::filesystem::path(BAAGATE_FUZZ_CORPUS_DIR) / "translator_stream";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string bytes = ss.str();
    EXPECT_EQ(baagate::fuzz::TranslatorStreamOneInput(
                  reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()),
              0)
        << entry.path();
    ++files;
  }
  EXPECT_GE(files, 5);
}

}  // namespace
