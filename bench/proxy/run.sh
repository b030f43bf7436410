#!/usr/bin/env bash
# Proxy benchmark: wrk against (1) a fixed upstream (nginx `return 200` serving a chat
# completion), (2) an nginx `proxy_pass` in front of it, (3) baagate in front of it — all in one
# run on loopback. Prints RPS, p50 and p99 for each, and the latency each proxy adds at one
# connection. Bounded: a few wrk runs of DURATION seconds each; everything stops by itself.
#
# Usage: bench/proxy/run.sh  (env: DURATION=10 CONNECTIONS=64 THREADS=2 LAT_DURATION=5)
set -euo pipefail
DURATION="${DURATION:-10}"
LAT_DURATION="${LAT_DURATION:-5}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init baagate-bench
UP=$(free_port); PX=$(free_port); GW=$(free_port); ADM=$(free_port)

BODY='{"id":"chatcmpl-bench","object":"chat.completion","created":1741290958,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"The patient should continue the current plan and follow up in two weeks.","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":52,"completion_tokens":15,"total_tokens":67}}'

write_nginx_conf "$UP" "
  server {
    listen 127.0.0.1:$UP;
    location / { default_type application/json; return 200 '$BODY'; }
  }
  server {
    listen 127.0.0.1:$PX;
    location / {
      proxy_pass http://fake;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
    }
  }"

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
$(audit_yaml)
CONF

cat > "$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a careful clinical assistant."},{"role":"user","content":"Summarise the plan for a follow-up visit in two sentences."}],"max_completion_tokens":64}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
LUA

start_proxies

# Sanity: all three answer the same completion.
for port in $UP $PX $GW; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/v1/chat/completions" \
    -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}')
  [[ "$code" == 200 ]] || { echo "port $port answered $code" >&2; exit 1; }
done

URL_PATH=/v1/chat/completions
# Warm-up, excluded: each target gets a 1 s run first.
for port in $UP $PX $GW; do
  wrk -t1 -c8 -d1s -s "$WORK/post.lua" "http://127.0.0.1:$port$URL_PATH" >/dev/null
done

read -r UP_RPS UP_P50 UP_P99 < <(run upstream "http://127.0.0.1:$UP$URL_PATH" "$WORK/post.lua" "$THREADS" "$CONNECTIONS" "$DURATION")
read -r PX_RPS PX_P50 PX_P99 < <(run nginx "http://127.0.0.1:$PX$URL_PATH" "$WORK/post.lua" "$THREADS" "$CONNECTIONS" "$DURATION")
read -r GW_RPS GW_P50 GW_P99 < <(run baagate "http://127.0.0.1:$GW$URL_PATH" "$WORK/post.lua" "$THREADS" "$CONNECTIONS" "$DURATION")
read -r UP1_RPS UP1_P50 UP1_P99 < <(run upstream "http://127.0.0.1:$UP$URL_PATH" "$WORK/post.lua" 1 1 "$LAT_DURATION")
read -r PX1_RPS PX1_P50 PX1_P99 < <(run nginx "http://127.0.0.1:$PX$URL_PATH" "$WORK/post.lua" 1 1 "$LAT_DURATION")
read -r GW1_RPS GW1_P50 GW1_P99 < <(run baagate "http://127.0.0.1:$GW$URL_PATH" "$WORK/post.lua" 1 1 "$LAT_DURATION")

ratio=$(awk -v a="$GW_RPS" -v b="$PX_RPS" 'BEGIN{printf "%.2f", a/b}')
px_add=$(awk -v a="$PX1_P50" -v b="$UP1_P50" 'BEGIN{printf "%.0f", (a-b)*1000}')
gw_add=$(awk -v a="$GW1_P50" -v b="$UP1_P50" 'BEGIN{printf "%.0f", (a-b)*1000}')
requests=$(grep -c '"event":"request"' "$WORK/baagate.log" || true)

report=$(cat <<REP
Proxy benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(machine),
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
