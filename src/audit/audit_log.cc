#include "audit/audit_log.h"

#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <future>

#include "audit/chain.h"
#include "audit/jcs.h"
#include "core/log.h"
#include "core/uuid.h"

namespace baagate::audit {

namespace {

core::Status MakeDirs(const std::string& path) {
  std::string cur;
  for (std::size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      if (!cur.empty() && ::mkdir(cur.c_str(), 0700) != 0 && errno != EEXIST) {
        return core::UnavailableError("audit: cannot create directory " + cur);
      }
    }
    if (i < path.size()) cur.push_back(path[i]);
  }
  return {};
}

std::string MirrorName(std::string_view log_id) {
  std::string s(log_id);
  for (char& c : s) {
    if (c == '/') c = '_';
  }
  return s;
}

}  // namespace

core::Result<std::unique_ptr<AuditLog>> AuditLog::Open(std::unique_ptr<Store> store,
                                                       AuditLogOptions options) {
  if (!Id::Parse(options.log_id).ok()) {
    return core::InvalidArgumentError("audit: log_id must be an id ([A-Za-z0-9._:/+=-])");
  }
  if (options.origin.empty()) options.origin = "baagate/" + options.log_id;
  if (options.key_name.empty()) options.key_name = options.origin;
  if (options.key_file.empty()) return core::InvalidArgumentError("audit: key_file is required");
  if (options.checkpoint_every == 0) options.checkpoint_every = 1;
  if (options.max_batch == 0) options.max_batch = 1;
  auto key = SigningKey::LoadOrCreate(options.key_file, options.key_name, true);
  if (!key.ok()) return key.status();
  if (!options.mirror_dir.empty()) {
    if (auto s = MakeDirs(options.mirror_dir + "/" + MirrorName(options.log_id)); !s.ok()) {
      return s;
    }
  }
  std::unique_ptr<AuditLog> log(
      new AuditLog(std::move(store), std::move(options), std::move(key).value()));
  if (auto s = log->LoadHead(); !s.ok()) return s;
  log->sync_later_ =
      log->options_.durability == Durability::kStrict && log->store_->CanSyncLater();
  if (log->sync_later_) log->syncer_ = std::thread([l = log.get()] { l->SyncLoop(); });
  log->writer_ = std::thread([l = log.get()] { l->Run(); });
  return log;
}

AuditLog::AuditLog(std::unique_ptr<Store> store, AuditLogOptions options, SigningKey key)
    : store_(std::move(store)),
      options_(std::move(options)),
      key_(std::move(key)),
      actor_key_(key_.DeriveSecret("baagate actor_ref v1")) {}

AuditLog::~AuditLog() { Close(); }

std::int64_t AuditLog::Now() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

core::Status AuditLog::LoadHead() {
  range_ = CompactRange();
  next_seq_ = 0;
  head_.fill(0);
  auto s = store_->ScanViews(options_.log_id, 0, [&](const StoredRecordView& r) {
    range_.AppendLeafHash(HashLeaf(AsView(r.record_hash)));
    head_ = r.record_hash;
    next_seq_ = r.seq + 1;
    return true;
  });
  if (!s.ok()) return s;
  if (next_seq_ != range_.size()) {
    return core::Status(core::StatusCode::kDataLoss,
                        "audit: stored chain " + options_.log_id +
                            " has gaps; run `baagate audit verify`");
  }
  auto cps = store_->Checkpoints(options_.log_id);
  if (!cps.ok()) return cps.status();
  checkpointed_size_ = cps->empty() ? 0 : cps->back().tree_size;
  last_checkpoint_ms_ = Now();
  return {};
}

void AuditLog::Enqueue(Pending p) {
  {
    std::lock_guard lock(mu_);
    if (!closing_) {
      // Only an empty queue can have a sleeping writer; a busy one takes the new item when it
      // comes back for the next batch, so most appends under load make no futex call.
      bool was_empty = queue_.empty();
      queue_.push_back(std::move(p));
      if (was_empty) cv_.notify_one();
      return;
    }
  }
  p.done(core::UnavailableError("audit: log is closed"));
}

namespace {

constexpr std::string_view kHashPlaceholder =
    "0000000000000000000000000000000000000000000000000000000000000000";
constexpr std::string_view kTsPlaceholder = "0000-00-00T00:00:00.000Z";  // FormatTimestampMs width

// Writes `d` as 64 lower-case hex digits at `out`.
void PutHex(const core::Sha256Digest& d, char* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < d.size(); ++i) {
    out[2 * i] = kDigits[d[i] >> 4];
    out[2 * i + 1] = kDigits[d[i] & 15];
  }
}

}  // namespace

