// The storage seam of the audit log. SQLite (sqlite_store.h) and PostgreSQL (postgres_store.h)
// implement it natively; they share only the encoding and hashing done above them.
//
// A Store instance is used from one thread at a time (the AuditLog's writer thread, or a CLI);
// open one per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto.h"
#include "core/status.h"

namespace baagate::audit {

// One row: the canonical JSON `body` (without record_hash) plus columns that index it.
struct StoredRecord {
  std::string log_id;
  std::uint64_t seq = 0;
  std::string event_id;
  std::string phase;
  std::int64_t ts_ms = 0;
  core::Sha256Digest prev_hash{};
  core::Sha256Digest record_hash{};
  std::string body;
};

// A row as a scan hands it out without copying: the views point into the store's current row
// and are valid only during the callback. `verify` and opening a log read every record once,
// so they use this; the hashes are copied (a stored hash of the wrong length reads as zeros).
struct StoredRecordView {
  std::string_view log_id;
  std::uint64_t seq = 0;
  std::string_view event_id;
  std::string_view phase;
  std::int64_t ts_ms = 0;
  core::Sha256Digest prev_hash{};
  core::Sha256Digest record_hash{};
  std::string_view body;
};

inline StoredRecordView ViewOf(const StoredRecord& r) {
  StoredRecordView v;
  v.log_id = r.log_id;
  v.seq = r.seq;
  v.event_id = r.event_id;
  v.phase = r.phase;
  v.ts_ms = r.ts_ms;
  v.prev_hash = r.prev_hash;
  v.record_hash = r.record_hash;
  v.body = r.body;
  return v;
}

struct StoredCheckpoint {
  std::uint64_t tree_size = 0;
  std::string note;  // the signed note, verbatim
};

enum class Durability {
  kDefault,  // committed (survives a process crash) before Append returns
  kStrict,   // committed and fsynced (survives power loss) before Append returns
};

class Store {
 public:
  virtual ~Store() = default;

  // Appends rows atomically (all or none) and durably per `durability`. Rows must continue
  // their log's chain; a duplicate (log_id, seq) fails with kAlreadyExists and writes nothing.
  virtual core::Status Append(const std::vector<StoredRecord>& rows, Durability durability) = 0;
  virtual core::Status AppendCheckpoint(const std::string& log_id, const StoredCheckpoint& cp) = 0;

  // Calls `fn` for each row of `log_id` with seq >= from_seq in seq order until it returns false.
  virtual core::Status Scan(const std::string& log_id, std::uint64_t from_seq,
                            const std::function<bool(const StoredRecord&)>& fn) = 0;
  // Scan without copies. The default adapts Scan; a store that can hand out its row buffers
  // overrides it. (Inline, so that code using only Store, such as the verifier's fuzz target,
  // links without the stores.)
  virtual core::Status ScanViews(const std::string& log_id, std::uint64_t from_seq,
                                 const std::function<bool(const StoredRecordView&)>& fn) {
    return Scan(log_id, from_seq, [&](const StoredRecord& r) { return fn(ViewOf(r)); });
  }
  // Like Scan, but over rows whose ts lies in [from_ms, to_ms), across all logs.
  virtual core::Status ScanTime(std::int64_t from_ms, std::int64_t to_ms,
                                const std::function<bool(const StoredRecord&)>& fn) = 0;
  // Checkpoints of `log_id`, by tree size.
  virtual core::Result<std::vector<StoredCheckpoint>> Checkpoints(const std::string& log_id) = 0;
  virtual core::Result<std::vector<std::string>> LogIds() = 0;
  virtual core::Result<std::optional<StoredRecord>> FindEvent(const std::string& event_id) = 0;
  // The last row of `log_id`, if any.
  virtual core::Result<std::optional<StoredRecord>> Last(const std::string& log_id) = 0;

  // Whether SyncAppended works: then a kStrict batch may be appended as kDefault and made to
  // survive power loss afterwards, so that the appending thread need not wait for the disk.
  virtual bool CanSyncLater() const { return false; }
  // Makes every row appended so far survive power loss, as kStrict would have. The one call
  // that may run on another thread than the appending one, concurrently with it.
  virtual core::Status SyncAppended() {
    return core::UnavailableError("audit store: no separate sync");
  }
};

// What a connection is for. kScan: it only reads whole chains in seq order, once (verify's
// reader threads); a store may then tune itself for one sequential pass (sqlite_store.h).
enum class StoreUse { kGeneral, kScan };

// "sqlite:PATH" or "postgres:CONNINFO".
core::Result<std::unique_ptr<Store>> OpenStore(const std::string& spec,
                                               StoreUse use = StoreUse::kGeneral);

}  // namespace baagate::audit
