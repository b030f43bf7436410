#!/usr/bin/env bash
# Proxy benchmark: wrk against (1) a fixed upstream (nginx `return 200` serving a chat
# completion), (2) an nginx `proxy_pass` in front of it, (3) baagate in front of it — all in one
# run on loopback. Prints RPS, p50 and p99 for each, and the latency each proxy adds at one
# connection. Bounded: a few wrk runs of DURATION seconds each; everything stops by itself.
#
# Usage: bench/proxy/run.sh  (env: DURATION=10 CONNECTIONS=64 THREADS=2 LAT_DURATION=5)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="$ROOT/build/baagate"
DURATION="${DURATION:-10}"
LAT_DURATION="${LAT_DURATION:-5}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
WORK="$(mktemp -d /tmp/baagate-bench.XXXXXX)"
chmod 755 "$WORK"
OUT="$ROOT/bench/out"
mkdir -p "$OUT"

free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 30000))
    if ! ss -ltnH "sport = :$p" | grep -q .; then echo "$p"; return; fi
  done
}
UP=$(free_port); PX=$(free_port); GW=$(free_port); ADM=$(free_port)

KEY="bg-bench-key-0000"
KEYSHA=$(printf %s "$KEY" | sha256sum | cut -d' ' -f1)
BODY='{"id":"chatcmpl-bench","object":"chat.completion","created":1741290958,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"The patient should continue the current plan and follow up in two weeks.","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":52,"completion_tokens":15,"total_tokens":67}}'

mkdir -p "$WORK/tmp" && chmod 777 "$WORK/tmp"
cat > "$WORK/nginx.conf" <<CONF
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/tmp/body;
  proxy_temp_path $WORK/tmp/proxy;
  fastcgi_temp_path $WORK/tmp/fastcgi;
  uwsgi_temp_path $WORK/tmp/uwsgi;
  scgi_temp_path $WORK/tmp/scgi;
  keepalive_requests 1000000;
  upstream fake { server 127.0.0.1:$UP; keepalive 128; }
  server {
    listen 127.0.0.1:$UP;
    location / { default_type application/json; return 200 '$BODY'; }
  }
  server {
    listen 127.0.0.1:$PX;
    location / {
      proxy_pass http://fake;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
CONF

cat > "$WORK/baagate.yaml" <<CONF
server:
  listen: 127.0.0.1:$GW
  admin_listen: 127.0.0.1:$ADM
log: { level: info, access: ${ACCESS_LOG:-true} }
upstreams:
  up:
    region: us
    base_url: http://127.0.0.1:$UP/v1
    credential: none
routes:
  - { model: gpt-4o-mini, upstream: up }
keys:
  - { name: bench, sha256: $KEYSHA, tenant: t, app: bench, role: r, purpose: treatment }
# The policy engine decides every call (a BAA with OpenAI, ZDR verified now).
tenant:
  id: t
  contracts:
    - { id: BAA-BENCH, vendor: openai, effective_date: "2025-01-01" }
  attestations:
    - { vendor: openai, retention: zero_data_retention, source: verified, verified_at: "$(date -u +%Y-%m-%dT%H:%M:%SZ)" }
apps:
  - { id: bench, purpose: treatment }
# AUDIT=off|default|strict measures the audit log's share of the overhead (default: default).
audit:
  enabled: $([[ "${AUDIT:-default}" == off ]] && echo false || echo true)
  durability: $([[ "${AUDIT:-default}" == strict ]] && echo strict || echo default)
  store: sqlite:$WORK/audit.db
  key_file: $WORK/audit.key
CONF

cat > "$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a careful clinical assistant."},{"role":"user","content":"Summarise the plan for a follow-up visit in two sentences."}],"max_completion_tokens":64}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
LUA

cleanup() {
  [[ -f "$WORK/nginx.pid" ]] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  [[ -n "${GW_PID:-}" ]] && kill "$GW_PID" 2>/dev/null || true
  sleep 0.3
  rm -rf "$WORK"
}
trap cleanup EXIT

"$NGINX" -p "$WORK" -c "$WORK/nginx.conf"
"$BIN" serve --config "$WORK/baagate.yaml" --ready-file "$WORK/ready.json" 2>"$WORK/baagate.log" &
GW_PID=$!
for _ in $(seq 100); do [[ -f "$WORK/ready.json" ]] && break; sleep 0.05; done

