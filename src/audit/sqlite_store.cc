#include "audit/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace baagate::audit {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS audit_records (
  log_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  phase TEXT NOT NULL,
  ts_ms INTEGER NOT NULL,
  prev_hash BLOB NOT NULL,
  record_hash BLOB NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (log_id, seq)
);
CREATE INDEX IF NOT EXISTS audit_records_event ON audit_records(event_id);
CREATE INDEX IF NOT EXISTS audit_records_ts ON audit_records(ts_ms);
CREATE TABLE IF NOT EXISTS audit_checkpoints (
  log_id TEXT NOT NULL,
  tree_size INTEGER NOT NULL,
  note TEXT NOT NULL,
  PRIMARY KEY (log_id, tree_size)
) WITHOUT ROWID;
)sql";

class Stmt {
 public:
  Stmt() = default;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(s_); }
  sqlite3_stmt** out() { return &s_; }
  sqlite3_stmt* get() const { return s_; }

 private:
  sqlite3_stmt* s_ = nullptr;
};

// Copies the WAL back into the database file on its own thread and connection, so the writer
// thread's group commits do not stop for that copy and its fsyncs. A PASSIVE checkpoint never
// blocks the writer; it only backfills frames committed before it started, so while appends
// keep coming the WAL cannot rewind, and the writer then checkpoints itself (see WalHook) once
// the WAL reaches kWalHardBytes, which by then copies only the frames since the last
// background pass. Durability does not depend on checkpoints: a commit is durable in the WAL.
class Checkpointer {
 public:
  explicit Checkpointer(std::string path) : path_(std::move(path)) {}
  ~Checkpointer() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

  // Asks for a pass (the writer thread calls this from the WAL hook, after a commit).
  void Poke() {
    {
      std::lock_guard lock(mu_);
      if (busy_ || failed_) return;
      wanted_ = true;
      if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
    }
    cv_.notify_one();
  }

 private:
  void Run() {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      sqlite3_close_v2(db);
      std::lock_guard lock(mu_);
      failed_ = true;  // the writer's own checkpoints at the hard limit still bound the WAL
      return;
    }
    // A connection finds the WAL on its first read; until then it has none to checkpoint.
    (void)sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr);
    for (;;) {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || wanted_; });
        if (stop_) break;
        wanted_ = false;
        busy_ = true;
      }
      // SQLITE_BUSY (the writer is checkpointing itself) just means: next time.
      (void)sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      std::lock_guard lock(mu_);
      busy_ = false;
    }
    sqlite3_close_v2(db);
  }

  const std::string path_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool wanted_ = false, busy_ = false, stop_ = false, failed_ = false;  // guarded by mu_
  std::thread thread_;
};

// WAL sizes at which the background pass is asked for and at which the writer checkpoints
// itself, in bytes (the hook counts pages, whose size depends on the database). 64 MB is
// about 48k records; with half these limits batched appends measured ~3% slower (more
// passes, each copying the B-trees' last pages again).
constexpr std::int64_t kWalSoftBytes = std::int64_t{64} << 20;
constexpr std::int64_t kWalHardBytes = 4 * kWalSoftBytes;

class SqliteStore final : public Store {
 public:
  // Both paths as SQLite resolved them (absolute), so a later chdir cannot misdirect them.
  explicit SqliteStore(sqlite3* db)
      : db_(db), wal_path_(WalPath(db)), checkpointer_(std::string(DbPath(db))) {}
  ~SqliteStore() override {
    checkpointer_.reset();  // its connection closes first, so ours does the final checkpoint
    sqlite3_close_v2(db_);
  }

