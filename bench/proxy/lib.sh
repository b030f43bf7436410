# Shared by the proxy benchmarks (sourced, not run): paths, free ports, the nginx and baagate
# configurations' common parts, start-up and clean-up, and the wrk runs and their parsing.
# Everything runs on loopback and stops by itself.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="$ROOT/build/baagate"
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
OUT="$ROOT/bench/out"
mkdir -p "$OUT"
KEY="bg-bench-key-0000"
KEYSHA=$(printf %s "$KEY" | sha256sum | cut -d' ' -f1)

# Creates $WORK (named after $1) and removes it, and stops what the benchmark started, on exit.
bench_init() {
  WORK="$(mktemp -d "/tmp/$1.XXXXXX")"
  chmod 755 "$WORK"
  mkdir -p "$WORK/tmp" && chmod 777 "$WORK/tmp"
  trap bench_cleanup EXIT
}

bench_cleanup() {
  [[ -f "$WORK/nginx.pid" ]] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  [[ -n "${GW_PID:-}" ]] && kill "$GW_PID" 2>/dev/null || true
  [[ -n "${FAKE_PID:-}" ]] && kill "$FAKE_PID" 2>/dev/null || true
  sleep 0.3
  rm -rf "$WORK"
}

free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 30000))
    if ! ss -ltnH "sport = :$p" | grep -q .; then echo "$p"; return; fi
  done
}

# Writes $WORK/nginx.conf: an http block with keep-alive to the upstream on port $1 and the
# server blocks given in $2.
write_nginx_conf() {
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
  upstream fake { server 127.0.0.1:$1; keepalive 128; }
$2
}
CONF
}

# The audit section of baagate.yaml for AUDIT=off|default|strict (default: default), which
# measures the audit log's share of the overhead.
audit_yaml() {
  cat <<CONF
audit:
  enabled: $([[ "${AUDIT:-default}" == off ]] && echo false || echo true)
  durability: $([[ "${AUDIT:-default}" == strict ]] && echo strict || echo default)
  store: sqlite:$WORK/audit.db
  key_file: $WORK/audit.key
CONF
}

# Starts nginx and baagate on the configurations in $WORK and waits until baagate is ready.
start_proxies() {
  "$NGINX" -p "$WORK" -c "$WORK/nginx.conf"
  "$BIN" serve --config "$WORK/baagate.yaml" --ready-file "$WORK/ready.json" 2>"$WORK/baagate.log" &
  GW_PID=$!
  for _ in $(seq 100); do [[ -f "$WORK/ready.json" ]] && break; sleep 0.05; done
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

# Prints "rps p50_ms p99_ms" from wrk --latency output.
parse() {
  local rps p50 p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$1")
  p50=$(awk '$1=="50%" {print $2}' "$1")
  p99=$(awk '$1=="99%" {print $2}' "$1")
  echo "$rps $(to_ms "$p50") $(to_ms "$p99")"
}

# One wrk run: name url script threads connections seconds; prints "rps p50_ms p99_ms" and
# stops the benchmark if any answer was not 2xx.
run() {
  local f="$WORK/wrk-$1-$5.txt"
  wrk -t"$4" -c"$5" -d"$6"s --latency -s "$3" "$2" >"$f"
  if grep -q "Non-2xx" "$f"; then echo "$1: non-2xx answers" >&2; cat "$f" >&2; exit 1; fi
  parse "$f"
}

# The machine, for a report's first line.
machine() {
  echo "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
}
