#!/usr/bin/env bash
# Starts a throw-away PostgreSQL 15 server for the audit store tests and prints the shell
# assignments to use it:
#   eval "$(tests/pg/start_pg.sh)"   # sets BAAGATE_TEST_PG_CONNINFO and BAAGATE_TEST_PG_DIR
#   ...run tests...
#   tests/pg/stop_pg.sh "$BAAGATE_TEST_PG_DIR"
# Hermetic: the server listens only on a Unix socket inside its own temporary directory (no TCP
# port), with trust authentication for the local user `baagate`. PostgreSQL refuses to run as
# root, so under root it runs as the `postgres` system user (created by the Debian package).
set -euo pipefail
PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"
[[ -x "$PGBIN/initdb" ]] || { echo "start_pg: $PGBIN/initdb not found (apt-get install postgresql-15)" >&2; exit 1; }
dir="$(mktemp -d /tmp/baagate-pg.XXXXXX)"
chmod 755 "$dir"
run=()
if [[ $(id -u) -eq 0 ]]; then
  chown postgres: "$dir"
  run=(runuser -u postgres --)
fi
"${run[@]}" "$PGBIN/initdb" -D "$dir/data" -A trust -U baagate -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
"${run[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-k $dir -c listen_addresses='' -p 5432 -c max_connections=100" start >/dev/null ||
  { cat "$dir/server.log" >&2; exit 1; }
echo "export BAAGATE_TEST_PG_DIR='$dir'"
echo "export BAAGATE_TEST_PG_CONNINFO='host=$dir port=5432 user=baagate dbname=postgres'"
