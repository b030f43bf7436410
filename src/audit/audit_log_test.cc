// AuditLog + verifier on both stores: golden tamper vectors (intact, bit-flipped, deleted,
// inserted, reordered, truncated), checkpoints and their mirror, fail-closed appends, and the
// PHI canary. The PostgreSQL instances need a real server: scripts/test.sh starts one with
// tests/pg/start_pg.sh and sets BAAGATE_TEST_PG_CONNINFO; without it those instances skip.
#include "audit/audit_log.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <thread>

#include "audit/chain.h"
#include "audit/postgres_store.h"
#include "audit/proof.h"
#include "audit/report.h"
#include "audit/sqlite_store.h"
#include "audit/verify.h"
#include "core/uuid.h"

namespace baagate::audit {
namespace {

namespace fs = std::filesystem;

Id I(std::string_view s) { return *Id::Parse(s); }
Code C(std::string_view s) { return *Code::Parse(s); }

DecisionRecord SampleDecision(int i) {
  DecisionRecord r;
  r.request_id = I("req-" + std::to_string(i));
  r.tenant_id = I(i % 2 ? "tenant-a" : "tenant-b");
  r.app_id = I("scribe");
  r.purpose_id = I("treatment");
  r.actor_type = ActorType::kWorkforce;
  r.auth_method = AuthMethod::kApiKey;
  r.credential_ref = I("key-1");
  r.provider = I("openai");
  r.api_surface = C("openai.chat_completions");
  r.endpoint_path = I("/v1/chat/completions");
  r.model_requested = I("gpt-4o");
  r.stream = i % 3 == 0;
  r.features = {C("text")};
  r.modalities_in = {Modality::kText};
  r.modalities_out = {Modality::kText};
  r.baa_in_scope = BaaScope::kCovered;
  r.phi_findings[C("NAME")] = static_cast<std::uint64_t>(i % 4);
  r.decision = Decision::kAllow;
  return r;
}

OutcomeRecord SampleOutcome(const std::string& decision_event_id, int i) {
  OutcomeRecord o;
  o.decision_event_id = decision_event_id;
  o.request_id = I("req-" + std::to_string(i));
  o.tenant_id = I(i % 2 ? "tenant-a" : "tenant-b");
  o.app_id = I("scribe");
  o.provider = I("openai");
  o.status = OutcomeStatus::kSuccess;
  o.http_status = 200;
  o.upstream_status = 200;
  o.finish_reason = C("stop");
  o.usage = {12, 34, 0, 0, UsageSource::kUpstream};
  o.bytes_out = 512;
  o.latency_ms = 40;
  o.ttfb_ms = 10;
  return o;
}

// A store under test plus raw SQL access for the tamperer.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual core::Result<std::unique_ptr<Store>> Open() = 0;
  virtual void Exec(const std::string& sql) = 0;
};

class SqliteBackend : public Backend {
 public:
  explicit SqliteBackend(std::string path) : path_(std::move(path)) {}
  core::Result<std::unique_ptr<Store>> Open() override { return OpenSqliteStore(path_); }
  void Exec(const std::string& sql) override {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "") << " in " << sql;
    sqlite3_free(err);
    sqlite3_close(db);
  }

 private:
  std::string path_;
};

class PostgresBackend : public Backend {
 public:
  explicit PostgresBackend(std::string conninfo) : conninfo_(std::move(conninfo)) {}
  core::Result<std::unique_ptr<Store>> Open() override { return OpenPostgresStore(conninfo_); }
  void Exec(const std::string& sql) override {
    PGconn* c = PQconnectdb(conninfo_.c_str());
    ASSERT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
    PGresult* r = PQexec(c, sql.c_str());
    EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQerrorMessage(c) << " in " << sql;
    PQclear(r);
    PQfinish(c);
  }

 private:
  std::string conninfo_;
};

class AuditLogTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("baagate-audit-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(dir_);
    // Unique per test so PostgreSQL tests share one database without interfering.
    log_id_ = "test/" + core::NewUuidV7().substr(24);
    if (GetParam() == "sqlite") {
      backend_ = std::make_unique<SqliteBackend>((dir_ / "audit.db").string());
    } else {
      const char* conninfo = std::getenv("BAAGATE_TEST_PG_CONNINFO");
      if (!conninfo || !*conninfo) GTEST_SKIP() << "BAAGATE_TEST_PG_CONNINFO not set";
      backend_ = std::make_unique<PostgresBackend>(conninfo);
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  AuditLogOptions Options() {
    AuditLogOptions o;
    o.log_id = log_id_;
    o.checkpoint_every = 8;
    o.key_file = (dir_ / "audit.key").string();
    o.mirror_dir = (dir_ / "worm").string();
    o.now_ms = [] { return std::int64_t{1790000000000}; };
    return o;
  }

  std::unique_ptr<AuditLog> OpenLog() {
    auto store = backend_->Open();
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    auto log = AuditLog::Open(std::move(store).value(), Options());
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return std::move(log).value();
  }

  // 10 calls: 20 records, checkpoints at 8, 16 and (on close) 20.
  void WriteGoldenLog() {
    auto log = OpenLog();
    for (int i = 0; i < 10; ++i) {
      auto d = log->AppendDecision(SampleDecision(i));
      ASSERT_TRUE(d.ok()) << d.status().ToString();
      EXPECT_EQ(d->seq, static_cast<std::uint64_t>(2 * i));
      auto o = log->AppendOutcome(SampleOutcome(d->event_id, i));
      ASSERT_TRUE(o.ok()) << o.status().ToString();
    }
    log->Close();
  }

  VerifyReport Verify(bool with_mirror = false) {
    auto store = backend_->Open();
    EXPECT_TRUE(store.ok());
    auto key = PublicKey::Load((dir_ / "audit.key.pub").string());
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    VerifyOptions vo;
    vo.key = &*key;
    if (with_mirror) vo.mirror_dir = (dir_ / "worm").string();
    auto r = VerifyLog(**store, log_id_, vo);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    // The parallel path (reader threads over small seq batches, so every test crosses batch
    // boundaries) must reach the same verdict at the same position.
    vo.open_reader = [this] { return backend_->Open(); };
    vo.threads = 3;
    vo.batch = 3;
    auto p = VerifyLog(**store, log_id_, vo);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (r.ok() && p.ok()) {
      EXPECT_EQ(p->ok, r->ok);
      EXPECT_EQ(p->first_bad_seq, r->first_bad_seq);
      EXPECT_EQ(p->problem, r->problem);
      EXPECT_EQ(p->records, r->records);
      EXPECT_EQ(p->signed_size, r->signed_size);
    }
    return *r;
  }

  std::string Where() const { return " WHERE log_id='" + log_id_ + "'"; }
  std::string And() const { return " AND log_id='" + log_id_ + "'"; }

  fs::path dir_;
  std::string log_id_;
  std::unique_ptr<Backend> backend_;
};

TEST_P(AuditLogTest, IntactLogVerifiesWithSignedCheckpoints) {
  WriteGoldenLog();
  auto r = Verify(true);
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.records, 20u);
  EXPECT_EQ(r.checkpoints, 3u);
  EXPECT_EQ(r.signed_size, 20u);
  EXPECT_EQ(r.unsigned_tail, 0u);
  EXPECT_TRUE(fs::exists(dir_ / "worm" / ("test_" + log_id_.substr(5)) / "16.note"));
  EXPECT_EQ(fs::status(dir_ / "audit.key").permissions() & fs::perms::group_all, fs::perms::none);
}

TEST_P(AuditLogTest, UnsignedTailIsReportedNotFailed) {
  WriteGoldenLog();
  backend_->Exec("DELETE FROM audit_checkpoints" + Where() + " AND tree_size=20");
  auto r = Verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.signed_size, 16u);
  EXPECT_EQ(r.unsigned_tail, 4u);
}

TEST_P(AuditLogTest, BitFlippedRecordIsCaughtAtItsPosition) {
  WriteGoldenLog();
  backend_->Exec("UPDATE audit_records SET body=replace(body,'\"decision\":\"allow\"',"
                 "'\"decision\":\"block\"')" + Where() + " AND seq=4");
  auto r = Verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 4u) << r.problem;
}

