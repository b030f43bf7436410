#include "core/uuid.h"

#include <chrono>
#include <random>

#include "core/crypto.h"

namespace baagate::core {

namespace {

std::string Format(std::uint64_t unix_ms, std::uint64_t rand_hi, std::uint64_t rand_lo) {
  std::uint8_t b[16];
  for (int i = 0; i < 6; ++i) b[i] = static_cast<std::uint8_t>(unix_ms >> (40 - 8 * i));
  b[6] = static_cast<std::uint8_t>(0x70 | ((rand_hi >> 8) & 0x0f));  // version 7
  b[7] = static_cast<std::uint8_t>(rand_hi);
  b[8] = static_cast<std::uint8_t>(0x80 | ((rand_lo >> 56) & 0x3f));  // variant 10
  for (int i = 9; i < 16; ++i) b[i] = static_cast<std::uint8_t>(rand_lo >> (8 * (15 - i)));
  std::string hex = HexEncode(b, sizeof b);
  return hex.substr(0, 8) + '-' + hex.substr(8, 4) + '-' + hex.substr(12, 4) + '-' +
         hex.substr(16, 4) + '-' + hex.substr(20);
}

std::mt19937_64& ThreadGenerator() {
  thread_local std::mt19937_64 gen = [] {
    std::uint8_t seed_bytes[8];
    SecureRandomBytes(seed_bytes, sizeof seed_bytes);
    std::uint64_t seed = 0;
    for (std::uint8_t byte : seed_bytes) seed = seed << 8 | byte;
    return std::mt19937_64(seed);
  }();
  return gen;
}

}  // namespace

std::string NewUuidV7() {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  auto& gen = ThreadGenerator();
  return Format(static_cast<std::uint64_t>(ms), gen(), gen());
}

std::string FormatUuidV7ForTest(std::uint64_t unix_ms, std::uint64_t rand_hi,
                                std::uint64_t rand_lo) {
  return Format(unix_ms, rand_hi, rand_lo);
}

}  // namespace baagate::core
