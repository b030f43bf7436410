#!/usr/bin/env bash
# Proxy benchmark: wrk against (1) a fixed upstream (nginx `return 200` serving a chat
# completion), (2) an nginx `proxy_pass` in front of it, (3) baagate in front of it — all in one
# run on loopback. Prints RPS, p50 and p99 for each, and the latency each proxy adds at one
# connection. Bounded: a few wrk runs of DURATION seconds each; everything stops by itself.
#
# Usage: bench/proxy/run.sh  (env: DURATION=10 CONNECTIONS=64 THREADS=2 LAT_DURATION=5)
#
# SCENARIO=bedrock_stream: the upstream is `baagate fake-vendor` answering Bedrock
# InvokeModelWithResponseStream (event-stream frames carrying Anthropic events); nginx proxies the
# Bedrock path unchanged, baagate takes a streamed OpenAI chat request on a Bedrock route, signs
# it with SigV4, decodes the frames and relays chat.completion.chunk SSE (a translated stream).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="$ROOT/build/baagate"
DURATION="${DURATION:-10}"
LAT_DURATION="${LAT_DURATION:-5}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
SCENARIO="${SCENARIO:-chat}"
case "$SCENARIO" in chat|bedrock_stream) ;; *) echo "unknown SCENARIO=$SCENARIO" >&2; exit 2 ;; esac
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
BEDROCK_MODEL="anthropic.claude-3-5-sonnet-20240620-v1:0"
BEDROCK_PATH="/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/invoke-with-response-stream"
# The gateway signs Bedrock requests with these; the fake vendor does not verify them here (wrk
# cannot sign the direct and nginx runs), so they are placeholders.
export AWS_ACCESS_KEY_ID=AKIDBENCHPLACEHOLDER AWS_SECRET_ACCESS_KEY=bench-placeholder
unset AWS_SESSION_TOKEN
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
$([[ "$SCENARIO" == chat ]] && cat <<UPS
  server {
    listen 127.0.0.1:$UP;
    location / { default_type application/json; return 200 '$BODY'; }
  }
UPS
)
  server {
    listen 127.0.0.1:$PX;
    location / {
      proxy_pass http://fake;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
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
  bedrock:
    provider: bedrock
    region: us-east-1
    base_url: http://127.0.0.1:$UP
    credential: aws_environment
routes:
  - { model: gpt-4o-mini, upstream: up }
  - { model: claude-bedrock, upstream: bedrock, upstream_model: "$BEDROCK_MODEL" }
keys:
  - { name: bench, sha256: $KEYSHA, tenant: t, app: bench, role: r, purpose: treatment }
# The policy engine decides every call (a BAA with OpenAI, ZDR verified now).
tenant:
  id: t
  contracts:
    - { id: BAA-BENCH, vendor: openai, effective_date: "2025-01-01" }
    - { id: BAA-BENCH-AWS, vendor: aws, effective_date: "2025-01-01" }
  attestations:
    - { vendor: openai, retention: zero_data_retention, source: verified, verified_at: "$(date -u +%Y-%m-%dT%H:%M:%SZ)" }
    - { vendor: aws, retention: none, source: verified, verified_at: "$(date -u +%Y-%m-%dT%H:%M:%SZ)" }
apps:
  - { id: bench, purpose: treatment }
# AUDIT=off|default|strict measures the audit log's share of the overhead (default: default).
audit:
  enabled: $([[ "${AUDIT:-default}" == off ]] && echo false || echo true)
  durability: $([[ "${AUDIT:-default}" == strict ]] && echo strict || echo default)
  store: sqlite:$WORK/audit.db
  key_file: $WORK/audit.key
CONF

# What the direct and nginx runs send in the bedrock_stream scenario: the InvokeModel body.
cat > "$WORK/bedrock.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"anthropic_version":"bedrock-2023-05-31","max_tokens":64,"system":"You are a careful clinical assistant.","messages":[{"role":"user","content":"Summarise the plan for a follow-up visit in two sentences."}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/vnd.amazon.eventstream"
LUA
cat > "$WORK/stream.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"model":"claude-bedrock","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"system","content":"You are a careful clinical assistant."},{"role":"user","content":"Summarise the plan for a follow-up visit in two sentences."}],"max_completion_tokens":64}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
LUA

cat > "$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a careful clinical assistant."},{"role":"user","content":"Summarise the plan for a follow-up visit in two sentences."}],"max_completion_tokens":64}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
LUA

