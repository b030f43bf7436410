#!/usr/bin/env bash
# Stops the server tests/pg/start_pg.sh started in directory $1 and removes the directory.
set -euo pipefail
PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"
dir="${1:?usage: stop_pg.sh DIR}"
[[ "$dir" == /tmp/baagate-pg.* ]] || { echo "stop_pg: refusing to remove $dir" >&2; exit 1; }
run=()
if [[ $(id -u) -eq 0 ]]; then run=(runuser -u postgres --); fi
"${run[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
rm -rf "$dir"
