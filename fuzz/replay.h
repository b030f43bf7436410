// Corpus replay under GCC: runs every file of fuzz/corpus/<name> through a fuzz target's body,
// so each seed and each crash reproducer stays a regression test in the ordinary test run.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace baagate::fuzz {

// Returns how many files were replayed; each must make `target` return 0.
inline int ReplayCorpus(const char* name, int (*target)(const std::uint8_t*, std::size_t)) {
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

}  // namespace baagate::fuzz