template <typename R>
void AuditLog::EncodeAndEnqueue(R record, Phase phase, Callback done) {
  if (record.event_id.empty()) record.event_id = core::NewUuidV7();
  auto encoded = ToCanonical(record);
  if (!encoded.ok()) {
    done(encoded.status());
    return;
  }
  // The whole canonical body is built here, on the caller's thread; the chain fields get
  // fixed-width placeholders (seq is widened by the writer), found by the encoder rather than
  // by searching the text.
  CanonicalObject& obj = *encoded;
  obj.Sort();  // a no-op for ToCanonical's output; the chain fields go in at their places
  obj.InsertStr("log_id", options_.log_id);
  obj.InsertStr("prev_hash", kHashPlaceholder);
  obj.InsertStr("ts", kTsPlaceholder);
  obj.InsertUint("seq", 0);
  Pending p;
  std::size_t at[3];
  // Room for the writer to widen seq in place (at most 16 digits below 2^53).
  p.body = std::move(obj).Finish({"prev_hash", "seq", "ts"}, at, 16);
  if (at[0] == std::string::npos || at[1] == std::string::npos ||
      at[2] == std::string::npos) {
    done(core::InternalError("audit: cannot place the chain fields in the record"));
    return;
  }
  p.prev_at = at[0] + 1;  // past the opening quote
  p.seq_at = at[1];       // at the "0"
  p.ts_at = at[2] + 1;
  p.event_id = std::move(record.event_id);
  p.phase = phase;
  p.done = std::move(done);
  Enqueue(std::move(p));
}

void AuditLog::AppendDecisionAsync(DecisionRecord record, Callback done) {
  EncodeAndEnqueue(std::move(record), Phase::kDecision, std::move(done));
}

void AuditLog::AppendOutcomeAsync(OutcomeRecord record, Callback done) {
  EncodeAndEnqueue(std::move(record), Phase::kOutcome, std::move(done));
}

namespace {

template <typename F>
core::Result<Appended> Wait(F&& start) {
  std::promise<core::Result<Appended>> promise;
  auto future = promise.get_future();
  start([&promise](core::Result<Appended> r) { promise.set_value(std::move(r)); });
  return future.get();
}

}  // namespace

core::Result<Appended> AuditLog::AppendDecision(DecisionRecord record) {
  return Wait([&](Callback cb) { AppendDecisionAsync(std::move(record), std::move(cb)); });
}

core::Result<Appended> AuditLog::AppendOutcome(OutcomeRecord record) {
  return Wait([&](Callback cb) { AppendOutcomeAsync(std::move(record), std::move(cb)); });
}

core::Status AuditLog::Checkpoint() {
  auto r = Wait([&](Callback cb) {
    Pending p;
    p.done = std::move(cb);
    Enqueue(std::move(p));
  });
  return r.ok() ? core::Status() : r.status();
}

void AuditLog::Close() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
    cv_.notify_one();
  }
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard lock(sync_mu_);
    sync_stop_ = true;
  }
  sync_cv_.notify_one();
  if (syncer_.joinable()) syncer_.join();  // after the writer: it completes the last batches
}

