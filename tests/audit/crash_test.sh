#!/usr/bin/env bash
# Crash test for the audit log: SIGKILL the gateway under load, then check that
#   1. `baagate audit verify` accepts the log (an unsigned tail is allowed, a broken chain not);
#   2. every request that received a response has its decision record (matched by the
#      x-request-id the gateway returned).
# Usage: tests/audit/crash_test.sh [path/to/baagate]. Exit 0 on success. Loopback, port 0.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${1:-$ROOT/build/baagate}"
DURABILITY="${DURABILITY:-default}"
work="$(mktemp -d /tmp/baagate-crash.XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
export CRASH_VENDOR_KEY=sk-crash-test
"$BIN" fake-vendor --listen 127.0.0.1:0 --api-key-env CRASH_VENDOR_KEY --ready-file fake.json \
  >fake.log 2>&1 &
pids+=($!)
for _ in $(seq 100); do [[ -s fake.json ]] && break; sleep 0.05; done
fake=$(sed -E 's/.*"listen":"([^"]+)".*/\1/' fake.json)
sed -e "s|127.0.0.1:8080|127.0.0.1:0|; s|127.0.0.1:8081|127.0.0.1:0|; s|http://127.0.0.1:9090/v1|http://$fake/v1|; s|env: BAAGATE_FAKE_VENDOR_KEY|env: CRASH_VENDOR_KEY|" \
  "$ROOT/examples/quickstart.yaml" >gw.yaml
printf 'audit:\n  durability: %s\n  log_id: crash/gw\n' "$DURABILITY" >>gw.yaml
"$BIN" serve --config gw.yaml --ready-file gw.json >gw.log 2>&1 &
gw_pid=$!
pids+=($gw_pid)
for _ in $(seq 100); do [[ -s gw.json ]] && break; sleep 0.05; done
gw=$(sed -E 's/.*"listen":"([^"]+)",.*/\1/' gw.json)
[[ -n "$gw" ]] || { echo "crash_test: gateway did not start"; cat gw.log; exit 1; }

# Eight clients in a loop; each response's x-request-id goes to a file per client.
client() {
  local n=0
  while :; do
    curl -s -o /dev/null -D - --max-time 5 "http://$gw/v1/chat/completions" \
      -H 'Authorization: Bearer bg-quickstart-demo-key-not-for-production' \
      -H 'Content-Type: application/json' \
      -d "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"crash $1 $n\"}]}" \
      2>/dev/null | tr -d '\r' | awk -F': ' 'tolower($1)=="x-request-id"{print $2}' >>"ids.$1" || true
    n=$((n + 1))
  done
}
for i in 1 2 3 4 5 6 7 8; do client "$i" & pids+=($!); done
sleep "${LOAD_SECONDS:-2}"
kill -9 "$gw_pid"
sleep 0.3
for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
wait 2>/dev/null

responded=$(cat ids.* 2>/dev/null | sort -u | grep -c . || true)
"$BIN" audit verify --store sqlite:baagate-data/audit.db --pubkey baagate-data/audit.key.pub
verify_rc=$?
"$BIN" audit query --store sqlite:baagate-data/audit.db --phase decision --format jsonl |
  sed -E 's/.*"request_id":"([^"]+)".*/\1/' | sort -u >recorded
missing=$(cat ids.* | sort -u | comm -23 - recorded | grep -c . || true)
echo "crash_test ($DURABILITY): $responded responses before SIGKILL, $(grep -c . recorded) decision records, $missing responses without a decision record, verify exit $verify_rc"
[[ $responded -gt 0 && $verify_rc -eq 0 && $missing -eq 0 ]]
