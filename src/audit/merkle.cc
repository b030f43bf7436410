#include "audit/merkle.h"

#include <algorithm>
#include <bit>
#include <cstdlib>

#include "audit/chain.h"
#include "core/sha256_pieces.h"

namespace baagate::audit {

namespace {

std::uint64_t LargestPowerOfTwoBelow(std::uint64_t n) {  // n >= 2
  return std::bit_floor(n - 1);
}

constexpr char kLeafPrefix[1] = {0x00};
constexpr std::string_view kLeafPrefixView(kLeafPrefix, 1);

}  // namespace

Hash HashLeaf(std::string_view entry) { return Sha256Parts({kLeafPrefixView, entry}); }

void HashLeafTwo(std::string_view entry_a, std::string_view entry_b, Hash& out_a, Hash& out_b) {
  core::Sha256OfTwo({kLeafPrefixView, entry_a}, {kLeafPrefixView, entry_b}, out_a, out_b);
}

Hash HashChildren(const Hash& left, const Hash& right) {
  static constexpr unsigned char kPrefix = 0x01;
  return Sha256Parts({std::string_view(reinterpret_cast<const char*>(&kPrefix), 1), AsView(left),
                      AsView(right)});
}

void HashChildrenTwo(const Hash& left_a, const Hash& right_a, const Hash& left_b,
                     const Hash& right_b, Hash& out_a, Hash& out_b) {
  static constexpr unsigned char kPrefix = 0x01;
  const std::string_view prefix(reinterpret_cast<const char*>(&kPrefix), 1);
  core::Sha256OfTwo({prefix, AsView(left_a), AsView(right_a)},
                    {prefix, AsView(left_b), AsView(right_b)}, out_a, out_b);
}

Hash EmptyTreeRoot() { return Sha256Parts({}); }

void MerkleTree::AppendLeafHash(const Hash& leaf_hash) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(leaf_hash);
  for (std::size_t h = 0; levels_[h].size() % 2 == 0; ++h) {
    if (levels_.size() == h + 1) levels_.emplace_back();
    const auto& level = levels_[h];
    levels_[h + 1].push_back(HashChildren(level[level.size() - 2], level.back()));
  }
}

Hash MerkleTree::SubtreeHash(std::uint64_t begin, std::uint64_t end) const {
  std::uint64_t n = end - begin;
  if (std::has_single_bit(n) && begin % n == 0) {
    return levels_[static_cast<std::size_t>(std::countr_zero(n))][begin / n];
  }
  std::uint64_t k = LargestPowerOfTwoBelow(n);
  return HashChildren(SubtreeHash(begin, begin + k), SubtreeHash(begin + k, end));
}

Hash MerkleTree::RootAt(std::uint64_t size) const {
  if (size == 0) return EmptyTreeRoot();
  if (size > this->size()) std::abort();
  return SubtreeHash(0, size);
}

void MerkleTree::Path(std::uint64_t index, std::uint64_t begin, std::uint64_t end,
                      std::vector<Hash>& out) const {
  std::uint64_t n = end - begin;
  if (n <= 1) return;
  std::uint64_t k = LargestPowerOfTwoBelow(n);
  if (index < begin + k) {
    Path(index, begin, begin + k, out);
    out.push_back(SubtreeHash(begin + k, end));
  } else {
    Path(index, begin + k, end, out);
    out.push_back(SubtreeHash(begin, begin + k));
  }
}

std::vector<Hash> MerkleTree::InclusionProof(std::uint64_t index, std::uint64_t size) const {
  if (index >= size || size > this->size()) std::abort();
  std::vector<Hash> out;
  Path(index, 0, size, out);
  return out;
}

void MerkleTree::SubProof(std::uint64_t m, std::uint64_t begin, std::uint64_t end, bool whole,
                          std::vector<Hash>& out) const {
  std::uint64_t n = end - begin;
  if (m == n) {
    if (!whole) out.push_back(SubtreeHash(begin, end));
    return;
  }
  std::uint64_t k = LargestPowerOfTwoBelow(n);
  if (m <= k) {
    SubProof(m, begin, begin + k, whole, out);
    out.push_back(SubtreeHash(begin + k, end));
  } else {
    SubProof(m - k, begin + k, end, false, out);
    out.push_back(SubtreeHash(begin, begin + k));
  }
}

std::vector<Hash> MerkleTree::ConsistencyProof(std::uint64_t m, std::uint64_t n) const {
  if (m == 0 || m > n || n > size()) std::abort();
  std::vector<Hash> out;
  SubProof(m, 0, n, true, out);
  return out;
}

