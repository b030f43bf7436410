#include "core/sha256_pieces.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace baagate::core {
namespace {

// FIPS 180-2 examples, and the lengths around every padding boundary.
TEST(Sha256Pieces, MatchesKnownAnswers) {
  EXPECT_EQ(HexEncode(Sha256Of({"abc"})),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode(Sha256Of({"abcdbcdecdefdefgefghfghighijhi", "jkijkljklmklmnlmnomnopnopq"})),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(HexEncode(Sha256Of({})),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

// Every length from 0 to 300 bytes and record-sized ones, cut into one to four pieces at random
// places (empty pieces included), one at a time and in pairs of different lengths, against
// OpenSSL's EVP SHA-256 of the whole message.
TEST(Sha256Pieces, EqualsOpenSslForAnyLengthAndSplit) {
  std::mt19937 rng(20261123);
  std::string data(1400, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  auto split = [&](std::string_view m) {
    std::size_t cut[3];
    for (auto& c : cut) c = m.empty() ? 0 : rng() % (m.size() + 1);
    std::sort(std::begin(cut), std::end(cut));
    switch (rng() % 4) {
      case 0: return Sha256Pieces({m});
      case 1: return Sha256Pieces({m.substr(0, cut[0]), m.substr(cut[0])});
      case 2:
        return Sha256Pieces({m.substr(0, cut[0]), m.substr(cut[0], cut[2] - cut[0]),
                             m.substr(cut[2])});
      default:
        return Sha256Pieces({m.substr(0, cut[0]), m.substr(cut[0], cut[1] - cut[0]),
                             m.substr(cut[1], cut[2] - cut[1]), m.substr(cut[2])});
    }
  };
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n <= 300; ++n) lengths.push_back(n);
  for (int i = 0; i < 200; ++i) lengths.push_back(1000 + rng() % 400);
  for (std::size_t n : lengths) {
    std::string_view a(data.data() + rng() % 7, n);
    std::string_view b(data.data() + 3, lengths[rng() % lengths.size()]);
    const Sha256Pieces pa = split(a), pb = split(b);
    ASSERT_EQ(Sha256Of(pa), Sha256(a)) << n;
    Sha256Digest da, db;
    Sha256OfTwo(pa, pb, da, db);
    ASSERT_EQ(da, Sha256(a)) << n;
    ASSERT_EQ(db, Sha256(b)) << b.size();
  }
}

TEST(Sha256Pieces, ReportsWhichImplementationRuns) {
  // Informational: the equality tests above cover whichever this CPU uses.
  std::printf("SHA-256 pieces: %s\n", Sha256UsesShaNi() ? "SHA-NI" : "OpenSSL");
  SUCCEED();
}

}  // namespace
}  // namespace baagate::core
