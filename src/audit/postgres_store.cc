#include "audit/postgres_store.h"

#include <libpq-fe.h>

#include <cstring>

#include "core/crypto.h"

namespace baagate::audit {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS audit_records (
  log_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  event_id TEXT NOT NULL,
  phase TEXT NOT NULL,
  ts_ms BIGINT NOT NULL,
  prev_hash BYTEA NOT NULL,
  record_hash BYTEA NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (log_id, seq)
);
CREATE INDEX IF NOT EXISTS audit_records_event ON audit_records(event_id);
CREATE INDEX IF NOT EXISTS audit_records_ts ON audit_records(ts_ms);
CREATE TABLE IF NOT EXISTS audit_checkpoints (
  log_id TEXT NOT NULL,
  tree_size BIGINT NOT NULL,
  note TEXT NOT NULL,
  PRIMARY KEY (log_id, tree_size)
);
)sql";

constexpr const char* kSelect =
    "SELECT log_id,seq,event_id,phase,ts_ms,prev_hash,record_hash,body FROM audit_records";

// Joins pieces; GCC 12 reports false -Warray-bounds on chains of std::string operator+.
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto p : parts) out.append(p);
  return out;
}

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

class PostgresStore final : public Store {
 public:
  explicit PostgresStore(PGconn* conn) : conn_(conn) {}
  ~PostgresStore() override { PQfinish(conn_); }

  core::Status Init() {
    // Concurrent replicas may race to create the schema; a lock serialises them.
    if (auto s = Command("SELECT pg_advisory_lock(7261756469)"); !s.ok()) return s;
    core::Status s = Command(kSchema);
    (void)Command("SELECT pg_advisory_unlock(7261756469)");
    return s;
  }

  // Store:
  core::Status Append(const std::vector<StoredRecord>& rows, Durability durability) override {
    if (rows.empty()) return {};
    if (auto s = Command("BEGIN"); !s.ok()) return s;
    auto s = Command(durability == Durability::kStrict ? "SET LOCAL synchronous_commit=on"
                                                       : "SET LOCAL synchronous_commit=local");
    constexpr std::size_t kChunk = 1000;  // 8 parameters a row, under libpq's 65535 limit
    for (std::size_t begin = 0; s.ok() && begin < rows.size(); begin += kChunk) {
      std::size_t end = std::min(rows.size(), begin + kChunk);
      s = InsertChunk(rows, begin, end);
    }
    if (s.ok()) s = Command("COMMIT");
    if (!s.ok()) (void)Command("ROLLBACK");
    return s;
  }

  core::Status AppendCheckpoint(const std::string& log_id, const StoredCheckpoint& cp) override {
    std::string size = std::to_string(cp.tree_size);
    const char* params[] = {log_id.c_str(), size.c_str(), cp.note.c_str()};
    return Check(Exec("INSERT INTO audit_checkpoints(log_id,tree_size,note) VALUES($1,$2,$3) "
                      "ON CONFLICT (log_id,tree_size) DO UPDATE SET note=EXCLUDED.note",
                      3, params),
                 "insert checkpoint");
  }

  core::Status Scan(const std::string& log_id, std::uint64_t from_seq,
                    const std::function<bool(const StoredRecord&)>& fn) override {
    std::string from = std::to_string(from_seq);
    const char* params[] = {log_id.c_str(), from.c_str()};
    return Cursor(Cat({kSelect, " WHERE log_id=$1 AND seq>=$2 ORDER BY seq"}), 2, params,
                  fn);
  }

  core::Status ScanTime(std::int64_t from_ms, std::int64_t to_ms,
                        const std::function<bool(const StoredRecord&)>& fn) override {
    std::string a = std::to_string(from_ms), b = std::to_string(to_ms);
    const char* params[] = {a.c_str(), b.c_str()};
    return Cursor(Cat({kSelect, " WHERE ts_ms>=$1 AND ts_ms<$2 ORDER BY ts_ms, log_id, seq"}),
                  2, params, fn);
  }

