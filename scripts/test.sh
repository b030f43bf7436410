#!/usr/bin/env bash
# `make test`: every test, in order of cost. Stops at nothing: each stage runs, failures are
# summed, and the exit code is non-zero if any stage failed.
#   1. unit + integration tests (GoogleTest via ctest) on the release build
#   1b. the PostgreSQL audit store tests against a real, throw-away server (tests/pg/)
#   1c. the audit crash test: SIGKILL under load, then verify + every response has its record
#   2. end-to-end tests: the official openai npm SDK against `baagate serve` + `fake-vendor`
#   3. the same unit + integration tests under AddressSanitizer + UBSan
#   4. short libFuzzer runs (clang) of the SSE parser, feature extraction + policy evaluation,
#      the event-stream decoder and the streaming translators, seeded from fuzz/corpus
#   5. short libFuzzer runs of the PHI detector and the streaming re-identifier
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD_DIR="${BUILD_DIR:-build}"
ASAN_DIR="${ASAN_DIR:-build-asan}"
JOBS="${JOBS:-$(nproc)}"
FUZZ_SECONDS="${FUZZ_SECONDS:-30}"
PHI_FUZZ_SECONDS="${PHI_FUZZ_SECONDS:-20}"
passed=0
failed=0
stage_failed=()

count_ctest() {  # $1: ctest log
  local line
  line=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "$1" | tail -1)
  if [[ -n "$line" ]]; then
    local f t
    f=$(sed -E 's/.*passed, ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
    t=$(sed -E 's/.*failed out of ([0-9]+).*/\1/' <<<"$line")
    passed=$((passed + t - f))
    failed=$((failed + f))
  else
    failed=$((failed + 1))
  fi
}

echo "== unit and integration tests"
log=$(mktemp)
ctest --test-dir "$BUILD_DIR" -j "$JOBS" --output-on-failure --timeout 180 -E 'AuditLogTest[.].*/postgres' 2>&1 | tee "$log"
[[ ${PIPESTATUS[0]} -eq 0 ]] || stage_failed+=("ctest")
count_ctest "$log"

echo "== PostgreSQL audit store tests (real server)"
if pg_env=$(tests/pg/start_pg.sh); then
  eval "$pg_env"
  log=$(mktemp)
  BAAGATE_TEST_PG_CONNINFO="$BAAGATE_TEST_PG_CONNINFO" \
    ctest --test-dir "$BUILD_DIR" -j "$JOBS" --output-on-failure --timeout 180 -R 'AuditLogTest[.].*/postgres' 2>&1 | tee "$log"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || stage_failed+=("postgres")
  count_ctest "$log"
  tests/pg/stop_pg.sh "$BAAGATE_TEST_PG_DIR"
  unset BAAGATE_TEST_PG_CONNINFO BAAGATE_TEST_PG_DIR
else
  stage_failed+=("postgres-start")
  failed=$((failed + 1))
fi

echo "== audit crash test (SIGKILL under load, both durability modes)"
for mode in default strict; do
  if DURABILITY=$mode tests/audit/crash_test.sh "$ROOT/$BUILD_DIR/baagate"; then
    passed=$((passed + 1))
  else
    stage_failed+=("audit-crash-$mode")
    failed=$((failed + 1))
  fi
done

echo "== end-to-end tests (openai SDK)"
log=$(mktemp)
(cd tests/e2e && BAAGATE_BIN="$ROOT/$BUILD_DIR/baagate" timeout 600 node --test --test-concurrency=1) 2>&1 | tee "$log"
[[ ${PIPESTATUS[0]} -eq 0 ]] || stage_failed+=("e2e")
p=$(grep -E "^# pass [0-9]+" "$log" | awk '{print $3}')
f=$(grep -E "^# fail [0-9]+" "$log" | awk '{print $3}')
passed=$((passed + ${p:-0}))
failed=$((failed + ${f:-1}))

echo "== sanitizer build (ASan + UBSan)"
if cmake -S . -B "$ASAN_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DBAAGATE_SANITIZE=ON \
      -DBAAGATE_BENCH=OFF ${CI:+-DBAAGATE_WERROR=ON} >/dev/null &&
   cmake --build "$ASAN_DIR" -j "$JOBS" --target unit_tests integration_tests baagate; then
  log=$(mktemp)
  # The PostgreSQL store tests run here too, against a fresh throw-away server.
  asan_exclude=()
  if pg_env=$(tests/pg/start_pg.sh); then
    eval "$pg_env"
  else
    asan_exclude=(-E 'AuditLogTest[.].*/postgres')
    stage_failed+=("asan-postgres-start")
  fi
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$ASAN_DIR" -j "$JOBS" --output-on-failure --timeout 300 "${asan_exclude[@]}" 2>&1 | tee "$log"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || stage_failed+=("asan")
  if [[ -n "${BAAGATE_TEST_PG_DIR:-}" ]]; then
    tests/pg/stop_pg.sh "$BAAGATE_TEST_PG_DIR"
    unset BAAGATE_TEST_PG_CONNINFO BAAGATE_TEST_PG_DIR
  fi
  count_ctest "$log"
else
  stage_failed+=("asan-build")
  failed=$((failed + 1))
fi