# Sanity: all three answer the same completion.
for port in $UP $PX $GW; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/v1/chat/completions" \
    -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}')
  [[ "$code" == 200 ]] || { echo "port $port answered $code" >&2; exit 1; }
done

# Prints "rps p50_ms p99_ms" from wrk --latency output.
parse() {
  local rps p50 p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$1")
  p50=$(awk '$1=="50%" {print $2}' "$1")
  p99=$(awk '$1=="99%" {print $2}' "$1")
  echo "$rps $(to_ms "$p50") $(to_ms "$p99")"
}
to_ms() {
  local v="$1"
  case "$v" in
    *us) awk -v x="${v%us}" 'BEGIN{printf "%.3f", x/1000}' ;;
    *ms) awk -v x="${v%ms}" 'BEGIN{printf "%.3f", x}' ;;
    *s) awk -v x="${v%s}" 'BEGIN{printf "%.3f", x*1000}' ;;
    *) echo "$v" ;;
  esac
}

run() {  # name port threads conns duration
  local f="$WORK/wrk-$1-$4.txt"
  wrk -t"$3" -c"$4" -d"$5"s --latency -s "$WORK/post.lua" "http://127.0.0.1:$2/v1/chat/completions" >"$f"
  # warm-up excluded: each target got a 1 s run first
  parse "$f"
}

for port in $UP $PX $GW; do
  wrk -t1 -c8 -d1s -s "$WORK/post.lua" "http://127.0.0.1:$port/v1/chat/completions" >/dev/null
done

read -r UP_RPS UP_P50 UP_P99 < <(run upstream "$UP" "$THREADS" "$CONNECTIONS" "$DURATION")
read -r PX_RPS PX_P50 PX_P99 < <(run nginx "$PX" "$THREADS" "$CONNECTIONS" "$DURATION")
read -r GW_RPS GW_P50 GW_P99 < <(run baagate "$GW" "$THREADS" "$CONNECTIONS" "$DURATION")
read -r UP1_RPS UP1_P50 UP1_P99 < <(run upstream "$UP" 1 1 "$LAT_DURATION")
read -r PX1_RPS PX1_P50 PX1_P99 < <(run nginx "$PX" 1 1 "$LAT_DURATION")
read -r GW1_RPS GW1_P50 GW1_P99 < <(run baagate "$GW" 1 1 "$LAT_DURATION")

ratio=$(awk -v a="$GW_RPS" -v b="$PX_RPS" 'BEGIN{printf "%.2f", a/b}')
px_add=$(awk -v a="$PX1_P50" -v b="$UP1_P50" 'BEGIN{printf "%.0f", (a-b)*1000}')
gw_add=$(awk -v a="$GW1_P50" -v b="$UP1_P50" 'BEGIN{printf "%.0f", (a-b)*1000}')
requests=$(grep -c '"event":"request"' "$WORK/baagate.log" || true)

report=$(cat <<REP
Proxy benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')),
wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s (throughput) and -t1 -c1 -d${LAT_DURATION}s (latency), POST /v1/chat/completions.
baagate: $(nproc) workers, gateway-key auth, JSON parse + re-encode, access log ${ACCESS_LOG:-true} (${requests} lines written).

| target                    | RPS (c=$CONNECTIONS) | p50 ms | p99 ms | p50 ms at c=1 | p99 ms at c=1 |
|---------------------------|---------------|--------|--------|---------------|---------------|
| upstream (nginx return)   | $UP_RPS | $UP_P50 | $UP_P99 | $UP1_P50 | $UP1_P99 |
| nginx proxy_pass          | $PX_RPS | $PX_P50 | $PX_P99 | $PX1_P50 | $PX1_P99 |
| baagate                   | $GW_RPS | $GW_P50 | $GW_P99 | $GW1_P50 | $GW1_P99 |

baagate / nginx RPS: ${ratio}x (budget >= 0.5x)
added p50 at c=1: nginx +${px_add} us, baagate +${gw_add} us (budget <= 100 us)
REP
)
echo "$report"
echo "$report" > "$OUT/latest.md"
