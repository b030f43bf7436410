// The audit hash chain (COMPLIANCE.md §4):
//   record_hash = SHA-256("baagate-audit-v1" || 0x00 || prev_hash || JCS(record without
//   record_hash)); the first record of a log uses 32 zero bytes as prev_hash.
#pragma once

#include <initializer_list>
#include <string_view>

#include "core/crypto.h"

namespace baagate::audit {

inline constexpr std::string_view kRecordHashDomain = "baagate-audit-v1";

inline std::string_view AsView(const core::Sha256Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

// SHA-256 of the concatenation of `parts` (at most core::Sha256Pieces::kMax). Thread-safe; no
// allocation and no EVP dispatch, which matters at a million records per second.
core::Sha256Digest Sha256Parts(std::initializer_list<std::string_view> parts);

// `body` is the canonical JSON of the record without record_hash.
core::Sha256Digest RecordHash(const core::Sha256Digest& prev_hash, std::string_view body);
// Two records' hashes at once (see core/sha256_pieces.h for why): what RecordHash gives for
// each. Records' hashes depend only on their stored prev_hash, so verify can pair any two.
void RecordHashTwo(const core::Sha256Digest& prev_a, std::string_view body_a,
                   const core::Sha256Digest& prev_b, std::string_view body_b,
                   core::Sha256Digest& out_a, core::Sha256Digest& out_b);

}  // namespace baagate::audit