void CompactRange::AppendLeafHash(const Hash& leaf_hash) {
  Hash h = leaf_hash;
  // Each trailing one bit of size_ is a complete subtree of the same height to merge with.
  for (std::uint64_t s = size_; s & 1; s >>= 1) {
    h = HashChildren(stack_.back(), h);
    stack_.pop_back();
  }
  stack_.push_back(h);
  ++size_;
}

void CompactRange::AppendSubtree(const Subtree& subtree) {
  const std::uint64_t width = std::uint64_t{1} << subtree.height;
  if (size_ % width != 0) std::abort();
  Hash h = subtree.hash;
  // As in AppendLeafHash, one level up: each one bit of size_ from `height` up is a complete
  // subtree to merge with.
  for (std::uint64_t s = size_ >> subtree.height; s & 1; s >>= 1) {
    h = HashChildren(stack_.back(), h);
    stack_.pop_back();
  }
  stack_.push_back(h);
  size_ += width;
}

Hash CompactRange::Root() const {
  if (stack_.empty()) return EmptyTreeRoot();
  Hash r = stack_.back();
  for (std::size_t i = stack_.size() - 1; i-- > 0;) r = HashChildren(stack_[i], r);
  return r;
}

bool VerifyInclusion(std::uint64_t index, std::uint64_t size, const Hash& leaf_hash,
                     const std::vector<Hash>& proof, const Hash& root) {
  if (index >= size) return false;
  std::uint64_t fn = index, sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      r = HashChildren(p, r);
      if (!(fn & 1)) {
        while (fn != 0 && !(fn & 1)) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = HashChildren(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && core::ConstantTimeEqual(r, root);
}

bool VerifyConsistency(std::uint64_t size1, std::uint64_t size2, const Hash& root1,
                       const Hash& root2, const std::vector<Hash>& proof) {
  if (size1 > size2) return false;
  if (size1 == size2) return proof.empty() && core::ConstantTimeEqual(root1, root2);
  if (size1 == 0) return proof.empty();
  if (proof.empty()) return false;
  std::vector<Hash> path;
  path.reserve(proof.size() + 1);
  if (std::has_single_bit(size1)) path.push_back(root1);
  path.insert(path.end(), proof.begin(), proof.end());
  std::uint64_t fn = size1 - 1, sn = size2 - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0], sr = path[0];
  for (std::size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      fr = HashChildren(c, fr);
      sr = HashChildren(c, sr);
      if (!(fn & 1)) {
        while (fn != 0 && !(fn & 1)) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = HashChildren(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && core::ConstantTimeEqual(fr, root1) && core::ConstantTimeEqual(sr, root2);
}

FoldedLeaves FoldLeaves(std::uint64_t begin, std::vector<Hash> leaves,
                        const std::vector<std::uint64_t>& sizes) {
  const std::uint64_t end = begin + leaves.size();
  // levels[h] holds the nodes of height h inside [begin, end): global indices first[h] on
  // (the node i covers leaves [i * 2^h, (i + 1) * 2^h)).
  std::vector<std::vector<Hash>> levels;
  std::vector<std::uint64_t> first{begin};
  levels.push_back(std::move(leaves));
  for (;;) {
    const std::vector<Hash>& below = levels.back();
    const std::uint64_t from = first.back();
    const std::uint64_t up_first = (from + 1) / 2, up_end = (from + below.size()) / 2;
    if (up_end <= up_first) break;
    std::vector<Hash> up(up_end - up_first);
    const Hash* child = below.data() + (2 * up_first - from);
    std::size_t j = 0;
    for (; j + 1 < up.size(); j += 2, child += 4) {
      HashChildrenTwo(child[0], child[1], child[2], child[3], up[j], up[j + 1]);
    }
    if (j < up.size()) up[j] = HashChildren(child[0], child[1]);
    levels.push_back(std::move(up));
    first.push_back(up_first);
  }
  // The maximal aligned subtrees covering [begin, to), left to right.
  auto cover = [&](std::uint64_t to) {
    std::vector<Subtree> out;
    for (std::uint64_t pos = begin; pos < to;) {
      unsigned h = static_cast<unsigned>(std::bit_width(to - pos) - 1);
      if (pos != 0) h = std::min(h, static_cast<unsigned>(std::countr_zero(pos)));
      out.push_back({h, levels[h][(pos >> h) - first[h]]});
      pos += std::uint64_t{1} << h;
    }
    return out;
  };
  FoldedLeaves folded;
  for (std::uint64_t size : sizes) {
    if (size > begin && size <= end) folded.prefixes.emplace_back(size, cover(size));
  }
  folded.subtrees = cover(end);
  return folded;
}

}  // namespace baagate::audit
