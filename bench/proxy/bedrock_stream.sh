#!/usr/bin/env bash
# Streamed Bedrock benchmark: wrk against `baagate fake-vendor`'s InvokeModelWithResponseStream
# (application/vnd.amazon.eventstream, Anthropic events) directly, through an nginx proxy_pass,
# and through baagate serving an OpenAI client on a Bedrock route — translation to the Anthropic
# body, SigV4 signing, event-stream decoding (both CRCs), Anthropic → OpenAI SSE translation,
# policy decision and (AUDIT=off|default|strict) the audit records. A request is one whole
# stream; latency is time to the last byte. Bounded: a few wrk runs of DURATION seconds each.
#
# Usage: bench/proxy/bedrock_stream.sh  (env: DURATION=8 CONNECTIONS=32 THREADS=2 LAT_DURATION=4
#        AUDIT=default)
set -euo pipefail
DURATION="${DURATION:-8}"
LAT_DURATION="${LAT_DURATION:-4}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init baagate-bench-br
MODEL_ID="anthropic.claude-3-5-sonnet-20240620-v1:0"
MODEL_PATH="anthropic.claude-3-5-sonnet-20240620-v1%3A0"

PX=$(free_port); GW=$(free_port); ADM=$(free_port)
# The gateway signs with these; the fake runs without verification so nginx can pass through.
export AWS_ACCESS_KEY_ID=AKIDBENCH0000 AWS_SECRET_ACCESS_KEY=bench/secret
unset AWS_SESSION_TOKEN

"$BIN" fake-vendor --listen 127.0.0.1:0 --workers 2 --ready-file "$WORK/fake.json" 2>"$WORK/fake.log" &
FAKE_PID=$!
for _ in $(seq 100); do [[ -s "$WORK/fake.json" ]] && break; sleep 0.05; done
UP=$(sed -E 's/.*"listen":"127\.0\.0\.1:([0-9]+)".*/\1/' "$WORK/fake.json")

write_nginx_conf "$UP" "
  server {
    listen 127.0.0.1:$PX;
    location / {
      proxy_pass http://fake;
      proxy_http_version 1.1;
      proxy_buffering off;
      proxy_set_header Connection \"\";
    }
  }"

cat > "$WORK/baagate.yaml" <<CONF
server:
  listen: 127.0.0.1:$GW
  admin_listen: 127.0.0.1:$ADM
log: { level: info, access: ${ACCESS_LOG:-false} }
upstreams:
  bedrock:
    provider: bedrock
    region: us-east-1
    base_url: http://127.0.0.1:$UP
    credential: aws_environment
routes:
  - { model: claude-bedrock, upstream: bedrock, upstream_model: "$MODEL_ID" }
keys:
  - { name: bench, sha256: $KEYSHA, tenant: t, app: bench, role: r, purpose: treatment }
tenant:
  id: t
  contracts:
    - { id: BAA-AWS-BENCH, vendor: aws, effective_date: "2025-01-01" }
  attestations:
    - { vendor: aws, retention: none, source: verified, verified_at: "$(date -u +%Y-%m-%dT%H:%M:%SZ)" }
  allowed_regions: [us]
apps:
  - { id: bench, purpose: treatment }
$(audit_yaml)
CONF

PROMPT="Summarise the plan for a follow-up visit in two sentences."
cat > "$WORK/direct.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"anthropic_version":"bedrock-2023-05-31","max_tokens":64,"messages":[{"role":"user","content":"$PROMPT"}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/vnd.amazon.eventstream"
LUA
cat > "$WORK/gateway.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"model":"claude-bedrock","stream":true,"max_tokens":64,"messages":[{"role":"user","content":"$PROMPT"}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
LUA

start_proxies