# run_fuzzer NAME SOURCES...: builds a libFuzzer target with clang and runs it from its seeds.
run_fuzzer() {
  local name=$1
  shift
  echo "== fuzz: ${name} for ${FUZZ_SECONDS}s"
  mkdir -p build-fuzz
  if clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -I src -I "$BUILD_DIR/generated" \
       "$@" -o "build-fuzz/${name}_fuzzer"; then
    rm -rf "build-fuzz/corpus-${name}" && cp -r "fuzz/corpus/${name}" "build-fuzz/corpus-${name}"
    if "build-fuzz/${name}_fuzzer" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 \
         -artifact_prefix="build-fuzz/${name}-" "build-fuzz/corpus-${name}" >"build-fuzz/${name}.log" 2>&1; then
      passed=$((passed + 1))
      tail -2 "build-fuzz/${name}.log"
    else
      tail -30 "build-fuzz/${name}.log"
      stage_failed+=("fuzz-${name}")
      failed=$((failed + 1))
    fi
  else
    stage_failed+=("fuzz-build-${name}")
    failed=$((failed + 1))
  fi
}

run_fuzzer sse_parser fuzz/sse_parser_fuzzer.cc src/http/sse.cc src/core/status.cc
run_fuzzer feature_extract fuzz/feature_extract_fuzzer.cc src/policy/facts.cc src/policy/policy.cc \
  src/policy/enforce.cc src/policy/config_hash.cc src/config/config.cc src/config/yaml_reader.cc \
  src/config/registry.cc "$BUILD_DIR/generated/registry_embed.cc" src/phi/types.cc src/core/crypto.cc \
  src/core/log.cc src/core/status.cc -lboost_json -lyaml-cpp -lcrypto

echo "== fuzz: PHI detector and re-identifier for ${PHI_FUZZ_SECONDS}s each"
# The PHI sources are compiled once with fuzzer instrumentation, then linked into each target.
phi_srcs=(src/phi/types.cc src/phi/dictionaries.cc src/phi/validators.cc src/phi/utf8.cc
          src/phi/token_rules.cc src/phi/detector.cc src/phi/session.cc src/phi/no_precompiled_db.cc
          src/core/status.cc src/core/crypto.cc)
phi_flags=(-std=c++20 -O1 -g -fsanitize=fuzzer-no-link,address,undefined -I src)
phi_objs=()
phi_build_ok=1
mkdir -p build-fuzz/phi
node tools/phi/gen_dicts.js third_party/phi-dicts/node_modules /usr/share/dict/american-english \
  build-fuzz/phi/phi_dicts.cc >/dev/null || phi_build_ok=0
for src in "${phi_srcs[@]}" build-fuzz/phi/phi_dicts.cc; do
  obj="build-fuzz/phi/$(basename "${src%.cc}").o"
  ((phi_build_ok)) || break
  clang++ "${phi_flags[@]}" -c "$src" -o "$obj" || phi_build_ok=0
  phi_objs+=("$obj")
done
for target in phi_detector phi_reidentify; do
  if ((phi_build_ok)) &&
     clang++ "${phi_flags[@]}" -fsanitize=fuzzer "fuzz/${target}_fuzzer.cc" "${phi_objs[@]}" \
       -lhs -lboost_json -lcrypto -o "build-fuzz/${target}_fuzzer"; then
    rm -rf "build-fuzz/corpus-${target}" && cp -r "fuzz/corpus/${target}" "build-fuzz/corpus-${target}"
    if "build-fuzz/${target}_fuzzer" -max_total_time="$PHI_FUZZ_SECONDS" -rss_limit_mb=2048 \
         -max_len=65536 -artifact_prefix="build-fuzz/${target}-" "build-fuzz/corpus-${target}" \
         >"build-fuzz/${target}.log" 2>&1; then
      passed=$((passed + 1))
      tail -2 "build-fuzz/${target}.log"
    else
      tail -30 "build-fuzz/${target}.log"
      stage_failed+=("fuzz-${target}")
      failed=$((failed + 1))
    fi
  else
    stage_failed+=("fuzz-${target}-build")
    failed=$((failed + 1))
  fi
done

run_fuzzer event_stream fuzz/event_stream_fuzzer.cc src/providers/bedrock/event_stream.cc \
  src/core/status.cc
run_fuzzer translator_stream -DBOOST_JSON_DYN_LINK fuzz/translator_stream_fuzzer.cc \
  src/providers/anthropic/translate.cc src/providers/anthropic/anthropic.cc \
  src/providers/bedrock/converse.cc src/providers/bedrock/sigv4.cc src/providers/vertex/gemini.cc \
  src/providers/common/canonical.cc src/providers/openai/openai.cc src/core/status.cc \
  src/core/crypto.cc src/core/log.cc -lboost_json -lcrypto
run_fuzzer audit_record -DBOOST_JSON_DYN_LINK fuzz/audit_record_fuzzer.cc src/audit/verify.cc \
  src/audit/checkpoint.cc src/audit/merkle.cc src/audit/chain.cc src/audit/record.cc \
  src/audit/jcs.cc src/core/crypto.cc src/core/sha256_pieces.cc src/core/status.cc -lboost_json \
  -lsodium -lcrypto

echo
if ((${#stage_failed[@]})); then
  echo "failed stages: ${stage_failed[*]}"
fi
echo "make test: $passed passed, $failed failed"
((${#stage_failed[@]} == 0 && failed == 0))
