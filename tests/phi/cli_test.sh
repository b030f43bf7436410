#!/usr/bin/env bash
# `baagate scan`, `deid` and `eval` end to end: formats, refusals, deployment lists, and the
# quality bars of issue #3 on the development corpus (when ../shared is present).
# Usage: tests/phi/cli_test.sh path/to/baagate
set -euo pipefail
BIN=${1:?usage: cli_test.sh BAAGATE}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Plain text: one record a line, placeholders consistent within a record.
out=$(printf 'Call John Smith at (617) 555-0199; John Smith agreed.\nNothing here.\n' | "$BIN" deid)
[[ $(wc -l <<<"$out") -eq 2 ]] || fail "deid: expected 2 lines: $out"
grep -q '"text":"Call \[NAME_1\] at \[PHONE_1\]; \[NAME_1\] agreed."' <<<"$out" || fail "deid placeholders: $out"
grep -q '"id":2,"text":"Nothing here."' <<<"$out" || fail "deid untouched line: $out"

# JSONL with ids; scan reports code-point and byte offsets (é is two bytes).
out=$(printf '{"id":"a7","text":"é MRN: 48213977"}\n' | "$BIN" scan)
grep -q '"id":"a7"' <<<"$out" || fail "scan id: $out"
grep -q '"start":7,"end":15,"byte_start":8,"byte_end":16' <<<"$out" || fail "scan offsets: $out"

# A line that is not a JSON object with a string text is refused (exit 1), the others go on.
set +e
out=$(printf '{"id":1,"text":"SSN 123-45-6789"}\n{"id":2}\n' | "$BIN" deid --format jsonl)
rc=$?
set -e
[[ $rc -eq 1 ]] || fail "refused line: exit $rc"
grep -q '"error"' <<<"$out" || fail "refused line has no error: $out"
grep -q '\[SSN_1\]' <<<"$out" || fail "good line not processed: $out"

# Invalid UTF-8 and NUL bytes: repaired, never a crash.
printf 'Jane Doe \xff\xfe and a NUL \x00 here\n' | "$BIN" deid >"$TMP/bad.jsonl"
grep -q '\[NAME_1\]' "$TMP/bad.jsonl" || fail "invalid UTF-8 line: $(cat "$TMP/bad.jsonl")"

# Lines as records: blank lines and CRLF kept, a last line without a break, and a line longer
# than the reader's 8 MiB block (read whole, then the next line goes on).
out=$(printf 'Jane Doe\r\n\nMRN: 48213977' | "$BIN" deid)
[[ $(wc -l <<<"$out") -eq 3 ]] || fail "line records: $out"
grep -q '"id":1,"text":"\[NAME_1\]"}' <<<"$out" || fail "CRLF line: $out"
grep -q '"id":2,"text":""}' <<<"$out" || fail "blank line: $out"
grep -q '"id":3,"text":"MRN: \[MRN_1\]"}' <<<"$out" || fail "last line without a break: $out"
{ head -c 9000000 /dev/zero | tr '\0' 'a'; printf ' SSN 123-45-6789\nCall 617-555-0199\n'; } >"$TMP/long.txt"
"$BIN" deid "$TMP/long.txt" >"$TMP/long.jsonl"
[[ $(wc -l <"$TMP/long.jsonl") -eq 2 ]] || fail "long line: $(wc -l <"$TMP/long.jsonl") lines"
grep -q '"id":1,.*\[SSN_1\]"}' "$TMP/long.jsonl" || fail "long line not de-identified"
grep -q '"id":2,"text":"Call \[PHONE_1\]"}' "$TMP/long.jsonl" || fail "line after the long one"

# Generalisation: date -> year, age > 89 -> "90 or older".
out=$(echo "Seen 03/14/2022, a 93-year-old." | "$BIN" deid --mode generalize)
grep -q '2022' <<<"$out" && grep -q '90 or older' <<<"$out" || fail "generalize: $out"

# Deployment lists, by flag and through a configuration's phi: section.
echo "Zebulon Quarrington" >"$TMP/roster.txt"
out=$(echo "ask zebulon quarrington, badge BDG-123456" | "$BIN" deid --roster "$TMP/roster.txt")
grep -q 'ask \[NAME_1\]' <<<"$out" || fail "roster flag: $out"
cat >"$TMP/cfg.yaml" <<YAML
phi:
  roster_file: $TMP/roster.txt
  patterns:
    - { name: badge, regex: 'BDG-[0-9]{6}' }
YAML
out=$(echo "ask zebulon quarrington, badge BDG-123456" | "$BIN" deid --config "$TMP/cfg.yaml")
grep -q 'ask \[NAME_1\], badge \[ID_1\]' <<<"$out" || fail "config lists: $out"
if "$BIN" deid --roster "$TMP/missing.txt" </dev/null 2>"$TMP/err"; then fail "missing roster accepted"; fi
grep -q "cannot read list file" "$TMP/err" || fail "missing roster message: $(cat "$TMP/err")"
# `config check` reads the lists and compiles the patterns, as serve will.
printf 'phi:\n  patterns:\n    - { name: bad, regex: "([x" }\n' >"$TMP/bad.yaml"
if "$BIN" config check "$TMP/bad.yaml" 2>"$TMP/err"; then fail "config check accepted a broken pattern"; fi
grep -q "custom.bad" "$TMP/err" || fail "config check message: $(cat "$TMP/err")"

# Quality bars on the development corpus (issue #3): leak-free recall >= 0.97, precision
# >= 0.90, hard negatives with any finding <= 15%. The corpus lives next to the repository
# (../shared) or where BAAGATE_SHARED_DIR says; without it the test reports itself skipped.
CORPUS=""
for dir in "${BAAGATE_SHARED_DIR:-}" "$ROOT/../shared" /work/shared; do
  if [[ -n "$dir" && -f "$dir/corpora/asq-phi-dev/asq-phi-dev.jsonl" ]]; then
    CORPUS="$dir/corpora/asq-phi-dev/asq-phi-dev.jsonl"
    break
  fi
done
if [[ -n "$CORPUS" ]]; then
  line=$("$BIN" eval --corpus "$CORPUS" | tail -1)
  echo "$line"
  read -r recall precision neg <<<"$(sed -E 's/leak-free recall ([0-9.]+), precision ([0-9.]+), .* = ([0-9.]+)$/\1 \2 \3/' <<<"$line")"
  awk -v r="$recall" -v p="$precision" -v n="$neg" 'BEGIN { exit !(r >= 0.97 && p >= 0.90 && n <= 0.15) }' ||
    fail "quality bars: $line"
  echo "PHI CLI tests passed"
else
  echo "PHI CLI tests passed; corpus not found (set BAAGATE_SHARED_DIR): quality bars skipped"
  exit 77
fi
