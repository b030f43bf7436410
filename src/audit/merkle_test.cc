#include "audit/merkle.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace baagate::audit {
namespace {

// Known-answer vectors of RFC 6962 trees, as used by Certificate Transparency and
// transparency-dev/merkle (proof/verify_test.go): eight leaves, the roots of trees of 1..8
// leaves, and published inclusion and consistency proofs.
Hash H(std::string_view hex) {
  Hash h{};
  EXPECT_TRUE(core::ParseSha256Hex(hex, &h)) << hex;
  return h;
}

std::string Bytes(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

const std::vector<std::string> kLeaves = {
    Bytes(""), Bytes("00"), Bytes("10"), Bytes("2021"), Bytes("3031"), Bytes("40414243"),
    Bytes("5051525354555657"), Bytes("606162636465666768696a6b6c6d6e6f")};

const char* const kRoots[] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

struct ProofVector {
  std::uint64_t a, b;  // inclusion: leaf index, tree size; consistency: size1, size2
  std::vector<const char*> proof;
};

const std::vector<ProofVector> kInclusion = {
    {0, 8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5, 8,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1, 5,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

const std::vector<ProofVector> kConsistency = {
    {1, 8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6, 8,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 5,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {6, 7,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

std::vector<Hash> Decode(const std::vector<const char*>& v) {
  std::vector<Hash> out;
  for (auto* s : v) out.push_back(H(s));
  return out;
}

MerkleTree KnownTree() {
  MerkleTree t;
  for (const auto& l : kLeaves) t.AppendEntry(l);
  return t;
}

TEST(MerkleTree, EmptyTreeRootIsSha256OfNothing) {
  EXPECT_EQ(core::HexEncode(EmptyTreeRoot()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(MerkleTree().Root(), EmptyTreeRoot());
}

TEST(MerkleTree, RootsMatchKnownVectorsAtEverySize) {
  MerkleTree t = KnownTree();
  CompactRange range;
  for (std::uint64_t n = 1; n <= 8; ++n) {
    EXPECT_EQ(core::HexEncode(t.RootAt(n)), kRoots[n - 1]) << n;
    range.AppendLeafHash(HashLeaf(kLeaves[n - 1]));
    EXPECT_EQ(core::HexEncode(range.Root()), kRoots[n - 1]) << n;
  }
}

TEST(MerkleTree, InclusionProofsMatchKnownVectorsAndVerify) {
  MerkleTree t = KnownTree();
  for (const auto& v : kInclusion) {
    auto want = Decode(v.proof);
    EXPECT_EQ(t.InclusionProof(v.a, v.b), want) << v.a << "/" << v.b;
    EXPECT_TRUE(VerifyInclusion(v.a, v.b, HashLeaf(kLeaves[v.a]), want, H(kRoots[v.b - 1])));
  }
}

TEST(MerkleTree, ConsistencyProofsMatchKnownVectorsAndVerify) {
  MerkleTree t = KnownTree();
  for (const auto& v : kConsistency) {
    auto want = Decode(v.proof);
    EXPECT_EQ(t.ConsistencyProof(v.a, v.b), want) << v.a << "->" << v.b;
    EXPECT_TRUE(VerifyConsistency(v.a, v.b, H(kRoots[v.a - 1]), H(kRoots[v.b - 1]), want));
  }
}

TEST(MerkleTree, CorruptedInclusionProofsAreRejected) {
  MerkleTree t = KnownTree();
  for (const auto& v : kInclusion) {
    auto proof = Decode(v.proof);
    Hash leaf = HashLeaf(kLeaves[v.a]);
    Hash root = H(kRoots[v.b - 1]);
    EXPECT_FALSE(VerifyInclusion(v.a + 1, v.b, leaf, proof, root));
    EXPECT_FALSE(VerifyInclusion(v.a, v.b * 2, leaf, proof, root));
    EXPECT_FALSE(VerifyInclusion(v.a, v.b, HashLeaf("WrongLeaf"), proof, root));
    EXPECT_FALSE(VerifyInclusion(v.a, v.b, leaf, proof, EmptyTreeRoot()));
    auto longer = proof;
    longer.push_back(root);
    EXPECT_FALSE(VerifyInclusion(v.a, v.b, leaf, longer, root));
    auto shorter = proof;
    shorter.pop_back();
    EXPECT_FALSE(VerifyInclusion(v.a, v.b, leaf, shorter, root));
    for (std::size_t i = 0; i < proof.size(); ++i) {
      auto flipped = proof;
      flipped[i][0] ^= 8;
      EXPECT_FALSE(VerifyInclusion(v.a, v.b, leaf, flipped, root));
    }
  }
}

TEST(MerkleTree, CorruptedConsistencyProofsAreRejected) {
  for (const auto& v : kConsistency) {
    auto proof = Decode(v.proof);
    Hash r1 = H(kRoots[v.a - 1]), r2 = H(kRoots[v.b - 1]);
    EXPECT_FALSE(VerifyConsistency(v.a, v.b, r2, r1, proof));
    EXPECT_FALSE(VerifyConsistency(v.a - 1, v.b, r1, r2, proof));
    EXPECT_FALSE(VerifyConsistency(v.a, v.b, r1, r2, {}));
    auto longer = proof;
    longer.push_back(r1);
    EXPECT_FALSE(VerifyConsistency(v.a, v.b, r1, r2, longer));
    auto shorter = proof;
    shorter.pop_back();
    EXPECT_FALSE(VerifyConsistency(v.a, v.b, r1, r2, shorter));
    for (std::size_t i = 0; i < proof.size(); ++i) {
      auto flipped = proof;
      flipped[i][0] ^= 16;
      EXPECT_FALSE(VerifyConsistency(v.a, v.b, r1, r2, flipped));
    }
  }
  EXPECT_TRUE(VerifyConsistency(0, 5, EmptyTreeRoot(), H(kRoots[4]), {}));
  EXPECT_FALSE(VerifyConsistency(2, 1, H(kRoots[1]), H(kRoots[0]), {}));
}

TEST(MerkleTree, EveryProofOfTreesUpTo70LeavesVerifiesAgainstRecomputedRoots) {
  MerkleTree t;
  for (int i = 0; i < 70; ++i) t.AppendEntry("leaf-" + std::to_string(i));
  for (std::uint64_t n = 1; n <= 70; ++n) {
    Hash root = t.RootAt(n);
    for (std::uint64_t i = 0; i < n; ++i) {
      auto p = t.InclusionProof(i, n);
      ASSERT_TRUE(VerifyInclusion(i, n, HashLeaf("leaf-" + std::to_string(i)), p, root));
      ASSERT_FALSE(VerifyInclusion(i, n, HashLeaf("forged"), p, root));
    }
    for (std::uint64_t m = 1; m <= n; ++m) {
      ASSERT_TRUE(VerifyConsistency(m, n, t.RootAt(m), root, t.ConsistencyProof(m, n)))
          << m << "->" << n;
    }
  }
}

// The fold FoldLeaves computes, a leaf at a time (as verify computed it before): the last two
// subtrees merge when they have the same height h and end is a multiple of 2^(h+1); a subtree
// left of `begin` never merges.
class RangeFold {
 public:
  explicit RangeFold(std::uint64_t begin) : end_(begin) {}
  void AppendLeafHash(const Hash& leaf_hash) {
    subtrees_.push_back({0, leaf_hash});
    ++end_;
    while (subtrees_.size() >= 2) {
      Subtree& right = subtrees_.back();
      Subtree& left = subtrees_[subtrees_.size() - 2];
      if (left.height != right.height || end_ % (std::uint64_t{2} << right.height) != 0) break;
      left.hash = HashChildren(left.hash, right.hash);
      ++left.height;
      subtrees_.pop_back();
    }
  }
  std::uint64_t end() const { return end_; }
  const std::vector<Subtree>& subtrees() const { return subtrees_; }

 private:
  std::uint64_t end_;
  std::vector<Subtree> subtrees_;
};

TEST(MerkleTree, FoldsJoinedInAnyChunkingGiveTheSameRoots) {
  // verify folds seq batches on reader threads and joins them: every chunk size (aligned or
  // not) and every prefix must give the roots of the one-leaf-at-a-time tree.
  std::vector<Hash> leaves;
  MerkleTree t;
  for (int i = 0; i < 100; ++i) {
    leaves.push_back(HashLeaf("leaf-" + std::to_string(i)));
    t.AppendLeafHash(leaves.back());
  }
  for (std::uint64_t chunk = 1; chunk <= 37; ++chunk) {
    CompactRange joined;
    for (std::uint64_t begin = 0; begin < leaves.size(); begin += chunk) {
      const std::uint64_t end = std::min<std::uint64_t>(begin + chunk, leaves.size());
      std::vector<std::uint64_t> sizes;
      for (std::uint64_t size = begin + 1; size <= end; ++size) sizes.push_back(size);
      const FoldedLeaves folded = FoldLeaves(
          begin, std::vector<Hash>(leaves.begin() + begin, leaves.begin() + end), sizes);
      ASSERT_EQ(folded.prefixes.size(), sizes.size());
      for (const auto& [size, subtrees] : folded.prefixes) {
        CompactRange at = joined;
        for (const Subtree& st : subtrees) at.AppendSubtree(st);
        ASSERT_EQ(at.size(), size);
        ASSERT_EQ(at.Root(), t.RootAt(size)) << "chunk " << chunk << " size " << size;
      }
      for (const Subtree& st : folded.subtrees) joined.AppendSubtree(st);
    }
    EXPECT_EQ(joined.Root(), t.Root());
  }
}

TEST(MerkleTree, FoldLeavesGivesRangeFoldsSubtreesAndPrefixes) {
  // verify's readers fold a batch a level at a time: for any start and length, the subtrees
  // and every prefix's subtrees must be RangeFold's (same heights, same hashes, same order).
  std::vector<Hash> leaves;
  for (int i = 0; i < 300; ++i) leaves.push_back(HashLeaf("leaf-" + std::to_string(i)));
  auto same = [](const std::vector<Subtree>& a, const std::vector<Subtree>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (a[i].height != b[i].height || a[i].hash != b[i].hash) return false;
    }
    return true;
  };
  for (std::uint64_t begin : {0, 1, 3, 8, 64, 77}) {
    for (std::uint64_t count = 0; begin + count <= leaves.size(); count += 1 + count / 7) {
      std::vector<std::uint64_t> sizes;
      for (std::uint64_t s = 0; s <= begin + count + 2; s += 3) sizes.push_back(s);
      const FoldedLeaves folded = FoldLeaves(
          begin, std::vector<Hash>(leaves.begin() + begin, leaves.begin() + begin + count), sizes);
      RangeFold fold(begin);
      std::size_t prefix = 0;
      for (std::uint64_t i = begin; i < begin + count; ++i) {
        fold.AppendLeafHash(leaves[i]);
        if (fold.end() % 3 == 0) {
          ASSERT_LT(prefix, folded.prefixes.size());
          EXPECT_EQ(folded.prefixes[prefix].first, fold.end());
          EXPECT_TRUE(same(folded.prefixes[prefix].second, fold.subtrees()))
              << begin << "+" << count << " at " << fold.end();
          ++prefix;
        }
      }
      EXPECT_EQ(prefix, folded.prefixes.size()) << begin << "+" << count;
      EXPECT_TRUE(same(folded.subtrees, fold.subtrees())) << begin << "+" << count;
    }
  }
}

}  // namespace
}  // namespace baagate::audit
