// The embedded default audit store: one SQLite file in WAL mode. Durability kDefault commits
// with synchronous=NORMAL (the WAL append survives a process crash); kStrict commits with
// synchronous=FULL (the WAL is fsynced before Append returns). Group commit happens above, in
// the AuditLog writer, which hands whole batches to Append.
#pragma once

#include <memory>
#include <string>

#include "audit/store.h"

namespace baagate::audit {

// Opens (creating if needed) the database at `path`. Not thread-safe; one instance per thread.
// With StoreUse::kScan the connection reads pages with pread(2) into a small page cache instead
// of through a memory map: a fresh connection's first pass over a memory map pays a page fault
// per 64 KB of file, which made a scan ~40% slower than reading the same pages with pread into
// a few recycled buffers that stay in the CPU cache (bench/RESULTS.md); the connection is also
// query-only.
core::Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                                     StoreUse use = StoreUse::kGeneral);

}  // namespace baagate::audit
