#!/usr/bin/env bash
# tests/tools/cli_test.sh DEMO REPLAY — the main job and the auditors' verify, end to end:
# the demo appends and verifies, a rerun appends nothing, ledger-replay agrees with the demo's
# digest, refuses a wrong one (exit 1, naming the position), and reports usage (2) and
# unreadable stores (3) distinctly.
set -u
demo="$1"
replay="$2"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
failures=0
check() {  # check NAME EXPECTED_EXIT ACTUAL_EXIT
  if [ "$2" != "$3" ]; then
    echo "FAIL: $1: expected exit $2, got $3"
    failures=$((failures + 1))
  else
    echo "ok: $1"
  fi
}
contains() {  # contains NAME TEXT PATTERN
  if grep -q -- "$3" <<<"$2"; then echo "ok: $1"; else
    echo "FAIL: $1: output lacks '$3':"
    echo "$2"
    failures=$((failures + 1))
  fi
}

out="$("$demo" --data-dir "$dir/data" --employers 3 --accounts-per-employer 4 --months 2)"
check "demo runs" 0 $?
# 3 employers + 12 accounts + 2 months x 3 employers x (1 receipt + 4 allocations) = 45
contains "demo appends 45 records" "$out" "45 records appended, 0 already present"
digest="$(grep -A1 'head digest' <<<"$out" | tail -1 | tr -d ' ')"
contains "digest is POSITION:HASH" "$digest" "^45:[0-9a-f]\{64\}$"

out="$("$demo" --data-dir "$dir/data" --employers 3 --accounts-per-employer 4 --months 2)"
check "demo rerun" 0 $?
contains "rerun appends nothing" "$out" "0 records appended, 45 already present"

out="$("$replay" verify --data-dir "$dir/data" --digest "$digest")"
check "verify with the demo's digest" 0 $?
contains "verify reports the head" "$out" "head $digest"

wrong="45:$(printf '0%.0s' $(seq 64))"
out="$("$replay" verify --data-dir "$dir/data" --digest "$wrong")"
check "verify with a wrong digest" 1 $?
contains "wrong digest names position 45" "$out" "FAILED at position 45: digest_mismatch"

out="$("$replay" verify --data-dir "$dir/data" --digest "46:${digest#45:}")"
check "verify with a digest past the end" 1 $?
contains "truncation is reported" "$out" "shorter_than_digest"

out="$("$replay" verify --data-dir "$dir/data" --json)"
check "verify --json" 0 $?
contains "json ok" "$out" '"ok":true'

"$replay" verify >/dev/null 2>&1
check "verify without --data-dir is usage" 2 $?
"$replay" frobnicate >/dev/null 2>&1
check "unknown command is usage" 2 $?
"$replay" verify --data-dir "$dir/data" --digest nonsense >/dev/null 2>&1
check "malformed digest is usage" 2 $?
"$replay" verify --data-dir "$dir/none" >/dev/null 2>&1
check "missing store is unreadable" 3 $?
"$demo" --employers 0 >/dev/null 2>&1
check "demo refuses a bad flag" 2 $?

if [ "$failures" -ne 0 ]; then
  echo "$failures failed"
  exit 1
fi
echo "cli: all checks passed"
