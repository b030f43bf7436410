// The audit verifier (COMPLIANCE.md §5.5): checks one chain end to end.
//
//  1. every checkpoint (from the store and, if given, the mirror directory) carries a valid
//     signature by the pinned key, and tree sizes only grow;
//  2. records: seq contiguity from 0, the prev_hash link, record_hash recomputed over the stored
//     canonical body, the body's own seq;
//  3. the Merkle root and chain head recomputed at every checkpoint size;
//  4. a consistency proof between each pair of consecutive checkpoints;
//  5. the unsigned tail (records after the last checkpoint), and truncation below a checkpoint.
// It stops at the first failure and reports its position.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "audit/checkpoint.h"
#include "audit/store.h"

namespace baagate::audit {

struct VerifyOptions {
  const PublicKey* key = nullptr;  // required
  std::string mirror_dir;          // optional: also trust-check checkpoints found here
};

struct VerifyReport {
  std::string log_id;
  bool ok = false;
  std::uint64_t records = 0;
  std::uint64_t checkpoints = 0;
  std::uint64_t signed_size = 0;    // largest verified checkpoint size
  std::uint64_t unsigned_tail = 0;  // records after it
  std::optional<std::uint64_t> first_bad_seq;
  std::string problem;  // empty when ok
};

// Fails only when the store cannot be read; a broken chain is a report with ok == false.
core::Result<VerifyReport> VerifyLog(Store& store, const std::string& log_id,
                                     const VerifyOptions& options);

// The `seq` value written in a canonical record body, or nullopt if there is none.
std::optional<std::uint64_t> BodySeq(std::string_view body);

}  // namespace baagate::audit
