#include "audit/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace baagate::audit {
namespace {

namespace fs = std::filesystem;

class SqliteScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("baagate-sqlite-scan-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto store = OpenSqliteStore(Path());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  std::string Path() const { return (dir_ / "audit.db").string(); }

  void Append(const std::string& log_id, std::uint64_t seq) {
    StoredRecord r;
    r.log_id = log_id;
    r.seq = seq;
    r.event_id = log_id + "-" + std::to_string(seq);
    r.phase = "decision";
    r.ts_ms = static_cast<std::int64_t>(seq);
    r.record_hash[0] = static_cast<std::uint8_t>(seq);
    r.body = "{\"seq\":" + std::to_string(seq) + "}";
    ASSERT_TRUE(store_->Append({r}, Durability::kDefault).ok());
  }

  void Exec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(Path().c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << err;
    sqlite3_free(err);
    sqlite3_close(db);
  }

  // The event ids ScanViews hands out from `from`, up to `limit` of them.
  std::vector<std::string> Views(const std::string& log_id, std::uint64_t from,
                                 std::size_t limit = SIZE_MAX) {
    std::vector<std::string> out;
    EXPECT_TRUE(store_->ScanViews(log_id, from, [&](const StoredRecordView& r) {
      EXPECT_EQ(r.log_id, log_id);
      out.emplace_back(r.event_id);
      EXPECT_EQ(r.body,
                "{\"seq\":" + std::string(r.event_id.substr(r.event_id.find('-') + 1)) + "}");
      return out.size() < limit;
    }).ok());
    return out;
  }
  // The same through Scan, which reads in (log_id, seq) index order.
  std::vector<std::string> Rows(const std::string& log_id, std::uint64_t from,
                                std::size_t limit = SIZE_MAX) {
    std::vector<std::string> out;
    EXPECT_TRUE(store_->Scan(log_id, from, [&](const StoredRecord& r) {
      out.push_back(r.event_id);
      return out.size() < limit;
    }).ok());
    return out;
  }
  void ExpectSameScans(const std::string& log_id, std::uint64_t upto) {
    for (std::uint64_t from = 0; from <= upto; ++from) {
      EXPECT_EQ(Views(log_id, from), Rows(log_id, from)) << log_id << " from " << from;
      EXPECT_EQ(Views(log_id, from, 3), Rows(log_id, from, 3)) << log_id << " from " << from;
    }
  }

  fs::path dir_;
  std::unique_ptr<Store> store_;
};

// ScanViews walks the table in rowid order while that is seq order; whatever the rows' order on
// disk, it must hand out exactly what the (log_id, seq) index order gives.
TEST_F(SqliteScanTest, ScanViewsMatchesIndexOrderWhateverTheRowOrder) {
  for (std::uint64_t seq = 0; seq < 40; ++seq) {
    Append("a", seq);
    if (seq % 3 == 0) Append("b", seq / 3);
  }
  ExpectSameScans("a", 41);
  ExpectSameScans("b", 15);
  // Reordered, deleted, re-inserted at the end of the table, and gaps.
  Exec("UPDATE audit_records SET seq=1000 WHERE log_id='a' AND seq=6");
  Exec("UPDATE audit_records SET seq=6 WHERE log_id='a' AND seq=7");
  Exec("UPDATE audit_records SET seq=7 WHERE log_id='a' AND seq=1000");
  Exec("DELETE FROM audit_records WHERE log_id='a' AND seq=20");
  Append("a", 20);
  Exec("DELETE FROM audit_records WHERE log_id='a' AND seq IN (30, 31)");
  Append("a", 45);
  Append("a", 31);
  // Keys of another type than the index compares: a BLOB log_id, a REAL seq.
  Exec("INSERT INTO audit_records SELECT CAST(log_id AS BLOB),seq,'blob-'||seq,phase,ts_ms,"
       "prev_hash,record_hash,body FROM audit_records WHERE log_id='a' AND seq=10");
  Exec("UPDATE audit_records SET seq=12.5 WHERE log_id='a' AND seq=12");
  ExpectSameScans("a", 47);
  ExpectSameScans("b", 15);
  EXPECT_TRUE(Views("c", 0).empty());
}

TEST_F(SqliteScanTest, ScanViewsMatchesIndexOrderAcrossManyOtherRows) {
  std::mt19937 rng(7);
  std::uint64_t next_a = 0, next_b = 0;
  for (int i = 0; i < 3000; ++i) {
    if (rng() % 8 == 0 || i > 2500) {
      Append("a", next_a++);
    } else {
      Append("b", next_b++);
    }
  }
  for (std::uint64_t from : {std::uint64_t{0}, std::uint64_t{1}, next_a / 2, next_a - 1, next_a}) {
    EXPECT_EQ(Views("a", from), Rows("a", from)) << from;
  }
  EXPECT_EQ(Views("b", 0), Rows("b", 0));
  EXPECT_EQ(Views("b", 0).size(), next_b);
}

}  // namespace
}  // namespace baagate::audit
