// The PostgreSQL audit store (libpq). Every gateway replica writes its own chain (its own
// log_id) into the same tables; the (log_id, seq) primary key makes a second writer on the same
// chain fail instead of forking it. Durability kDefault commits with synchronous_commit=local
// (flushed on the server before Append returns); kStrict with synchronous_commit=on, which also
// waits for synchronous standbys when the server has them.
#pragma once

#include <memory>
#include <string>

#include "audit/store.h"

namespace baagate::audit {

// `conninfo` is a libpq connection string or URI. Not thread-safe; one instance per thread.
core::Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& conninfo);

}  // namespace baagate::audit
