#!/usr/bin/env bash
# Smoke test of scripts/tspu_plot.py (docs/pictures.md): a small run on the
# model device writes the four PNGs; a bad input file is one stderr line and
# a non-zero exit.  Usage: tests/test_plot.sh [TSPU_BINARY]
# Prints "PASS: name" / "FAIL: name -- detail" lines; exits non-zero on failure.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
tspu=${1:-$here/build/bin/tspu}
py=/usr/bin/python3
script=$here/scripts/tspu_plot.py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1 -- $2"; fails=$((fails + 1)); }

# 1. a small run writes every picture
if "$py" "$script" --tspu "$tspu" --device model --seed 7 --samples 2000 \
     --steps 200 --out "$tmp/img" >"$tmp/out" 2>"$tmp/err"; then
  pass "plot: small run exits 0"
else
  fail "plot: small run exits 0" "status $?: $(head -c 300 "$tmp/err")"
fi
for f in covariance trajectory2d marginals autocorr; do
  p=$tmp/img/$f.png
  if [ -s "$p" ] && [ "$(head -c 8 "$p" | od -An -c | tr -d ' ')" = "211PNG\r\n032\n" ]; then
    pass "plot: $f.png written ($(stat -c %s "$p") bytes)"
  else
    fail "plot: $f.png written" "missing, empty or not a PNG"
  fi
done

# 2. a bad input file: one line on stderr, non-zero exit, no pictures
printf '1 2\n3 x\n' >"$tmp/bad.txt"
"$py" "$script" --tspu "$tspu" --samples 200 --A "$tmp/bad.txt" --out "$tmp/bad" \
  >"$tmp/out2" 2>"$tmp/err2"
rc=$?
n=$(wc -l <"$tmp/err2")
if [ $rc -ne 0 ] && [ "$n" -eq 1 ] && grep -q 'bad.txt' "$tmp/err2"; then
  pass "plot: bad input -> one stderr line, status $rc"
else
  fail "plot: bad input -> one stderr line" "status $rc, $n stderr lines: $(head -c 300 "$tmp/err2")"
fi
if [ ! -e "$tmp/bad/covariance.png" ]; then
  pass "plot: bad input writes no pictures"
else
  fail "plot: bad input writes no pictures" "$tmp/bad/covariance.png exists"
fi

# 3. a missing tspu binary is a one-line error as well
"$py" "$script" --tspu "$tmp/no-such-tspu" --samples 200 --out "$tmp/x" >/dev/null 2>"$tmp/err3"
rc=$?
n=$(wc -l <"$tmp/err3")
if [ $rc -ne 0 ] && [ "$n" -eq 1 ]; then
  pass "plot: missing tspu binary -> one stderr line"
else
  fail "plot: missing tspu binary -> one stderr line" "status $rc, $n lines: $(head -c 300 "$tmp/err3")"
fi
[ "$fails" -eq 0 ]