  core::Status Init(StoreUse use) {
    // Only takes effect on a new database. A decision record is about 1.3 KB: 16 KB pages hold
    // twelve with little slack (4 KB pages hold three and waste a quarter). Per record, larger
    // pages mean fewer WAL frames (two pwrite calls and a checksum each), fewer page splits
    // and fewer page changes in a scan: batched appends ran ~20% faster than with 8 KB pages
    // and verify ~5%. The price is paid by a commit of a single record, which rewrites the
    // last page of each of the four B-trees: ~35 us more per lone append (bench/RESULTS.md);
    // 32 KB pages gained little more throughput for twice that. (A WITHOUT ROWID table
    // clustered on (log_id, seq) was measured too: appends into an index B-tree rebalance more
    // and ended up slower overall.)
    if (auto s = Exec("PRAGMA page_size=16384"); !s.ok()) return s;
    {
      Stmt size;
      if (auto s = Prepare("PRAGMA page_size", size); !s.ok()) return s;
      if (sqlite3_step(size.get()) != SQLITE_ROW) return Error("page_size");
      const std::int64_t page = std::max<std::int64_t>(512, sqlite3_column_int64(size.get(), 0));
      wal_soft_pages_ = static_cast<int>(kWalSoftBytes / page);
      wal_hard_pages_ = static_cast<int>(kWalHardBytes / page);
    }
    {
      Stmt mode;
      if (auto s = Prepare("PRAGMA journal_mode=WAL", mode); !s.ok()) return s;
      if (sqlite3_step(mode.get()) != SQLITE_ROW) return Error("journal_mode");
      const auto* m = reinterpret_cast<const char*>(sqlite3_column_text(mode.get(), 0));
      wal_ = m && std::string_view(m) == "wal" && !wal_path_.empty();  // not for :memory:
    }
    if (auto s = Exec("PRAGMA synchronous=NORMAL"); !s.ok()) return s;
    if (auto s = use == StoreUse::kScan ? TuneForScan() : TuneForGeneral(); !s.ok()) return s;
    sqlite3_busy_timeout(db_, 5000);
    if (auto s = Exec(kSchema); !s.ok()) return s;  // a new database scans as empty
    if (use == StoreUse::kScan) return Exec("PRAGMA query_only=1");
    if (auto s = Prepare("INSERT INTO audit_records(log_id,seq,event_id,phase,ts_ms,prev_hash,"
                         "record_hash,body) VALUES(?,?,?,?,?,?,?,?)",
                         insert_);
        !s.ok()) {
      return s;
    }
    return {};
  }

  core::Status TuneForGeneral() {
    // A whole group-commit batch (4096 records, about 5.5 MB) stays in the page cache instead
    // of spilling to the WAL page by page; not much more, so that pages are recycled rather
    // than allocated anew for every batch.
    if (auto s = Exec("PRAGMA cache_size=-16384"); !s.ok()) return s;
    // For connections that never Append (the appending one checkpoints via WalHook).
    if (auto s = Exec("PRAGMA wal_autocheckpoint=8192"); !s.ok()) return s;
    // Scans (report, query, opening a log) read through a memory map instead of one pread(2)
    // per page.
    return Exec("PRAGMA mmap_size=1073741824");
  }

  // A connection for one sequential pass (see OpenSqliteStore): pread(2) into sixteen 16 KB
  // buffers (room for a B-tree path and the current leaf), recycled while still in the CPU
  // cache, instead of a memory map.
  core::Status TuneForScan() {
    if (auto s = Exec("PRAGMA mmap_size=0"); !s.ok()) return s;
    return Exec("PRAGMA cache_size=-256");
  }

