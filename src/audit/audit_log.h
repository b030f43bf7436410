// AuditLog: the writer side of one hash chain (COMPLIANCE.md §4, §5.3).
//
// Callers hand in decision and outcome records; a dedicated writer thread assigns seq, ts and
// prev_hash, computes record_hash over the canonical encoding, and commits whole batches to the
// Store (group commit). An append completes only once its batch is durable per the configured
// Durability; if the store fails, the append fails and the chain does not advance, so the
// gateway can refuse the request (fail closed).
//
// Checkpoints: the writer signs a checkpoint every `checkpoint_every` records, every
// `checkpoint_interval` while records arrive, and after `idle_checkpoint` without appends, so
// the unsigned tail is bounded in time. Each is stored in the Store and, if `mirror_dir` is set,
// also written as `<mirror_dir>/<log_id with '/' as '_'>/<tree_size>.note` (a stand-in for
// write-once storage).
//
// In strict mode on a store that can sync separately (SQLite in WAL mode), a batch is committed
// without waiting for the disk and a sync thread fsyncs the WAL, once for all the batches
// committed meanwhile, before their appends complete: the writer thread goes on with the next
// batch during the fsync.
//
// Thread-safe: any thread may append. Completion callbacks run on the writer thread (the sync
// thread in that strict mode) (or, for a
// record that fails validation, on the caller's thread before the append returns) and must not
// block; post to your own executor from them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <optional>
#include <thread>
#include <vector>

#include "audit/checkpoint.h"
#include "audit/merkle.h"
#include "audit/record.h"
#include "audit/store.h"
#include "core/status.h"

namespace baagate::audit {

struct AuditLogOptions {
  std::string log_id = "default";       // one chain per log_id; replicas each need their own
  std::string origin;                   // checkpoint origin; default "baagate/<log_id>"
  Durability durability = Durability::kDefault;
  std::uint64_t checkpoint_every = 1000;
  std::chrono::milliseconds checkpoint_interval{60000};
  std::chrono::milliseconds idle_checkpoint{1000};
  std::string key_file;                 // Ed25519 signing key; generated (0600) if missing
  std::string key_name;                 // name for a generated key; default: the origin
  std::string mirror_dir;               // optional copy of every checkpoint
  std::size_t max_batch = 4096;
  std::function<std::int64_t()> now_ms;  // injected clock; default system_clock
};

struct Appended {
  std::uint64_t seq = 0;
  std::string event_id;
  core::Sha256Digest record_hash{};
};

class AuditLog {
 public:
  using Callback = std::function<void(core::Result<Appended>)>;

  // Loads the chain head and rebuilds the Merkle right edge from `store` (O(n) once).
  static core::Result<std::unique_ptr<AuditLog>> Open(std::unique_ptr<Store> store,
                                                      AuditLogOptions options);
  ~AuditLog();  // Close()s

  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Asynchronous: `done` runs on the writer thread once the record is durable (or failed).
  void AppendDecisionAsync(DecisionRecord record, Callback done);
  void AppendOutcomeAsync(OutcomeRecord record, Callback done);
  // Blocking: returns once durable. Fails with kUnavailable if the store failed.
  core::Result<Appended> AppendDecision(DecisionRecord record);
  core::Result<Appended> AppendOutcome(OutcomeRecord record);

  // Signs and stores a checkpoint of everything appended so far (blocks).
  core::Status Checkpoint();
  // Flushes, writes a final checkpoint and stops the writer. Later appends fail.
  void Close();

  const PublicKey& public_key() const { return key_.public_key(); }
  // The key of the actor_ref pseudonyms (COMPLIANCE.md §4 field 9), derived from the signing
  // key: a log reader without the key file cannot map an actor_ref back to a credential.
  const core::Sha256Digest& actor_key() const { return actor_key_; }
  const std::string& log_id() const { return options_.log_id; }

 private:
  // A record already encoded on the caller's thread, with log_id and placeholders for the other
  // chain fields, so the writer thread only patches prev_hash, seq and ts in, hashes and commits.
  // No body: a checkpoint request.
  struct Pending {
    std::optional<std::string> body;  // canonical, with "seq":0 and placeholder hash and ts
    std::size_t prev_at = 0;          // offset of the 64 prev_hash hex digits
    std::size_t seq_at = 0;           // offset of the seq value "0"
    std::size_t ts_at = 0;            // offset of the 24 ts characters (before seq is widened)
    std::string event_id;
    Phase phase = Phase::kDecision;
    Callback done;
  };
  template <typename R>
  void EncodeAndEnqueue(R record, Phase phase, Callback done);

  AuditLog(std::unique_ptr<Store> store, AuditLogOptions options, SigningKey key);
  void Enqueue(Pending p);
  void Run();
  void WriteBatch(std::deque<Pending>& batch);
  core::Status WriteCheckpoint();
  core::Status LoadHead();
  std::int64_t Now() const;

  std::unique_ptr<Store> store_;  // used by the writer thread only (and Open)
  const AuditLogOptions options_;
  const SigningKey key_;
  const core::Sha256Digest actor_key_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;  // guarded by mu_
  bool closing_ = false;       // guarded by mu_

  // Writer-thread state: the chain head and the Merkle right edge, advanced only after a
  // batch commits.
  std::uint64_t next_seq_ = 0;
  core::Sha256Digest head_{};
  CompactRange range_;
  std::uint64_t checkpointed_size_ = 0;
  std::int64_t last_checkpoint_ms_ = 0;
  std::int64_t last_append_ms_ = 0;

  // Strict mode with a separate sync: completions wait here for the next WAL fsync.
  struct Completion {
    Callback done;  // none: only a sync is wanted (a checkpoint row)
    core::Result<Appended> result;
  };
  void SyncLoop();
  bool sync_later_ = false;  // set in Open, before the threads start
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  std::vector<Completion> sync_queue_;  // guarded by sync_mu_
  bool sync_stop_ = false;              // guarded by sync_mu_

  // Writer-thread scratch, emptied after each batch but kept allocated: a batch of thousands
  // is a large block, which malloc would otherwise map (or consolidate) and free every batch.
  std::vector<StoredRecord> rows_;
  std::vector<Completion> completions_;

  std::thread writer_;
  std::thread syncer_;
};

}  // namespace baagate::audit