TEST_P(AuditLogTest, AnAlteredRecordIsCaughtAtItsPositionWhereverItIs) {
  // Readers hash rows in pairs: an altered row must be caught at its own seq whether it is the
  // first or the second of a pair, or a batch's last row without a partner (Verify() also runs
  // the parallel path with batches of three).
  WriteGoldenLog();
  for (int seq = 0; seq < 20; ++seq) {
    const std::string at = Where() + " AND seq=" + std::to_string(seq);
    backend_->Exec(
        "UPDATE audit_records SET body=replace(body,'baagate.audit/1','baagate.audit/2')" + at);
    auto r = Verify();
    EXPECT_FALSE(r.ok) << seq;
    EXPECT_EQ(r.first_bad_seq, static_cast<std::uint64_t>(seq)) << r.problem;
    EXPECT_NE(r.problem.find("record_hash"), std::string::npos) << r.problem;
    backend_->Exec(
        "UPDATE audit_records SET body=replace(body,'baagate.audit/2','baagate.audit/1')" + at);
  }
  EXPECT_TRUE(Verify().ok);
}

TEST_P(AuditLogTest, IndexColumnsThatDisagreeWithTheRecordAreCaught) {
  // The canonical body is authoritative; query and prove read the columns, so a column edited
  // to point elsewhere (another event id, another time) must fail verification.
  WriteGoldenLog();
  backend_->Exec("UPDATE audit_records SET ts_ms=ts_ms+3600000" + Where() + " AND seq=9");
  auto r = Verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 9u) << r.problem;
  EXPECT_NE(r.problem.find("ts_ms"), std::string::npos) << r.problem;
  backend_->Exec("UPDATE audit_records SET ts_ms=ts_ms-3600000" + Where() + " AND seq=9");
  ASSERT_TRUE(Verify().ok);
  backend_->Exec("UPDATE audit_records SET event_id='01890000-0000-7000-8000-000000000000'" +
                 Where() + " AND seq=3");
  r = Verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 3u) << r.problem;
  EXPECT_NE(r.problem.find("event_id"), std::string::npos) << r.problem;
}

TEST_P(AuditLogTest, DeletedRecordIsCaughtAtItsPosition) {
  WriteGoldenLog();
  backend_->Exec("DELETE FROM audit_records" + Where() + " AND seq=6");
  auto r = Verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 6u) << r.problem;
}

TEST_P(AuditLogTest, InsertedRecordIsCaughtWhereTheChainBreaks) {
  WriteGoldenLog();
  // A forger who knows the format: shifts records 6.. up by one and inserts a record with a
  // correctly computed hash linked to record 5. Record 6 then no longer links (now at seq 7).
  std::optional<StoredRecord> victim;
  {
    auto store = backend_->Open();
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Scan(log_id_, 6, [&](const StoredRecord& r) {
      victim = r;
      return false;
    }).ok());
  }
  ASSERT_TRUE(victim);
  backend_->Exec("UPDATE audit_records SET seq=seq+1000" + Where() + " AND seq>=6");
  backend_->Exec("UPDATE audit_records SET seq=seq-999" + Where() + " AND seq>=1000");
  StoredRecord forged = *victim;
  auto pos = forged.body.find("\"decision\":\"allow\"");
  ASSERT_NE(pos, std::string::npos);
  forged.body.replace(pos, 18, "\"decision\":\"block\"");
  forged.event_id = core::NewUuidV7();
  pos = forged.body.find(victim->event_id);
  ASSERT_NE(pos, std::string::npos);
  forged.body.replace(pos, forged.event_id.size(), forged.event_id);
  forged.record_hash = RecordHash(forged.prev_hash, forged.body);
  auto store = backend_->Open();
  ASSERT_TRUE((*store)->Append({forged}, Durability::kDefault).ok());
  auto r = Verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 7u) << r.problem;
}

