// Audit log kernels: chained, batched appends on SQLite in both durability modes, and verify.
//   ./build/audit_bench --benchmark_filter=. (see bench/RESULTS.md for recorded runs)
#include <benchmark/benchmark.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>

#include "audit/audit_log.h"
#include "audit/sqlite_store.h"
#include "audit/verify.h"

namespace baagate::audit {
namespace {

namespace fs = std::filesystem;

DecisionRecord Sample(int i) {
  DecisionRecord r;
  r.request_id = *Id::Parse("req-" + std::to_string(i));
  r.tenant_id = *Id::Parse("tenant-a");
  r.app_id = *Id::Parse("scribe");
  r.purpose_id = *Id::Parse("treatment");
  r.actor_ref = *Id::Parse("Qm9iX2lzX25vdF9hX3VzZXI");
  r.auth_method = AuthMethod::kApiKey;
  r.credential_ref = *Id::Parse("key-1");
  r.provider = *Id::Parse("openai");
  r.api_surface = *Code::Parse("openai.chat_completions");
  r.endpoint_path = *Id::Parse("/v1/chat/completions");
  r.model_requested = *Id::Parse("gpt-4o");
  r.upstream_host = *Id::Parse("api.openai.com");
  r.features = {*Code::Parse("text"), *Code::Parse("tools")};
  r.modalities_in = {Modality::kText};
  r.modalities_out = {Modality::kText};
  r.baa_in_scope = BaaScope::kCovered;
  r.phi_findings[*Code::Parse("NAME")] = 2;
  r.phi_findings[*Code::Parse("DATE")] = 1;
  // The gateway takes these digests from its configuration snapshot (hex parsed once per
  // request), never hashes anything here: computed once, like the snapshot's.
  static const core::Sha256Digest kConfigHash = core::Sha256("config");
  static const core::Sha256Digest kPolicyVersion = core::Sha256("policy");
  r.config_hash = kConfigHash;
  r.policy_version = kPolicyVersion;
  r.decision = Decision::kAllow;
  return r;
}

struct TempDir {
  TempDir() {
    path = fs::temp_directory_path() / ("baagate-audit-bench-" + std::to_string(::getpid()) +
                                        "-" + std::to_string(counter++));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  static inline int counter = 0;
  fs::path path;
};

std::unique_ptr<AuditLog> OpenLog(const TempDir& dir, Durability durability) {
  auto store = OpenSqliteStore((dir.path / "audit.db").string());
  AuditLogOptions o;
  o.log_id = "bench";
  o.durability = durability;
  o.key_file = (dir.path / "audit.key").string();
  auto log = AuditLog::Open(std::move(store).value(), o);
  if (!log.ok()) std::abort();
  return std::move(log).value();
}

// Appends `n` records asynchronously (as many concurrent requests would) and waits for all.
void AppendMany(AuditLog& log, int n) {
  std::mutex mu;
  std::condition_variable cv;
  int left = n;
  for (int i = 0; i < n; ++i) {
    log.AppendDecisionAsync(Sample(i), [&](core::Result<Appended> r) {
      if (!r.ok()) std::abort();
      std::lock_guard lock(mu);
      if (--left == 0) cv.notify_one();
    });
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return left == 0; });
}

void BM_AppendChained(benchmark::State& state) {
  TempDir dir;
  auto durability = state.range(0) ? Durability::kStrict : Durability::kDefault;
  auto log = OpenLog(dir, durability);
  constexpr int kPerIteration = 20000;
  for (auto _ : state) AppendMany(*log, kPerIteration);
  state.SetItemsProcessed(state.iterations() * kPerIteration);
  state.SetLabel(durability == Durability::kStrict ? "strict (fsync)" : "default");
}
BENCHMARK(BM_AppendChained)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// One blocking append at a time: the latency a single request sees.
void BM_AppendLatency(benchmark::State& state) {
  TempDir dir;
  auto durability = state.range(0) ? Durability::kStrict : Durability::kDefault;
  auto log = OpenLog(dir, durability);
  int i = 0;
  for (auto _ : state) {
    if (!log->AppendDecision(Sample(i++)).ok()) std::abort();
  }
  state.SetLabel(durability == Durability::kStrict ? "strict (fsync)" : "default");
}
BENCHMARK(BM_AppendLatency)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();

double ProcessCpuSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void BM_Verify(benchmark::State& state) {
  TempDir dir;
  const int n = static_cast<int>(state.range(0));
  {
    auto log = OpenLog(dir, Durability::kDefault);
    AppendMany(*log, n);
  }
  auto store = OpenSqliteStore((dir.path / "audit.db").string());
  auto key = PublicKey::Load((dir.path / "audit.key.pub").string());
  VerifyOptions vo;
  vo.key = &*key;
  vo.threads = static_cast<unsigned>(state.range(1));
  if (vo.threads > 0) {
    vo.open_reader = [&] {
      return OpenSqliteStore((dir.path / "audit.db").string(), StoreUse::kScan);
    };
  }
  const double cpu_before = ProcessCpuSeconds();
  for (auto _ : state) {
    auto r = VerifyLog(**store, "bench", vo);
    if (!r.ok() || !r->ok || r->records != static_cast<std::uint64_t>(n)) std::abort();
  }
  state.SetItemsProcessed(state.iterations() * n);
  // CPU time of all threads per record: unlike the wall time, it does not depend on whether
  // other processes share the cores, and on an idle machine with c cores it bounds the rate
  // (c / this) when the readers keep every core busy.
  state.counters["cpu_ns_per_record"] =
      (ProcessCpuSeconds() - cpu_before) * 1e9 / static_cast<double>(state.iterations() * n);
  state.SetLabel(vo.threads ? std::to_string(vo.threads) + " reader threads" : "caller thread");
}
// Second argument: reader threads (0: read and hash on the calling thread).
BENCHMARK(BM_Verify)->Args({200000, 0})->Args({200000, 2})->Unit(benchmark::kMillisecond)->UseRealTime();

// The check of a row's index columns against its canonical body, alone, on a record the writer
// stored.
void BM_RowMismatch(benchmark::State& state) {
  TempDir dir;
  {
    auto log = OpenLog(dir, Durability::kDefault);
    AppendMany(*log, 1);
  }
  auto store = OpenSqliteStore((dir.path / "audit.db").string());
  std::optional<StoredRecord> row;
  if (!(*store)->Scan("bench", 0, [&](const StoredRecord& r) {
        row = r;
        return false;
      }).ok() || !row) {
    std::abort();
  }
  const StoredRecordView view = ViewOf(*row);
  for (auto _ : state) {
    const char* problem = RowMismatch(view);
    if (problem) std::abort();
    benchmark::DoNotOptimize(problem);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(row->body.size()));
}
BENCHMARK(BM_RowMismatch);

}  // namespace
}  // namespace baagate::audit

BENCHMARK_MAIN();
