#!/usr/bin/env bash
# Installs everything baagate needs to build, run, test and benchmark on Debian 12.
# Idempotent: packages already present are not reinstalled; safe to run on every `make`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Debian packages, grouped by purpose (the README says why each is here).
APT_PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache git clang libclang-rt-14-dev
  # libraries
  libboost1.81-dev libboost-json1.81-dev libssl-dev libyaml-cpp-dev
  libcli11-dev
  # audit log: Ed25519 checkpoint signatures, the embedded SQLite store, the PostgreSQL store
  libsodium-dev libsqlite3-dev libpq-dev
  # PHI detector: Hyperscan multi-pattern scanning; wamerican is the English word list that
  # suppresses false positives (compiled into the binary at build time)
  libhyperscan-dev wamerican
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  curl openssl wrk nginx-light procps iproute2
  # a real PostgreSQL server for the audit store tests (started per run by tests/pg/start_pg.sh)
  postgresql-15
)

# Node.js runs the end-to-end tests. A machine that already has node and npm (for example from
# another repository) keeps them; otherwise Debian's are installed.
command -v node >/dev/null 2>&1 || APT_PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(npm)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The Debian nginx package starts a system service on install; baagate's benchmark runs its own
# nginx on loopback ports, so the system one is not needed.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then
  systemctl stop nginx || true
fi

# npm packages the PHI dictionaries are compiled from at build time (Census first names and
# surnames, US ZIP/city/state table, USPS street suffixes), installed from the lock file.
if [[ ! -d "$ROOT/third_party/phi-dicts/node_modules/zipcodes" ||
      "$ROOT/third_party/phi-dicts/package-lock.json" -nt "$ROOT/third_party/phi-dicts/node_modules/.package-lock.json" ]]; then
  echo "setup: installing npm packages for the PHI dictionaries"
  (cd "$ROOT/third_party/phi-dicts" && npm ci --no-audit --no-fund --loglevel=error)
fi

# npm packages for the end-to-end tests (official SDKs), installed from the lock file.
if [[ -f "$ROOT/tests/e2e/package-lock.json" ]]; then
  if [[ ! -d "$ROOT/tests/e2e/node_modules/openai" ||
        "$ROOT/tests/e2e/package-lock.json" -nt "$ROOT/tests/e2e/node_modules/.package-lock.json" ]]; then
    echo "setup: installing npm packages for tests/e2e"
    (cd "$ROOT/tests/e2e" && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
echo "setup: ok"
