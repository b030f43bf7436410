// UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits. Time-ordered, so request ids
// sort by arrival, which later makes the audit log easy to scan.
#pragma once

#include <cstdint>
#include <string>

namespace baagate::core {

// Thread-safe: each thread draws from its own generator, seeded once from the CSPRNG.
std::string NewUuidV7();
// Same layout from explicit inputs; for tests.
std::string FormatUuidV7ForTest(std::uint64_t unix_ms, std::uint64_t rand_hi, std::uint64_t rand_lo);

}  // namespace baagate::core
