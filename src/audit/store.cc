#include "audit/store.h"

#include "audit/postgres_store.h"
#include "audit/sqlite_store.h"

namespace baagate::audit {

core::Result<std::unique_ptr<Store>> OpenStore(const std::string& spec, StoreUse use) {
  if (spec.rfind("sqlite:", 0) == 0) return OpenSqliteStore(spec.substr(7), use);
  if (spec.rfind("postgres:", 0) == 0) return OpenPostgresStore(spec.substr(9));
  return core::InvalidArgumentError("audit store must be sqlite:PATH or postgres:CONNINFO");
}

}  // namespace baagate::audit
