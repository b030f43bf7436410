#!/usr/bin/env bash
# `make run`: the fake vendor on 127.0.0.1:9090 and the gateway on 127.0.0.1:8080 (admin 8081)
# with examples/quickstart.yaml. Ctrl-C stops both.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/build/baagate"
export BAAGATE_FAKE_VENDOR_KEY="${BAAGATE_FAKE_VENDOR_KEY:-sk-fake-quickstart}"

"$BIN" fake-vendor --listen 127.0.0.1:9090 --api-key-env BAAGATE_FAKE_VENDOR_KEY &
FAKE_PID=$!
trap 'kill $FAKE_PID 2>/dev/null || true' EXIT

cat <<'MSG' >&2
baagate quickstart: gateway on http://127.0.0.1:8080 (admin http://127.0.0.1:8081/metrics)
Try:
  curl -s http://127.0.0.1:8080/v1/chat/completions \
    -H 'Authorization: Bearer bg-quickstart-demo-key-not-for-production' \
    -H 'Content-Type: application/json' \
    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}'
MSG
"$BIN" serve --config "$ROOT/examples/quickstart.yaml"