void AuditLog::Run() {
  std::deque<Pending> batch;
  for (;;) {
    bool closing = false;
    {
      std::unique_lock lock(mu_);
      auto wait = std::min(options_.idle_checkpoint, options_.checkpoint_interval);
      cv_.wait_for(lock, wait, [&] { return closing_ || !queue_.empty(); });
      closing = closing_;
      if (queue_.size() <= options_.max_batch) {
        batch.swap(queue_);  // the usual case: take everything, without moving each item
      }
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (!batch.empty()) WriteBatch(batch);
    std::int64_t now = Now();
    bool unsigned_tail = range_.size() > checkpointed_size_;
    bool due = range_.size() - checkpointed_size_ >= options_.checkpoint_every ||
               now - last_checkpoint_ms_ >= options_.checkpoint_interval.count() ||
               now - last_append_ms_ >= options_.idle_checkpoint.count();
    if (unsigned_tail && (due || closing)) {
      if (auto s = WriteCheckpoint(); !s.ok()) {
        core::LogLine(core::LogLevel::kError, "audit_checkpoint_failed").Str("error", s.ToString()).Emit();
      }
    }
    if (closing) {
      std::lock_guard lock(mu_);
      if (queue_.empty()) break;
    }
  }
}

void AuditLog::WriteBatch(std::deque<Pending>& batch) {
  std::vector<StoredRecord>& rows = rows_;  // empty: cleared at the end of every batch
  rows.reserve(batch.size());
  std::uint64_t seq = next_seq_;
  core::Sha256Digest prev = head_;
  std::int64_t now = Now();
  std::string ts = FormatTimestampMs(now);
  bool want_checkpoint = false;
  char digits[24];
  for (auto& p : batch) {
    if (!p.body) {
      want_checkpoint = true;
      continue;
    }
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, seq);
    const std::size_t ndigits = static_cast<std::size_t>(end - digits);
    StoredRecord row;
    // Patched in place: the caller reserved room for seq's digits, so this neither allocates
    // nor copies more than the members after seq.
    row.body = std::move(*p.body);
    row.body.replace(p.seq_at, 1, digits, ndigits);
    PutHex(prev, row.body.data() + p.prev_at);
    std::memcpy(row.body.data() + p.ts_at + ndigits - 1, ts.data(), kTsPlaceholder.size());
    const Phase phase = p.phase;
    row.log_id = options_.log_id;
    row.seq = seq;
    row.event_id = std::move(p.event_id);
    row.phase = std::string(Name(phase));
    row.ts_ms = now;
    row.prev_hash = prev;
    row.record_hash = RecordHash(prev, row.body);
    prev = row.record_hash;
    ++seq;
    rows.push_back(std::move(row));
  }
  // With a separate sync the batch is committed as kDefault here and fsynced by SyncLoop
  // before any of its appends completes.
  core::Status s = store_->Append(rows, sync_later_ ? Durability::kDefault : options_.durability);
  if (s.ok()) {
    for (const auto& r : rows) range_.AppendLeafHash(HashLeaf(AsView(r.record_hash)));
    next_seq_ = seq;
    head_ = prev;
    if (!rows.empty()) last_append_ms_ = now;
    if (want_checkpoint && range_.size() > checkpointed_size_) s = WriteCheckpoint();
  } else {
    core::LogLine(core::LogLevel::kError, "audit_append_failed").Str("error", s.ToString()).Emit();
    // The store may or may not hold the batch (e.g. a lost COMMIT acknowledgement): re-read the
    // head so the next batch continues whatever was really committed.
    if (auto reload = LoadHead(); !reload.ok()) {
      core::LogLine(core::LogLevel::kError, "audit_reload_failed").Str("error", reload.ToString()).Emit();
    }
  }
  // Completions in batch order; a record's event_id moves from its row into the result.
  std::vector<Completion>& completions = completions_;  // empty, like rows
  completions.reserve(batch.size());
  std::size_t row = 0;
  for (Pending& p : batch) {
    if (!s.ok()) {
      completions.push_back(
          {std::move(p.done), core::UnavailableError("audit: store unavailable: " + s.message())});
    } else if (!p.body) {
      completions.push_back({std::move(p.done), Appended{}});
    } else {
      StoredRecord& r = rows[row++];
      completions.push_back(
          {std::move(p.done), Appended{r.seq, std::move(r.event_id), r.record_hash}});
    }
  }
  if (sync_later_) {
    {
      std::lock_guard lock(sync_mu_);
      for (auto& c : completions) sync_queue_.push_back(std::move(c));
    }
    sync_cv_.notify_one();
  } else {
    for (auto& c : completions) c.done(std::move(c.result));
  }
  completions.clear();
  rows.clear();
  batch.clear();
}

void AuditLog::SyncLoop() {
  std::vector<Completion> group;
  for (;;) {
    {
      std::unique_lock lock(sync_mu_);
      sync_cv_.wait(lock, [&] { return sync_stop_ || !sync_queue_.empty(); });
      if (sync_queue_.empty()) return;  // stopping, and nothing left to complete
      group.swap(sync_queue_);
    }
    // One fsync for every batch committed since the last one. A failed append's completion is
    // already an error; the others fail too if the sync does (their rows are committed but
    // may not survive power loss, so their requests must not be forwarded).
    core::Status s = store_->SyncAppended();
    if (!s.ok()) {
      core::LogLine(core::LogLevel::kError, "audit_sync_failed").Str("error", s.ToString()).Emit();
    }
    for (auto& c : group) {
      if (!c.done) continue;
      if (!s.ok() && c.result.ok()) {
        c.done(core::UnavailableError("audit: store unavailable: " + s.message()));
      } else {
        c.done(std::move(c.result));
      }
    }
    group.clear();
  }
}

core::Status AuditLog::WriteCheckpoint() {
  audit::Checkpoint cp;
  cp.origin = options_.origin;
  cp.tree_size = range_.size();
  cp.root = range_.Root();
  cp.chain_head = head_;
  cp.ts_ms = Now();
  StoredCheckpoint stored{cp.tree_size, key_.Sign(cp)};
  if (!options_.mirror_dir.empty()) {
    std::string path = options_.mirror_dir + "/" + MirrorName(options_.log_id) + "/" +
                       std::to_string(cp.tree_size) + ".note";
    std::ofstream out(path, std::ios::trunc);
    out << stored.note;
    out.flush();
    if (!out) return core::UnavailableError("audit: cannot write checkpoint mirror " + path);
  }
  if (auto s = store_->AppendCheckpoint(options_.log_id, stored); !s.ok()) return s;
  if (sync_later_) {
    // Strict mode: the checkpoint row is fsynced soon, by the sync thread, as it was by
    // synchronous=FULL before (an entry without a callback only asks for a sync).
    {
      std::lock_guard lock(sync_mu_);
      sync_queue_.push_back({nullptr, Appended{}});
    }
    sync_cv_.notify_one();
  }
  checkpointed_size_ = cp.tree_size;
  last_checkpoint_ms_ = cp.ts_ms;
  return {};
}

}  // namespace baagate::audit