TEST_P(AuditLogTest, ReorderedRecordsAreCaughtAtTheFirstSwappedPosition) {
  WriteGoldenLog();
  backend_->Exec("UPDATE audit_records SET seq=1000" + Where() + " AND seq=6");
  backend_->Exec("UPDATE audit_records SET seq=6" + Where() + " AND seq=7");
  backend_->Exec("UPDATE audit_records SET seq=7" + Where() + " AND seq=1000");
  auto r = Verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 6u) << r.problem;
}

TEST_P(AuditLogTest, TruncatedTailBelowACheckpointIsCaught) {
  WriteGoldenLog();
  backend_->Exec("DELETE FROM audit_records" + Where() + " AND seq>=17");
  auto r = Verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 17u) << r.problem;
}

TEST_P(AuditLogTest, TruncationHiddenFromTheStoreIsCaughtByTheMirror) {
  WriteGoldenLog();
  backend_->Exec("DELETE FROM audit_records" + Where() + " AND seq>=10");
  backend_->Exec("DELETE FROM audit_checkpoints" + Where() + " AND tree_size>8");
  EXPECT_TRUE(Verify(false).ok);  // the store alone looks consistent...
  auto r = Verify(true);          // ...but the write-once copies prove the tail existed
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 10u) << r.problem;
}

TEST_P(AuditLogTest, ForgedCheckpointIsRejected) {
  WriteGoldenLog();
  backend_->Exec("UPDATE audit_checkpoints SET note=replace(note, '\n16\n', '\n15\n')" + Where() +
                 " AND tree_size=16");
  auto r = Verify();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.problem.find("signature"), std::string::npos) << r.problem;
}

TEST_P(AuditLogTest, ReopenedLogContinuesTheChain) {
  WriteGoldenLog();
  {
    auto log = OpenLog();
    auto d = log->AppendDecision(SampleDecision(99));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->seq, 20u);
  }
  auto r = Verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.records, 21u);
  EXPECT_EQ(r.checkpoints, 4u);
}

TEST_P(AuditLogTest, ConcurrentAsyncAppendsFormOneContiguousChain) {
  auto log = OpenLog();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i) {
        std::promise<void> done;
        log->AppendDecisionAsync(SampleDecision(t * 1000 + i), [&](core::Result<Appended> r) {
          if (r.ok()) ++ok;
          done.set_value();
        });
        done.get_future().wait();
      }
    });
  }
  for (auto& th : threads) th.join();
  log->Close();
  EXPECT_EQ(ok.load(), 1000);
  auto r = Verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.records, 1000u);
}

TEST_P(AuditLogTest, StrictDurabilityCompletesEveryAppendAfterItsSync) {
  // Strict mode: on SQLite the WAL is fsynced on a sync thread while the writer goes on; every
  // append must still complete exactly once, in order per caller, and the chain must verify,
  // including the explicit and the closing checkpoints.
  auto store = backend_->Open();
  ASSERT_TRUE(store.ok());
  auto opts = Options();
  opts.durability = Durability::kStrict;
  auto log = AuditLog::Open(std::move(store).value(), opts);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      std::uint64_t last = 0;
      for (int i = 0; i < 100; ++i) {
        auto r = (*log)->AppendDecision(SampleDecision(t * 1000 + i));
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        if (i > 0) {
          EXPECT_GT(r->seq, last);
        }
        last = r->seq;
        ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_TRUE((*log)->Checkpoint().ok());
  std::atomic<int> async_ok{0};
  for (int i = 0; i < 50; ++i) {
    (*log)->AppendDecisionAsync(SampleDecision(5000 + i), [&](core::Result<Appended> r) {
      if (r.ok()) ++async_ok;
    });
  }
  (*log)->Close();  // completes the queued appends before returning
  EXPECT_EQ(ok.load(), 300);
  EXPECT_EQ(async_ok.load(), 50);
  auto r = Verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.records, 350u);
  EXPECT_EQ(r.unsigned_tail, 0u);
}