DIRECT_PATH="/model/$MODEL_PATH/invoke-with-response-stream"
# Sanity: the direct and nginx answers are event streams, baagate's an OpenAI SSE that ends.
for port in $UP $PX; do
  ct=$(curl -s -o /dev/null -w '%{http_code} %{content_type}' -X POST "http://127.0.0.1:$port$DIRECT_PATH" \
    -H 'Content-Type: application/json' -H 'Accept: application/vnd.amazon.eventstream' \
    -d '{"anthropic_version":"bedrock-2023-05-31","max_tokens":8,"messages":[{"role":"user","content":"x"}]}')
  [[ "$ct" == "200 application/vnd.amazon.eventstream" ]] || { echo "port $port answered $ct" >&2; exit 1; }
done
curl -s -X POST "http://127.0.0.1:$GW/v1/chat/completions" -H "Authorization: Bearer $KEY" \
  -H 'Content-Type: application/json' \
  -d '{"model":"claude-bedrock","stream":true,"max_tokens":8,"messages":[{"role":"user","content":"x"}]}' \
  | grep -q '^data: \[DONE\]' || { echo "baagate did not complete the stream" >&2; cat "$WORK/baagate.log" >&2; exit 1; }

D_URL="http://127.0.0.1:$UP$DIRECT_PATH"
P_URL="http://127.0.0.1:$PX$DIRECT_PATH"
G_URL="http://127.0.0.1:$GW/v1/chat/completions"
for u in "$D_URL direct" "$P_URL direct" "$G_URL gateway"; do
  set -- $u
  wrk -t1 -c4 -d1s -s "$WORK/$2.lua" "$1" >/dev/null
done

read -r D_RPS D_P50 D_P99 < <(run direct "$D_URL" "$WORK/direct.lua" "$THREADS" "$CONNECTIONS" "$DURATION")
read -r P_RPS P_P50 P_P99 < <(run nginx "$P_URL" "$WORK/direct.lua" "$THREADS" "$CONNECTIONS" "$DURATION")
read -r G_RPS G_P50 G_P99 < <(run baagate "$G_URL" "$WORK/gateway.lua" "$THREADS" "$CONNECTIONS" "$DURATION")
read -r D1_RPS D1_P50 D1_P99 < <(run direct "$D_URL" "$WORK/direct.lua" 1 1 "$LAT_DURATION")
read -r P1_RPS P1_P50 P1_P99 < <(run nginx "$P_URL" "$WORK/direct.lua" 1 1 "$LAT_DURATION")
read -r G1_RPS G1_P50 G1_P99 < <(run baagate "$G_URL" "$WORK/gateway.lua" 1 1 "$LAT_DURATION")

ratio=$(awk -v a="$G_RPS" -v b="$P_RPS" 'BEGIN{printf "%.2f", a/b}')
px_add=$(awk -v a="$P1_P50" -v b="$D1_P50" 'BEGIN{printf "%.0f", (a-b)*1000}')
gw_add=$(awk -v a="$G1_P50" -v b="$D1_P50" 'BEGIN{printf "%.0f", (a-b)*1000}')
report=$(cat <<REP
Streamed Bedrock benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(machine),
wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s and -t1 -c1 -d${LAT_DURATION}s; one request = one whole stream; audit ${AUDIT:-default}.

| target                                             | streams/s (c=$CONNECTIONS) | p50 ms | p99 ms | p50 ms at c=1 | p99 ms at c=1 |
|----------------------------------------------------|------------|--------|--------|---------------|---------------|
| fake Bedrock InvokeModelWithResponseStream         | $D_RPS | $D_P50 | $D_P99 | $D1_P50 | $D1_P99 |
| nginx proxy_pass (no signing, no translation)      | $P_RPS | $P_P50 | $P_P99 | $P1_P50 | $P1_P99 |
| baagate (OpenAI client, SigV4, event-stream → SSE) | $G_RPS | $G_P50 | $G_P99 | $G1_P50 | $G1_P99 |

baagate / nginx streams/s: ${ratio}x; added p50 at c=1: nginx +${px_add} us, baagate +${gw_add} us
REP
)
echo "$report"
echo "$report" > "$OUT/bedrock_stream.md"
