#!/usr/bin/env bash
# Bad input at scale (issue #3): a 100 MB line dense with identifiers is de-identified in
# bounded time and memory, and a record too large for the memory available is refused with a
# clear error line and exit status 1, never a crash. Release builds only (CMakeLists.txt): a
# sanitizer build reserves terabytes of address space, which `ulimit -v` would refuse.
# Usage: tests/phi/large_input_test.sh path/to/baagate
set -euo pipefail
BIN=${1:?usage: large_input_test.sh BAAGATE}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# 1.75 million sentences on one line (101.5 MB): a name, 10,000 distinct phone numbers, a date
# and 1.75 million distinct record numbers, so the vault holds ~1.76 million entries.
awk 'BEGIN { for (i = 0; i < 1750000; i++)
               printf "Jane Doe called 617-555-%04d on 03/14/2022, MRN %08d. ", i % 10000, i
             printf "\n" }' >"$TMP/line.txt"
bytes=$(stat -c %s "$TMP/line.txt")
(( bytes > 100000000 )) || fail "generated line is only $bytes bytes"

# Bounded: 4 GiB of address space and 120 s (measured: ~2.3 GiB, 12-15 s on 2 cores).
SECONDS=0
set +e
(ulimit -v 4194304; "$BIN" deid "$TMP/line.txt" >"$TMP/out.jsonl")
rc=$?
set -e
took=$SECONDS
[[ $rc -eq 0 ]] || fail "deid of a ${bytes}-byte line exited $rc"
(( took <= 120 )) || fail "deid of a ${bytes}-byte line took ${took}s"
[[ $(wc -l <"$TMP/out.jsonl") -eq 1 ]] || fail "expected one output line"
if grep -q -e '617-555-' -e 'Jane' -e 'MRN 0' "$TMP/out.jsonl"; then
  fail "identifiers survived in the 100 MB line"
fi
grep -q 'MRN \[MRN_1750000\]\. "}$' "$TMP/out.jsonl" || fail "the line's last record number was not replaced"
echo "100 MB line: ${bytes} bytes in ${took}s"

# Too little memory for the record: one error line for it, exit status 1, no abort.
set +e
(ulimit -v 1048576; "$BIN" deid "$TMP/line.txt" >"$TMP/oom.jsonl" 2>"$TMP/oom.err")
rc=$?
set -e
[[ $rc -eq 1 ]] || fail "with 1 GiB the run exited $rc (expected 1, a refused record): $(head -c 300 "$TMP/oom.err")"
grep -qx '{"id":1,"error":"not enough memory to process this record"}' "$TMP/oom.jsonl" ||
  fail "no error line for the record: $(head -c 200 "$TMP/oom.jsonl")"
echo "PHI large-input tests passed"