  core::Result<std::vector<StoredCheckpoint>> Checkpoints(const std::string& log_id) override {
    const char* params[] = {log_id.c_str()};
    PgResult r = Exec("SELECT tree_size, note FROM audit_checkpoints WHERE log_id=$1 "
                      "ORDER BY tree_size",
                      1, params);
    if (auto s = Check(r, "read checkpoints"); !s.ok()) return s;
    std::vector<StoredCheckpoint> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      out.push_back({std::stoull(PQgetvalue(r.get(), i, 0)),
                     std::string(PQgetvalue(r.get(), i, 1),
                                 static_cast<std::size_t>(PQgetlength(r.get(), i, 1)))});
    }
    return out;
  }

  core::Result<std::vector<std::string>> LogIds() override {
    PgResult r = Exec("SELECT DISTINCT log_id FROM audit_records UNION "
                      "SELECT DISTINCT log_id FROM audit_checkpoints ORDER BY 1",
                      0, nullptr);
    if (auto s = Check(r, "read log ids"); !s.ok()) return s;
    std::vector<std::string> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) out.emplace_back(PQgetvalue(r.get(), i, 0));
    return out;
  }

  core::Result<std::optional<StoredRecord>> FindEvent(const std::string& event_id) override {
    const char* params[] = {event_id.c_str()};
    return One(Cat({kSelect, " WHERE event_id=$1 ORDER BY log_id, seq LIMIT 1"}), params);
  }

  core::Result<std::optional<StoredRecord>> Last(const std::string& log_id) override {
    const char* params[] = {log_id.c_str()};
    return One(Cat({kSelect, " WHERE log_id=$1 ORDER BY seq DESC LIMIT 1"}), params);
  }

 private:
  core::Status InsertChunk(const std::vector<StoredRecord>& rows, std::size_t begin,
                           std::size_t end) {
    std::string sql =
        "INSERT INTO audit_records(log_id,seq,event_id,phase,ts_ms,prev_hash,record_hash,body) "
        "VALUES ";
    std::vector<std::string> text;  // owns the decimal and hex renderings
    text.reserve((end - begin) * 4);
    std::vector<const char*> params;
    params.reserve((end - begin) * 8);
    int n = 0;
    for (std::size_t i = begin; i < end; ++i) {
      const auto& r = rows[i];
      if (i > begin) sql += ',';
      sql += '(';
      for (int j = 0; j < 8; ++j) {
        if (j > 0) sql += ',';
        sql += '$';
        sql += std::to_string(++n);
        if (j == 5 || j == 6) sql += "::bytea";
      }
      sql += ')';
      text.push_back(std::to_string(r.seq));
      text.push_back(std::to_string(r.ts_ms));
      text.push_back(Cat({"\\x", core::HexEncode(r.prev_hash)}));
      text.push_back(Cat({"\\x", core::HexEncode(r.record_hash)}));
      std::size_t t = text.size() - 4;
      params.insert(params.end(), {r.log_id.c_str(), text[t].c_str(), r.event_id.c_str(),
                                   r.phase.c_str(), text[t + 1].c_str(), text[t + 2].c_str(),
                                   text[t + 3].c_str(), r.body.c_str()});
    }
    PgResult res = Exec(sql, n, params.data());
    if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
      const char* state = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
      if (state && std::strcmp(state, "23505") == 0) {
        return core::Status(core::StatusCode::kAlreadyExists,
                            "audit postgres: duplicate (log_id, seq)");
      }
    }
    return Check(res, "insert");
  }

  static void Bytea(const char* text, core::Sha256Digest& out) {
    out.fill(0);
    // Text-format bytea is "\x" + hex; a tampered value of another length reads as zeros.
    if (std::strlen(text) == 66 && text[0] == '\\' && text[1] == 'x') {
      (void)core::ParseSha256Hex(text + 2, &out);
    }
  }

  static void Row(PGresult* r, int i, StoredRecord& out) {
    out.log_id = PQgetvalue(r, i, 0);
    out.seq = std::stoull(PQgetvalue(r, i, 1));
    out.event_id = PQgetvalue(r, i, 2);
    out.phase = PQgetvalue(r, i, 3);
    out.ts_ms = std::stoll(PQgetvalue(r, i, 4));
    Bytea(PQgetvalue(r, i, 5), out.prev_hash);
    Bytea(PQgetvalue(r, i, 6), out.record_hash);
    out.body.assign(PQgetvalue(r, i, 7), static_cast<std::size_t>(PQgetlength(r, i, 7)));
  }

  // Reads in pages so a six-year log never has to fit in memory.
  core::Status Cursor(const std::string& select, int nparams, const char* const* params,
                      const std::function<bool(const StoredRecord&)>& fn) {
    if (auto s = Command("BEGIN"); !s.ok()) return s;
    core::Status s = Check(Exec(Cat({"DECLARE audit_cur NO SCROLL CURSOR FOR ", select}), nparams,
                                params),
                           "declare cursor");
    StoredRecord rec;
    bool more = s.ok();
    while (more) {
      PgResult r = Exec("FETCH 10000 FROM audit_cur", 0, nullptr);
      if (s = Check(r, "fetch"); !s.ok()) break;
      int n = PQntuples(r.get());
      for (int i = 0; i < n && more; ++i) {
        Row(r.get(), i, rec);
        more = fn(rec);
      }
      if (n == 0) more = false;
    }
    (void)Command("COMMIT");
    return s;
  }

  core::Result<std::optional<StoredRecord>> One(const std::string& sql, const char* const* params) {
    PgResult r = Exec(sql, 1, params);
    if (auto s = Check(r, "read"); !s.ok()) return s;
    if (PQntuples(r.get()) == 0) return std::optional<StoredRecord>();
    StoredRecord rec;
    Row(r.get(), 0, rec);
    return std::optional<StoredRecord>(std::move(rec));
  }

  PgResult Exec(const std::string& sql, int nparams, const char* const* params) {
    return PgResult(
        PQexecParams(conn_, sql.c_str(), nparams, nullptr, params, nullptr, nullptr, 0));
  }

  core::Status Command(const char* sql) { return Check(PgResult(PQexec(conn_, sql)), sql); }

  // Server messages name tables and constraints, never parameter values, so they are safe.
  core::Status Check(const PgResult& r, const char* what) {
    auto st = PQresultStatus(r.get());
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return {};
    std::string msg = PQerrorMessage(conn_);
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    if (PQstatus(conn_) == CONNECTION_BAD) PQreset(conn_);  // reconnect for the next call
    return core::UnavailableError(Cat({"audit postgres: ", what, ": ", msg}));
  }

  PGconn* conn_;
};

}  // namespace

core::Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = conn ? PQerrorMessage(conn) : "out of memory";
    PQfinish(conn);
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    return core::UnavailableError(Cat({"audit postgres: cannot connect: ", msg}));
  }
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);  // "relation exists" notices
  auto store = std::make_unique<PostgresStore>(conn);
  if (auto s = store->Init(); !s.ok()) return s;
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace baagate::audit