TEST_P(AuditLogTest, AppendFailsClosedWhenTheStoreFails) {
  auto log = OpenLog();
  ASSERT_TRUE(log->AppendDecision(SampleDecision(1)).ok());
  // Another writer takes the next position of this chain (a shared table is not dropped, since
  // PostgreSQL tests run in parallel): the commit fails, and so must the append.
  {
    auto store = backend_->Open();
    StoredRecord intruder;
    ASSERT_TRUE((*store)->Scan(log_id_, 0, [&](const StoredRecord& rec) {
      intruder = rec;
      return false;
    }).ok());
    intruder.seq = 1;
    intruder.event_id = core::NewUuidV7();
    ASSERT_TRUE((*store)->Append({intruder}, Durability::kDefault).ok());
  }
  auto r = log->AppendDecision(SampleDecision(2));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), core::StatusCode::kUnavailable);
}

// Canary: records refuse free text even where a string slips through the types (event ids).
TEST_P(AuditLogTest, PhiNeverReachesTheStore) {
  auto log = OpenLog();
  DecisionRecord bad = SampleDecision(1);
  bad.event_id = "John Smith 123-45-6789";
  auto r = log->AppendDecision(std::move(bad));
  EXPECT_EQ(r.status().code(), core::StatusCode::kInvalidArgument);
  OutcomeRecord o = SampleOutcome("patient john@example.com", 1);
  EXPECT_FALSE(log->AppendOutcome(std::move(o)).ok());
  ASSERT_TRUE(log->AppendDecision(SampleDecision(2)).ok());
  log->Close();
  auto store = backend_->Open();
  int rows = 0;
  ASSERT_TRUE((*store)->Scan(log_id_, 0, [&](const StoredRecord& rec) {
    ++rows;
    EXPECT_EQ(rec.body.find("John"), std::string::npos);
    EXPECT_EQ(rec.body.find("123-45-6789"), std::string::npos);
    EXPECT_EQ(rec.body.find("john@"), std::string::npos);
    return true;
  }).ok());
  EXPECT_EQ(rows, 1);
  EXPECT_TRUE(Verify().ok);
}

TEST_P(AuditLogTest, InclusionProofChecksOnItsOwnAndRejectsTampering) {
  WriteGoldenLog();
  auto store = backend_->Open();
  std::string event;
  ASSERT_TRUE((*store)->Scan(log_id_, 5, [&](const StoredRecord& r) {
    event = r.event_id;
    return false;
  }).ok());
  auto proof = BuildProof(**store, event);
  ASSERT_TRUE(proof.ok()) << proof.status().ToString();
  EXPECT_EQ((*proof)["tree_size"].to_number<std::uint64_t>(), 20u);
  auto key = PublicKey::Load((dir_ / "audit.key.pub").string());
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(CheckProof(*proof, &*key).ok());
  auto other = SigningKey::Generate(key->name());
  EXPECT_FALSE(CheckProof(*proof, &other->public_key()).ok());
  auto altered = *proof;
  std::string body(altered["record"].as_string());
  auto at = body.find("\"http_status\":200");
  ASSERT_NE(at, std::string::npos);
  body.replace(at, 17, "\"http_status\":201");
  altered["record"] = body;
  EXPECT_FALSE(CheckProof(altered, &*key).ok());
  auto moved = *proof;
  moved["leaf_index"] = 6;
  EXPECT_FALSE(CheckProof(moved, &*key).ok());
}

TEST_P(AuditLogTest, ReportCountsTheRecordsAndVerifiesTheChain) {
  if (GetParam() != "sqlite") GTEST_SKIP() << "counts need a store of its own";
  WriteGoldenLog();
  auto store = backend_->Open();
  auto key = PublicKey::Load((dir_ / "audit.key.pub").string());
  auto r = BuildReport(**store, 1790000000000, 1790000000001, &*key);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->decisions, 10u);
  EXPECT_EQ(r->outcomes, 10u);
  EXPECT_EQ(r->by_decision["allow"], 10u);
  EXPECT_EQ(r->by_status["success"], 10u);
  EXPECT_EQ(r->deid_by_class["NAME"], 13u);  // sum of i % 4 for i < 10
  ASSERT_EQ(r->verification.size(), 1u);
  EXPECT_TRUE(r->verification[0].ok);
  std::string html = ReportHtml(*r);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));
  auto empty = BuildReport(**store, 0, 1000, nullptr);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->records, 0u);
}

INSTANTIATE_TEST_SUITE_P(Stores, AuditLogTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace baagate::audit
