// SHA-256 of messages given in pieces (hashed as their concatenation, never copied whole), one
// at a time or two at once. Thread-safe; no allocation.
//
// Why two at once: with the x86 SHA extensions (SHA-NI) the compression function is a chain of
// 32 dependent two-round instructions, so one message keeps the SHA unit waiting on latency
// most of the time. Interleaving the blocks of two independent messages fills those gaps: on
// the AMD EPYC (Zen 4) the audit verifier runs on, two ~1.1 KB messages hash in ~60% of the
// time of two one-by-one (bench/RESULTS.md). Without SHA-NI both functions fall back to
// OpenSSL, one message after the other.
#pragma once

#include <array>
#include <cstddef>
#include <initializer_list>
#include <string_view>

#include "core/crypto.h"

namespace baagate::core {

// Up to four byte strings, in order; the views must outlive the hashing call.
class Sha256Pieces {
 public:
  static constexpr std::size_t kMax = 4;
  // Aborts on more than kMax pieces (a programming error: the callers are fixed).
  Sha256Pieces(std::initializer_list<std::string_view> pieces);

  std::size_t count() const { return count_; }
  std::string_view operator[](std::size_t i) const { return pieces_[i]; }
  std::size_t size() const { return size_; }  // total bytes

 private:
  std::array<std::string_view, kMax> pieces_{};
  std::size_t count_ = 0;
  std::size_t size_ = 0;
};

Sha256Digest Sha256Of(const Sha256Pieces& message);
// The digests of `a` and `b`, as Sha256Of(a) and Sha256Of(b) would give them.
void Sha256OfTwo(const Sha256Pieces& a, const Sha256Pieces& b, Sha256Digest& out_a,
                 Sha256Digest& out_b);
// Whether the SHA-NI code above is in use on this CPU (else OpenSSL's). For tests and reports.
bool Sha256UsesShaNi();

}  // namespace baagate::core
