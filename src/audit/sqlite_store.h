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
core::Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path);

}  // namespace baagate::audit
