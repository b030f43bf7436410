#include "audit/store.h"

#include "audit/postgres_store.h"
#include "audit/sqlite_store.h"

namespace baagate::audit {

core::Status Store::ScanViews(const std::string& log_id, std::uint64_t from_seq,
                             const std::function<bool(const StoredRecordView&)>& fn) {
  return Scan(log_id, from_seq, [&](const StoredRecord& r) {
    StoredRecordView v;
    v.log_id = r.log_id;
    v.seq = r.seq;
    v.event_id = r.event_id;
    v.phase = r.phase;
    v.ts_ms = r.ts_ms;
    v.prev_hash = r.prev_hash;
    v.record_hash = r.record_hash;
    v.body = r.body;
    return fn(v);
  });
}

core::Result<std::unique_ptr<Store>> OpenStore(const std::string& spec) {
  if (spec.rfind("sqlite:", 0) == 0) return OpenSqliteStore(spec.substr(7));
  if (spec.rfind("postgres:", 0) == 0) return OpenPostgresStore(spec.substr(9));
  return core::InvalidArgumentError("audit store must be sqlite:PATH or postgres:CONNINFO");
}

}  // namespace baagate::audit
