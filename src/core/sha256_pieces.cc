#include "core/sha256_pieces.h"

// OpenSSL's one-step SHA256_* (deprecated in OpenSSL 3 but kept) for CPUs without SHA-NI: no
// EVP dispatch per call. (The precompiled header may already have declared them deprecated,
// hence a pragma rather than OPENSSL_SUPPRESS_DEPRECATED.)
#include <openssl/sha.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace baagate::core {

Sha256Pieces::Sha256Pieces(std::initializer_list<std::string_view> pieces) {
  if (pieces.size() > kMax) {
    std::fputs("fatal: too many SHA-256 pieces\n", stderr);
    std::abort();
  }
  for (std::string_view p : pieces) {
    pieces_[count_++] = p;
    size_ += p.size();
  }
}

namespace {

// The message with its SHA-256 padding (0x80, zeros, the bit length), one 64-byte block after
// the other: a pointer into a piece when the next 64 bytes lie inside one (all but the first
// and last few blocks of a long message), else the block assembled in the caller's scratch.
class BlockReader {
 public:
  explicit BlockReader(const Sha256Pieces& m) : m_(m), blocks_((m.size() + 9 + 63) / 64) {}
  std::size_t blocks() const { return blocks_; }

  // Requires fewer than blocks() calls so far. Inlined: it runs for every block.
  [[gnu::always_inline]] const std::uint8_t* Next(std::uint8_t* scratch) {
    while (piece_ < m_.count() && at_ == m_[piece_].size()) Advance();
    ++block_;
    if (piece_ < m_.count() && m_[piece_].size() - at_ >= 64) {
      at_ += 64;
      return reinterpret_cast<const std::uint8_t*>(m_[piece_].data()) + (at_ - 64);
    }
    Assemble(scratch);
    return scratch;
  }

 private:
  // The next block from the ends of pieces and the padding.
  void Assemble(std::uint8_t* scratch) {
    std::size_t filled = 0;
    while (filled < 64 && piece_ < m_.count()) {
      const std::size_t n = std::min(64 - filled, m_[piece_].size() - at_);
      std::memcpy(scratch + filled, m_[piece_].data() + at_, n);
      filled += n;
      at_ += n;
      if (at_ == m_[piece_].size()) Advance();
    }
    if (filled < 64) {  // the message ended in this block or before it
      std::memset(scratch + filled, 0, 64 - filled);
      if (!marked_) scratch[filled] = 0x80;
      marked_ = true;
      if (block_ == blocks_) {
        const std::uint64_t bits = static_cast<std::uint64_t>(m_.size()) * 8;
        for (int j = 0; j < 8; ++j) scratch[63 - j] = static_cast<std::uint8_t>(bits >> (8 * j));
      }
    }
  }

  void Advance() {
    ++piece_;
    at_ = 0;
  }

  const Sha256Pieces& m_;
  const std::size_t blocks_;
  std::size_t block_ = 0;  // blocks handed out
  std::size_t piece_ = 0, at_ = 0;  // the next message byte: m_[piece_][at_]
  bool marked_ = false;  // the 0x80 after the message is written
};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
Sha256Digest OpenSslSha256(const Sha256Pieces& m) {
  SHA256_CTX ctx;
  Sha256Digest out{};
  bool ok = SHA256_Init(&ctx) == 1;
  for (std::size_t i = 0; ok && i < m.count(); ++i) {
    ok = SHA256_Update(&ctx, m[i].data(), m[i].size()) == 1;
  }
  if (!ok || SHA256_Final(out.data(), &ctx) != 1) {
    std::fputs("fatal: SHA-256 failed\n", stderr);
    std::abort();
  }
  return out;
}
#pragma GCC diagnostic pop

#if defined(__x86_64__)

bool DetectShaNi() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) || !(c & bit_SSE4_1)) return false;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  return (b & bit_SHA) != 0;
}

alignas(16) constexpr std::uint32_t kRoundConstants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

// The eight state words in the order SHA256RNDS2 takes them: lanes 3..0 of `abef` hold A, B,
// E, F and those of `cdgh` hold C, D, G, H.
struct NiState {
  __m128i abef, cdgh;
};

#define BAAGATE_SHA_NI __attribute__((target("sha,sse4.1")))

BAAGATE_SHA_NI NiState NiInit() {
  return {_mm_set_epi32(0x6a09e667, static_cast<int>(0xbb67ae85), 0x510e527f,
                        static_cast<int>(0x9b05688c)),
          _mm_set_epi32(0x3c6ef372, static_cast<int>(0xa54ff53a), 0x1f83d9ab, 0x5be0cd19)};
}

