#!/usr/bin/env bash
# Run test programs, count PASS/FAIL lines, print "N passed, N failed" last.
# A program that exits non-zero without printing a FAIL line counts as one
# failure (a crash must never pass silently).
set -u
passed=0; failed=0
log=$(mktemp)
for t in "$@"; do
  echo "== $t"
  start=$(date +%s)
  "$t" >"$log" 2>&1
  rc=$?
  cat "$log"
  p=$(grep -c '^PASS: ' "$log"); f=$(grep -c '^FAIL: ' "$log")
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "FAIL: $t exited with status $rc"
    f=1
  fi
  echo "   ($(( $(date +%s) - start )) s)"
  passed=$((passed + p)); failed=$((failed + f))
done
rm -f "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