  // Store:
  core::Status Append(const std::vector<StoredRecord>& rows, Durability durability) override {
    if (rows.empty()) return {};
    if (!hooked_) {
      // Replaces SQLite's own auto-checkpoint (wal_autocheckpoint) for this connection.
      sqlite3_wal_hook(db_, &SqliteStore::WalHook, this);
      hooked_ = true;
    }
    if (durability != current_) {
      auto s = Exec(durability == Durability::kStrict ? "PRAGMA synchronous=FULL"
                                                      : "PRAGMA synchronous=NORMAL");
      if (!s.ok()) return s;
      current_ = durability;
    }
    if (auto s = Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
    for (const auto& r : rows) {
      sqlite3_stmt* st = insert_.get();
      sqlite3_reset(st);
      sqlite3_bind_text(st, 1, r.log_id.data(), static_cast<int>(r.log_id.size()), SQLITE_STATIC);
      sqlite3_bind_int64(st, 2, static_cast<sqlite3_int64>(r.seq));
      sqlite3_bind_text(st, 3, r.event_id.data(), static_cast<int>(r.event_id.size()),
                        SQLITE_STATIC);
      sqlite3_bind_text(st, 4, r.phase.data(), static_cast<int>(r.phase.size()), SQLITE_STATIC);
      sqlite3_bind_int64(st, 5, r.ts_ms);
      sqlite3_bind_blob(st, 6, r.prev_hash.data(), 32, SQLITE_STATIC);
      sqlite3_bind_blob(st, 7, r.record_hash.data(), 32, SQLITE_STATIC);
      sqlite3_bind_text(st, 8, r.body.data(), static_cast<int>(r.body.size()), SQLITE_STATIC);
      int rc = sqlite3_step(st);
      if (rc != SQLITE_DONE) {
        core::Status err = (rc & 0xff) == SQLITE_CONSTRAINT
                               ? core::Status(core::StatusCode::kAlreadyExists,
                                              "audit sqlite: duplicate (log_id, seq)")
                               : Error("insert");
        sqlite3_reset(st);
        (void)Exec("ROLLBACK");
        return err;
      }
    }
    sqlite3_reset(insert_.get());
    if (auto s = Exec("COMMIT"); !s.ok()) {
      (void)Exec("ROLLBACK");
      return s;
    }
    return {};
  }

  bool CanSyncLater() const override { return wal_; }

  // A commit in WAL mode is the WAL's frames; with synchronous=NORMAL they are written but not
  // fsynced, which fdatasync on the WAL file then does (what synchronous=FULL does inside
  // COMMIT). Frames of earlier commits that a checkpoint moved into the database file and a
  // WAL restart overwrote were fsynced by that checkpoint, in the database file.
  core::Status SyncAppended() override {
    int fd = ::open(wal_path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return core::UnavailableError("audit sqlite: cannot open the WAL to sync it");
    int rc = ::fdatasync(fd);
    ::close(fd);
    if (rc != 0) return core::UnavailableError("audit sqlite: fdatasync of the WAL failed");
    return {};
  }

  core::Status AppendCheckpoint(const std::string& log_id, const StoredCheckpoint& cp) override {
    Stmt st;
    if (auto s = Prepare("INSERT OR REPLACE INTO audit_checkpoints(log_id,tree_size,note) "
                         "VALUES(?,?,?)",
                         st);
        !s.ok()) {
      return s;
    }
    sqlite3_bind_text(st.get(), 1, log_id.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st.get(), 2, static_cast<sqlite3_int64>(cp.tree_size));
    sqlite3_bind_text(st.get(), 3, cp.note.data(), static_cast<int>(cp.note.size()),
                      SQLITE_STATIC);
    if (sqlite3_step(st.get()) != SQLITE_DONE) return Error("insert checkpoint");
    return {};
  }

  // `select` followed by the rows of `log_id` from `from_seq` on, in seq order.
  core::Status PrepareLogScan(const std::string& select, const std::string& log_id,
                              std::uint64_t from_seq, Stmt& st) {
    if (auto s = Prepare(select + " WHERE log_id=? AND seq>=? ORDER BY seq", st); !s.ok()) {
      return s;
    }
    sqlite3_bind_text(st.get(), 1, log_id.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st.get(), 2, static_cast<sqlite3_int64>(from_seq));
    return {};
  }

  core::Status Scan(const std::string& log_id, std::uint64_t from_seq,
                    const std::function<bool(const StoredRecord&)>& fn) override {
    Stmt st;
    if (auto s = PrepareLogScan(Sql(""), log_id, from_seq, st); !s.ok()) return s;
    return Run(st, fn);
  }

  // Rows come in rowid order when that is seq order, as it is for every log the writer built
  // (it inserts in seq order and nothing is ever deleted): a plain walk of the table B-tree,
  // where the (log_id, seq) index order costs an index step and a table search per row. The
  // walk hands out a row only while the seqs run on contiguously from `from_seq`; since
  // (log_id, seq) is unique, those are exactly the first rows of the index-ordered scan. At
  // the first row out of line (or the table's end) the scan continues from that seq in index
  // order, so the callback sees the same rows in the same order either way.
  core::Status ScanViews(const std::string& log_id, std::uint64_t from_seq,
                         const std::function<bool(const StoredRecordView&)>& fn) override {
    StoredRecordView v;
    v.log_id = log_id;
    std::uint64_t next = from_seq;
    {
      Stmt first;
      if (auto s = Prepare("SELECT rowid FROM audit_records WHERE log_id=? AND seq=?", first);
          !s.ok()) {
        return s;
      }
      sqlite3_bind_text(first.get(), 1, log_id.data(), static_cast<int>(log_id.size()),
                        SQLITE_STATIC);
      sqlite3_bind_int64(first.get(), 2, static_cast<sqlite3_int64>(from_seq));
      int rc = sqlite3_step(first.get());
      if (rc == SQLITE_ROW) {
        bool stop = false;
        if (auto s = ScanRowidOrder(log_id, sqlite3_column_int64(first.get(), 0), fn, v, next,
                                    stop);
            !s.ok() || stop) {
          return s;
        }
      } else if (rc != SQLITE_DONE) {
        return Error("scan");
      }
    }
    // log_id is not read back: the WHERE clause makes it equal to the argument (binary
    // collation), and every column read is a copy inside SQLite.
    Stmt st;
    if (auto s = PrepareLogScan("SELECT seq,event_id,phase,ts_ms,prev_hash,record_hash,body FROM "
                                "audit_records",
                                log_id, next, st);
        !s.ok()) {
      return s;
    }
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      RowView(st.get(), 0, v);
      if (!fn(v)) return {};
    }
    if (rc != SQLITE_DONE) return Error("scan");
    return {};
  }

  core::Status ScanTime(std::int64_t from_ms, std::int64_t to_ms,
                        const std::function<bool(const StoredRecord&)>& fn) override {
    Stmt st;
    if (auto s = Prepare(Sql(" WHERE ts_ms>=? AND ts_ms<? ORDER BY ts_ms, log_id, seq"),
                         st);
        !s.ok()) {
      return s;
    }
    sqlite3_bind_int64(st.get(), 1, from_ms);
    sqlite3_bind_int64(st.get(), 2, to_ms);
    return Run(st, fn);
  }

  core::Result<std::vector<StoredCheckpoint>> Checkpoints(const std::string& log_id) override {
    Stmt st;
    if (auto s = Prepare("SELECT tree_size, note FROM audit_checkpoints WHERE log_id=? "
                         "ORDER BY tree_size",
                         st);
        !s.ok()) {
      return s;
    }
    sqlite3_bind_text(st.get(), 1, log_id.c_str(), -1, SQLITE_STATIC);
    std::vector<StoredCheckpoint> out;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      StoredCheckpoint cp;
      cp.tree_size = static_cast<std::uint64_t>(sqlite3_column_int64(st.get(), 0));
      cp.note = Text(st.get(), 1);
      out.push_back(std::move(cp));
    }
    if (rc != SQLITE_DONE) return Error("read checkpoints");
    return out;
  }