// One block into each of `kLanes` independent states. The lanes' instructions are interleaved
// round by round, which is the point: each lane's rounds depend on each other, the lanes'
// do not. Message words W[4g..4g+3] are made from the previous four groups with the SHA
// message instructions: W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16].
template <int kLanes>
[[gnu::always_inline]] BAAGATE_SHA_NI inline void NiCompress(NiState* s,
                                                             const std::uint8_t* const* block) {
  const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i w[kLanes][4];
  NiState saved[kLanes];
  for (int n = 0; n < kLanes; ++n) saved[n] = s[n];
#pragma GCC unroll 16
  for (int g = 0; g < 16; ++g) {
    const __m128i k = _mm_load_si128(reinterpret_cast<const __m128i*>(kRoundConstants + 4 * g));
#pragma GCC unroll 4
    for (int n = 0; n < kLanes; ++n) {
      __m128i m;
      if (g < 4) {
        m = _mm_shuffle_epi8(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(block[n] + 16 * g)), byte_swap);
      } else {
        __m128i x = _mm_sha256msg1_epu32(w[n][g % 4], w[n][(g + 1) % 4]);
        x = _mm_add_epi32(x, _mm_alignr_epi8(w[n][(g + 3) % 4], w[n][(g + 2) % 4], 4));
        m = _mm_sha256msg2_epu32(x, w[n][(g + 3) % 4]);
      }
      w[n][g % 4] = m;
      __m128i mk = _mm_add_epi32(m, k);
      s[n].cdgh = _mm_sha256rnds2_epu32(s[n].cdgh, s[n].abef, mk);
      mk = _mm_shuffle_epi32(mk, 0x0E);
      s[n].abef = _mm_sha256rnds2_epu32(s[n].abef, s[n].cdgh, mk);
    }
  }
  for (int n = 0; n < kLanes; ++n) {
    s[n].abef = _mm_add_epi32(s[n].abef, saved[n].abef);
    s[n].cdgh = _mm_add_epi32(s[n].cdgh, saved[n].cdgh);
  }
}

BAAGATE_SHA_NI Sha256Digest NiDigest(const NiState& s) {
  alignas(16) std::uint32_t abef[4], cdgh[4];
  _mm_store_si128(reinterpret_cast<__m128i*>(abef), s.abef);
  _mm_store_si128(reinterpret_cast<__m128i*>(cdgh), s.cdgh);
  const std::uint32_t h[8] = {abef[3], abef[2], cdgh[3], cdgh[2],
                              abef[1], abef[0], cdgh[1], cdgh[0]};
  Sha256Digest out;
  for (int i = 0; i < 8; ++i) {
    for (int j = 0; j < 4; ++j) out[4 * i + j] = static_cast<std::uint8_t>(h[i] >> (24 - 8 * j));
  }
  return out;
}

// The blocks `m` has left, one lane.
[[gnu::always_inline]] BAAGATE_SHA_NI inline void NiFinish(NiState& s, BlockReader& m,
                                                           std::size_t left,
                                                           std::uint8_t* scratch) {
  for (; left > 0; --left) {
    const std::uint8_t* block = m.Next(scratch);
    NiCompress<1>(&s, &block);
  }
}

BAAGATE_SHA_NI Sha256Digest NiSha256(const Sha256Pieces& message) {
  BlockReader m(message);
  std::uint8_t scratch[64];
  NiState s = NiInit();
  NiFinish(s, m, m.blocks(), scratch);
  return NiDigest(s);
}

BAAGATE_SHA_NI void NiSha256Two(const Sha256Pieces& a, const Sha256Pieces& b, Sha256Digest& out_a,
                                Sha256Digest& out_b) {
  BlockReader ma(a), mb(b);
  std::uint8_t scratch_a[64], scratch_b[64];
  NiState s[2] = {NiInit(), NiInit()};
  const std::size_t both = std::min(ma.blocks(), mb.blocks());
  for (std::size_t k = 0; k < both; ++k) {
    const std::uint8_t* blocks[2] = {ma.Next(scratch_a), mb.Next(scratch_b)};
    NiCompress<2>(s, blocks);
  }
  NiFinish(s[0], ma, ma.blocks() - both, scratch_a);
  NiFinish(s[1], mb, mb.blocks() - both, scratch_b);
  out_a = NiDigest(s[0]);
  out_b = NiDigest(s[1]);
}

#undef BAAGATE_SHA_NI

#else  // not x86-64: OpenSSL only

bool DetectShaNi() { return false; }

#endif

}  // namespace

bool Sha256UsesShaNi() {
  static const bool kShaNi = DetectShaNi();
  return kShaNi;
}

Sha256Digest Sha256Of(const Sha256Pieces& message) {
#if defined(__x86_64__)
  if (Sha256UsesShaNi()) return NiSha256(message);
#endif
  return OpenSslSha256(message);
}

void Sha256OfTwo(const Sha256Pieces& a, const Sha256Pieces& b, Sha256Digest& out_a,
                 Sha256Digest& out_b) {
#if defined(__x86_64__)
  if (Sha256UsesShaNi()) return NiSha256Two(a, b, out_a, out_b);
#endif
  out_a = OpenSslSha256(a);
  out_b = OpenSslSha256(b);
}

}  // namespace baagate::core