cleanup() {
  [[ -f "$WORK/nginx.pid" ]] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  [[ -n "${GW_PID:-}" ]] && kill "$GW_PID" 2>/dev/null || true
  [[ -n "${FAKE_PID:-}" ]] && kill "$FAKE_PID" 2>/dev/null || true
  sleep 0.3
  rm -rf "$WORK"
}
trap cleanup EXIT

if [[ "$SCENARIO" == bedrock_stream ]]; then
  "$BIN" fake-vendor --listen "127.0.0.1:$UP" --workers 1 --ready-file "$WORK/fake.json" \
    2>"$WORK/fake.log" &
  FAKE_PID=$!
  for _ in $(seq 100); do [[ -f "$WORK/fake.json" ]] && break; sleep 0.05; done
fi
"$NGINX" -p "$WORK" -c "$WORK/nginx.conf"
"$BIN" serve --config "$WORK/baagate.yaml" --ready-file "$WORK/ready.json" 2>"$WORK/baagate.log" &
GW_PID=$!
for _ in $(seq 100); do [[ -f "$WORK/ready.json" ]] && break; sleep 0.05; done

# Per target: the path and the wrk script (the upstream and nginx speak the vendor's protocol).
if [[ "$SCENARIO" == bedrock_stream ]]; then
  DIRECT_PATH="$BEDROCK_PATH"; DIRECT_LUA="$WORK/bedrock.lua"
  GW_PATH="/v1/chat/completions"; GW_LUA="$WORK/stream.lua"
else
  DIRECT_PATH="/v1/chat/completions"; DIRECT_LUA="$WORK/post.lua"
  GW_PATH="/v1/chat/completions"; GW_LUA="$WORK/post.lua"
fi
path_of() { [[ "$1" == "$GW" ]] && echo "$GW_PATH" || echo "$DIRECT_PATH"; }
lua_of() { [[ "$1" == "$GW" ]] && echo "$GW_LUA" || echo "$DIRECT_LUA"; }
body_of() {
  if [[ "$SCENARIO" == bedrock_stream && "$1" != "$GW" ]]; then
    echo '{"anthropic_version":"bedrock-2023-05-31","max_tokens":8,"messages":[{"role":"user","content":"x"}]}'
  elif [[ "$SCENARIO" == bedrock_stream ]]; then
    echo '{"model":"claude-bedrock","stream":true,"messages":[{"role":"user","content":"x"}]}'
  else
    echo '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}'
  fi
}

# Sanity: all three answer (the same completion, or the same stream).
for port in $UP $PX $GW; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port$(path_of "$port")" \
    -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d "$(body_of "$port")")
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
  wrk -t"$3" -c"$4" -d"$5"s --latency -s "$(lua_of "$2")" "http://127.0.0.1:$2$(path_of "$2")" >"$f"
  # warm-up excluded: each target got a 1 s run first
  parse "$f"
}

for port in $UP $PX $GW; do
  wrk -t1 -c8 -d1s -s "$(lua_of "$port")" "http://127.0.0.1:$port$(path_of "$port")" >/dev/null
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
wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s (throughput) and -t1 -c1 -d${LAT_DURATION}s (latency), scenario $SCENARIO: $(
  [[ "$SCENARIO" == bedrock_stream ]] && echo "upstream and nginx: POST $BEDROCK_PATH (fake-vendor event-stream); baagate: streamed POST /v1/chat/completions on a SigV4-signed Bedrock route, translated to SSE" || echo "POST /v1/chat/completions")
baagate: $(nproc) workers, gateway-key auth, JSON parse + re-encode, access log ${ACCESS_LOG:-true} (${requests} lines written).

| target                    | RPS (c=$CONNECTIONS) | p50 ms | p99 ms | p50 ms at c=1 | p99 ms at c=1 |
|---------------------------|---------------|--------|--------|---------------|---------------|
| upstream ($([[ "$SCENARIO" == bedrock_stream ]] && echo "fake-vendor" || echo "nginx return"))   | $UP_RPS | $UP_P50 | $UP_P99 | $UP1_P50 | $UP1_P99 |
| nginx proxy_pass          | $PX_RPS | $PX_P50 | $PX_P99 | $PX1_P50 | $PX1_P99 |
| baagate                   | $GW_RPS | $GW_P50 | $GW_P99 | $GW1_P50 | $GW1_P99 |

baagate / nginx RPS: ${ratio}x (budget >= 0.5x)
added p50 at c=1: nginx +${px_add} us, baagate +${gw_add} us (budget <= 100 us)
REP
)
echo "$report"
echo "$report" > "$OUT/latest$([[ "$SCENARIO" == chat ]] || echo "-$SCENARIO").md"
