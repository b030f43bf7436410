// The audit verifier (COMPLIANCE.md §5.5): checks one chain end to end.
//
//  1. every checkpoint (from the store and, if given, the mirror directory) carries a valid
//     signature by the pinned key, and tree sizes only grow;
//  2. records: seq contiguity from 0, the prev_hash link, record_hash recomputed over the stored
//     canonical body (the authoritative form), and the row's index columns (seq, event_id,
//     log_id, phase, prev_hash, ts_ms) equal to the body's fields;
//  3. the Merkle root and chain head recomputed at every checkpoint size, from one stream of
//     leaves with O(log n) memory — which also makes every checkpoint a prefix of the next
//     (what a consistency proof between them would show);
//  5. the unsigned tail (records after the last checkpoint), and truncation below a checkpoint.
// It stops at the first failure and reports its position.
//
// Records are read, hashed and folded into Merkle subtrees in batches on `threads` extra
// connections when `open_reader` is given (the hashing dominates); the caller's thread checks
// seq and the links in order and joins the batches' subtrees, which costs next to nothing, so
// verify scales with the reader threads. A reader hashes rows in pairs (RecordHashTwo,
// HashLeafTwo), which with SHA-NI costs ~60% of hashing them one by one.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "audit/checkpoint.h"
#include "audit/store.h"

namespace baagate::audit {

struct VerifyOptions {
  const PublicKey* key = nullptr;  // required
  std::string mirror_dir;          // optional: also trust-check checkpoints found here
  // Optional: opens another connection to the same store for a reader thread (best opened with
  // StoreUse::kScan: each reads its batches once, in order). Without it the records are read
  // and hashed on the calling thread.
  std::function<core::Result<std::unique_ptr<Store>>()> open_reader;
  unsigned threads = 0;  // reader threads with open_reader; 0: one per hardware thread
  std::uint64_t batch = 8192;  // records per read batch (seq range)
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
// Why a row's index columns disagree with its canonical body (the authoritative form), or
// nullptr when they agree.
const char* RowMismatch(const StoredRecordView& r);
const char* RowMismatch(const StoredRecord& r);
// The same without the code for CPUs with AVX-512 (RowMismatch picks it at run time), for
// tests that must cover both on any machine.
const char* RowMismatchPortable(const StoredRecordView& r);

}  // namespace baagate::audit