  core::Result<std::vector<std::string>> LogIds() override {
    Stmt st;
    if (auto s = Prepare("SELECT DISTINCT log_id FROM audit_records UNION "
                         "SELECT DISTINCT log_id FROM audit_checkpoints ORDER BY 1",
                         st);
        !s.ok()) {
      return s;
    }
    std::vector<std::string> out;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) out.push_back(Text(st.get(), 0));
    if (rc != SQLITE_DONE) return Error("read log ids");
    return out;
  }

  core::Result<std::optional<StoredRecord>> FindEvent(const std::string& event_id) override {
    Stmt st;
    if (auto s = Prepare(Sql(" WHERE event_id=? ORDER BY log_id, seq LIMIT 1"),
                         st);
        !s.ok()) {
      return s;
    }
    sqlite3_bind_text(st.get(), 1, event_id.c_str(), -1, SQLITE_STATIC);
    return One(st);
  }

  core::Result<std::optional<StoredRecord>> Last(const std::string& log_id) override {
    Stmt st;
    if (auto s = Prepare(Sql(" WHERE log_id=? ORDER BY seq DESC LIMIT 1"), st);
        !s.ok()) {
      return s;
    }
    sqlite3_bind_text(st.get(), 1, log_id.c_str(), -1, SQLITE_STATIC);
    return One(st);
  }

 private:
  static constexpr const char* kSelect =
      "SELECT log_id,seq,event_id,phase,ts_ms,prev_hash,record_hash,body FROM audit_records";

  // kSelect + `where`, built by appending: GCC 12 misreports operator+ here (-Warray-bounds).
  static std::string Sql(std::string_view where) {
    std::string sql(kSelect);
    sql.append(where);
    return sql;
  }

  static std::string Text(sqlite3_stmt* st, int col) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(st, col)))
             : std::string();
  }
  // Column reads go through sqlite3_column_value and then the value's accessors: each
  // sqlite3_column_* call does the statement's bookkeeping again (verify's scans spent ~9% of
  // their time in those calls). The value is valid until the next step, and each connection is
  // used by one thread at a time.
  static void Blob(sqlite3_stmt* st, int col, core::Sha256Digest& out) {
    out.fill(0);
    sqlite3_value* v = sqlite3_column_value(st, col);
    const void* p = sqlite3_value_blob(v);
    int n = sqlite3_value_bytes(v);
    // A tampered hash of the wrong length reads as zeros; verify then reports the mismatch.
    if (p && n == 32) std::memcpy(out.data(), p, 32);
  }
  // Assigns in place, so a scan reuses the strings' buffers instead of allocating per row.
  static void AssignText(sqlite3_stmt* st, int col, std::string& out) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, col));
    std::size_t n = p ? static_cast<std::size_t>(sqlite3_column_bytes(st, col)) : 0;
    // resize + memcpy rather than assign: GCC 12 misreports assign here (-Warray-bounds).
    out.resize(n);
    if (n > 0) std::memcpy(out.data(), p, n);
  }
  static void Row(sqlite3_stmt* st, StoredRecord& r) {
    AssignText(st, 0, r.log_id);
    r.seq = static_cast<std::uint64_t>(sqlite3_column_int64(st, 1));
    AssignText(st, 2, r.event_id);
    AssignText(st, 3, r.phase);
    r.ts_ms = sqlite3_column_int64(st, 4);
    Blob(st, 5, r.prev_hash);
    Blob(st, 6, r.record_hash);
    AssignText(st, 7, r.body);
  }

  static std::string_view View(sqlite3_stmt* st, int col) {
    sqlite3_value* v = sqlite3_column_value(st, col);
    const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(v));
    return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_value_bytes(v)))
             : std::string_view();
  }
  // Points into SQLite's copy of the current row: valid until the next step or reset. Reads
  // the columns seq,event_id,phase,ts_ms,prev_hash,record_hash,body from column `at` on.
  static void RowView(sqlite3_stmt* st, int at, StoredRecordView& r) {
    r.seq = static_cast<std::uint64_t>(sqlite3_column_int64(st, at));
    r.event_id = View(st, at + 1);
    r.phase = View(st, at + 2);
    r.ts_ms = sqlite3_column_int64(st, at + 3);
    Blob(st, at + 4, r.prev_hash);
    Blob(st, at + 5, r.record_hash);
    r.body = View(st, at + 6);
  }

  // ScanViews' walk in rowid order from `rowid` (the row of seq `next`): hands `fn` the rows of
  // `log_id` while their seqs run on from `next`, advancing `next`. Sets `stop` if `fn` asked
  // to stop. Returns early, `next` at the row expected, on a row out of line, at the table's
  // end, or when other logs' rows outnumber this log's (then the index is the shorter way).
  core::Status ScanRowidOrder(const std::string& log_id, sqlite3_int64 rowid,
                              const std::function<bool(const StoredRecordView&)>& fn,
                              StoredRecordView& v, std::uint64_t& next, bool& stop) {
    Stmt st;
    if (auto s = Prepare("SELECT log_id,seq,event_id,phase,ts_ms,prev_hash,record_hash,body "
                         "FROM audit_records WHERE rowid>=? ORDER BY rowid",
                         st);
        !s.ok()) {
      return s;
    }
    sqlite3_bind_int64(st.get(), 1, rowid);
    std::uint64_t mine = 0, others = 0;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      // Typed as the index scan compares them: a BLOB log_id or a REAL seq is another key.
      if (sqlite3_column_type(st.get(), 0) != SQLITE_TEXT || View(st.get(), 0) != log_id) {
        if (++others > mine + 1024) return {};
        continue;
      }
      if (sqlite3_column_type(st.get(), 1) != SQLITE_INTEGER ||
          static_cast<std::uint64_t>(sqlite3_column_int64(st.get(), 1)) != next) {
        return {};
      }
      RowView(st.get(), 1, v);
      ++next;
      ++mine;
      if (!fn(v)) {
        stop = true;
        return {};
      }
    }
    if (rc != SQLITE_DONE) return Error("scan");
    return {};
  }

  core::Status Run(Stmt& st, const std::function<bool(const StoredRecord&)>& fn) {
    StoredRecord r;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      Row(st.get(), r);
      if (!fn(r)) return {};
    }
    if (rc != SQLITE_DONE) return Error("scan");
    return {};
  }

  core::Result<std::optional<StoredRecord>> One(Stmt& st) {
    int rc = sqlite3_step(st.get());
    if (rc == SQLITE_DONE) return std::optional<StoredRecord>();
    if (rc != SQLITE_ROW) return Error("read");
    StoredRecord r;
    Row(st.get(), r);
    return std::optional<StoredRecord>(std::move(r));
  }

  core::Status Prepare(const std::string& sql, Stmt& st) {
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, st.out(), nullptr) != SQLITE_OK) {
      return Error("prepare");
    }
    return {};
  }

  core::Status Exec(const char* sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) return Error("exec");
    return {};
  }

  // SQLite's messages describe the database, never record content, so they are safe to pass on.
  core::Status Error(const char* what) {
    return core::UnavailableError(std::string("audit sqlite: ") + what + ": " +
                                  sqlite3_errmsg(db_));
  }

  static const char* DbPath(sqlite3* db) {
    const char* path = sqlite3_db_filename(db, "main");
    return path ? path : "";
  }
  // Empty for a temporary or in-memory database (which has no WAL; wal_ stays false).
  static std::string WalPath(sqlite3* db) {
    const char* path = sqlite3_db_filename(db, "main");
    if (!path || !*path) return {};
    const char* wal = sqlite3_filename_wal(path);
    return wal ? wal : "";
  }

  static int WalHook(void* self, sqlite3* db, const char* name, int pages) {
    auto* store = static_cast<SqliteStore*>(self);
    if (pages >= store->wal_hard_pages_) {
      (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    } else if (pages >= store->wal_soft_pages_ && store->checkpointer_) {
      store->checkpointer_->Poke();
    }
    return SQLITE_OK;
  }

  sqlite3* db_;
  const std::string wal_path_;
  bool wal_ = false;
  std::optional<Checkpointer> checkpointer_;
  bool hooked_ = false;
  int wal_soft_pages_ = 0, wal_hard_pages_ = 0;  // the k*Bytes limits in this database's pages
  Stmt insert_;
  Durability current_ = Durability::kDefault;
};

}  // namespace

core::Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, StoreUse use) {
  // Memory statistics take a process-wide mutex on every SQLite allocation, which the writer,
  // the checkpointer and verify's readers then contend for; nothing here reads them. Only
  // possible before SQLite initialises (else SQLITE_MISUSE, and the default stays).
  static const bool kNoMemStatus = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  (void)kNoMemStatus;
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return core::UnavailableError("audit sqlite: cannot open " + path + ": " + msg);
  }
  auto store = std::make_unique<SqliteStore>(db);
  if (auto s = store->Init(use); !s.ok()) return s;
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace baagate::audit
