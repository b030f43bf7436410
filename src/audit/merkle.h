// RFC 6962 / RFC 9162 Merkle tree over the audit log's record hashes (COMPLIANCE.md §5.4).
//
//   leaf hash  = SHA-256(0x00 || entry)          entry = the 32-byte record_hash
//   inner node = SHA-256(0x01 || left || right)
//   MTH of n > 1 leaves splits at k, the largest power of two strictly less than n.
//
// MerkleTree keeps every complete subtree's hash (2n hashes), so roots at any earlier size and
// inclusion and consistency proofs cost O(log^2 n) hashes. CompactRange keeps only the O(log n)
// right-edge hashes the writer needs for the current root. Neither is thread-safe.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "core/crypto.h"

namespace baagate::audit {

using Hash = core::Sha256Digest;

Hash HashLeaf(std::string_view entry);
// Two leaves at once (see core/sha256_pieces.h for why): what HashLeaf gives for each.
void HashLeafTwo(std::string_view entry_a, std::string_view entry_b, Hash& out_a, Hash& out_b);
Hash HashChildren(const Hash& left, const Hash& right);
// Two inner nodes at once: what HashChildren gives for each pair.
void HashChildrenTwo(const Hash& left_a, const Hash& right_a, const Hash& left_b,
                     const Hash& right_b, Hash& out_a, Hash& out_b);
Hash EmptyTreeRoot();

class MerkleTree {
 public:
  void AppendLeafHash(const Hash& leaf_hash);
  void AppendEntry(std::string_view entry) { AppendLeafHash(HashLeaf(entry)); }

  std::uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }
  // Root of the first `size` leaves; requires size <= this->size().
  Hash RootAt(std::uint64_t size) const;
  Hash Root() const { return RootAt(size()); }
  // RFC 6962 PATH(index, D[0:size]); requires index < size <= this->size().
  std::vector<Hash> InclusionProof(std::uint64_t index, std::uint64_t size) const;
  // RFC 6962 PROOF(m, D[0:n]); requires 0 < m <= n <= this->size().
  std::vector<Hash> ConsistencyProof(std::uint64_t m, std::uint64_t n) const;

 private:
  Hash SubtreeHash(std::uint64_t begin, std::uint64_t end) const;
  void Path(std::uint64_t index, std::uint64_t begin, std::uint64_t end,
            std::vector<Hash>& out) const;
  void SubProof(std::uint64_t m, std::uint64_t begin, std::uint64_t end, bool whole,
                std::vector<Hash>& out) const;

  // levels_[h][i]: hash of the complete subtree of 2^h leaves starting at leaf i * 2^h.
  std::vector<std::vector<Hash>> levels_;
};

// A complete subtree of 2^height leaves.
struct Subtree {
  unsigned height = 0;
  Hash hash{};
};

// The right edge of a growing tree: O(log n) memory, O(1) amortised hashing per append.
class CompactRange {
 public:
  void AppendLeafHash(const Hash& leaf_hash);
  // Appends 2^height leaves at once, given their subtree's hash; size() must be a multiple of
  // 2^height (as it is for every subtree FoldLeaves hands out when it began at size()).
  void AppendSubtree(const Subtree& subtree);
  std::uint64_t size() const { return size_; }
  Hash Root() const;

 private:
  std::uint64_t size_ = 0;
  std::vector<Hash> stack_;  // complete subtrees, largest first; one per set bit of size_
};

// The leaves [begin, end) of a tree, folded into the maximal aligned complete subtrees that
// cover them, left to right (O(log n) of them), and the same for [begin, size) for each of
// `sizes` (ascending; those in (begin, end] are used). Lets `verify` hash disjoint seq ranges
// of one tree on several threads: appending a fold's subtrees, in order, to a CompactRange of
// size `begin` gives the same tree as appending the leaves one by one. Computed a level at a
// time, so that the inner nodes are hashed two at a time (HashChildrenTwo; one by one they
// were ~6% of verify's time).
struct FoldedLeaves {
  std::vector<Subtree> subtrees;
  std::vector<std::pair<std::uint64_t, std::vector<Subtree>>> prefixes;  // (size, fold)
};
FoldedLeaves FoldLeaves(std::uint64_t begin, std::vector<Hash> leaves,
                        const std::vector<std::uint64_t>& sizes);

// RFC 9162 §2.1.3.2. True iff `proof` shows the leaf at `index` is in the tree of `size` with
// root `root`.
bool VerifyInclusion(std::uint64_t index, std::uint64_t size, const Hash& leaf_hash,
                     const std::vector<Hash>& proof, const Hash& root);
// RFC 9162 §2.1.4.2. True iff `proof` shows the tree of size1/root1 is a prefix of the tree of
// size2/root2. size1 == 0 is consistent with anything (with an empty proof).
bool VerifyConsistency(std::uint64_t size1, std::uint64_t size2, const Hash& root1,
                       const Hash& root2, const std::vector<Hash>& proof);

}  // namespace baagate::audit
