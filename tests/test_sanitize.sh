#!/usr/bin/env bash
# tests/test_sanitize.sh SANDIR PLAINDIR TSPU TEST...
#   The C code under the sanitizers and valgrind (the guide's "clean under
#   ASan/UBSan and valgrind"), in `make test`:
#   - SANDIR holds the C tests built with -fsanitize=address,undefined
#     -fno-sanitize-recover=all (the Makefile's SAN_CFLAGS, a sub-make with
#     B=build-san): each TEST must pass there with no sanitizer report
#     (AddressSanitizer, UndefinedBehaviorSanitizer, LeakSanitizer at exit);
#   - TSPU (the plain CLI) runs solve / sample / inv / posterior / logreg on
#     the model device, info and sample on the Verilated RTL ("sim") and on
#     the Verilated board over a pty ("vboard"; valgrind watches the CLI, not
#     tspu-vboard), and a bad input, under valgrind --leak-check=full: any
#     error or a definite or indirect leak is exit status 99;
#   - would-fail checks first: sanitize_canary (SANDIR and PLAINDIR builds)
#     makes one heap overflow, signed overflow, leak and branch on
#     uninitialised memory, and each must be caught, or the passes below
#     would prove nothing.
#   One PASS/FAIL line per check (a test program's own PASS lines are
#   summarised, not repeated, so run_tests.sh counts each program once).
set -u
san=$1; plain=$2; tspu=$3; shift 3
root=$(cd "$(dirname "$0")/.." && pwd)
ex="$root/examples"
w=$(mktemp -d); trap 'rm -rf "$w"' EXIT
passed=0; failed=0
pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1"; [ -n "${2:-}" ] && sed -n '1,15s/^/    /p' "$2"; failed=$((failed + 1)); }
SANREP='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: (Address|UndefinedBehavior|Leak)Sanitizer'
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1
VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect"

# ---- can the sanitizer runtimes run on this machine? ------------------------
# (LeakSanitizer stops the process's threads with ptrace, which some
# containers forbid; ASan needs its shadow mappings.)  A runtime that cannot
# run is said in a note and its part left out, not failed and not passed.
have_san=1
"$san/sanitize_canary" clean >"$w/c" 2>&1; rc=$?
if [ $rc -ne 0 ] && grep -q "LeakSanitizer has encountered a fatal error" "$w/c"; then
  echo "note: LeakSanitizer cannot run here ($(grep -m1 -i "does not work\|fatal" "$w/c")): leaks are left to valgrind"
  export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0
  "$san/sanitize_canary" clean >"$w/c" 2>&1; rc=$?
fi
if [ $rc -ne 0 ]; then
  echo "note: the sanitizer runtime cannot run here ($(head -1 "$w/c")): the ASan/UBSan part is left out, valgrind's is run"
  have_san=0
fi

# ---- would-fail: each tool catches its canary -----------------------------
canary() { # TOOL KIND PATTERN CMD...
  local tool=$1 kind=$2 pat=$3; shift 3
  "$@" >"$w/c" 2>&1; local rc=$?
  if [ $rc -ne 0 ] && grep -qE "$pat" "$w/c"; then
    pass "would-fail: $tool catches the canary's $kind (exit $rc, '$(grep -m1 -oE "$pat" "$w/c")')"
  else
    fail "would-fail: $tool did not catch the canary's $kind (exit $rc)" "$w/c"
  fi
}
if [ $have_san = 1 ]; then
  canary ASan "heap overflow" 'heap-buffer-overflow' "$san/sanitize_canary" heap
  canary UBSan "signed overflow" 'signed integer overflow' "$san/sanitize_canary" ub
  case $ASAN_OPTIONS in *detect_leaks=1*)
    canary LeakSanitizer "leak" 'detected memory leaks' "$san/sanitize_canary" leak;; esac
fi
canary valgrind "uninitialised branch" 'uninitialised' $VG "$plain/sanitize_canary" uninit
canary valgrind "leak" 'definitely lost' $VG "$plain/sanitize_canary" leak

# ---- the C tests under ASan + UBSan ----------------------------------------
[ $have_san = 1 ] || set --
for t in "$@"; do
  name=$(basename "$t")
  start=$(date +%s)
  "$t" >"$w/log" 2>&1; rc=$?
  p=$(grep -c '^PASS: ' "$w/log"); f=$(grep -c '^FAIL: ' "$w/log")
  if [ $rc -eq 0 ] && [ "$f" -eq 0 ] && [ "$p" -gt 0 ] && ! grep -qE "$SANREP" "$w/log"; then
    pass "ASan+UBSan: $name clean ($p checks passed, $(( $(date +%s) - start )) s)"
  else
    grep -E -A12 "$SANREP|^FAIL: " "$w/log" > "$w/err"
    fail "ASan+UBSan: $name (exit $rc, $p passed, $f failed; $(grep -m1 -oE "$SANREP" "$w/log" || echo 'no sanitizer report'))" "$w/err"
  fi
done

# ---- the CLI under valgrind --------------------------------------------------
vg() { # WANT_RC WHAT ARGS...
  local want=$1 what=$2; shift 2
  $VG "$tspu" "$@" >"$w/out" 2>"$w/vg"; local rc=$?
  if [ $rc -eq "$want" ]; then
    pass "valgrind: tspu $what (exit $rc, no error, no leak)"
  else
    fail "valgrind: tspu $what (exit $rc, want $want; 99 = valgrind found an error or a leak)" "$w/vg"
  fi
}
vg 0 "-d model solve" -d model --seed 1 solve "$ex/A4.txt" "$ex/b4.txt"
vg 0 "-d model sample -o x.npy" -d model --seed 1 sample "$ex/A4.txt" "$ex/b4.txt" --samples 2000 -o "$w/x.npy"
vg 0 "-d model inv" -d model --seed 1 inv "$ex/A4.txt"
vg 0 "-d model posterior" -d model --seed 1 posterior --prior-mean "$ex/bayes_prior_mean.txt" \
   --prior-cov "$ex/bayes_prior_cov.txt" --data "$ex/bayes_data.txt" --lik-prec "$ex/bayes_lik_prec.txt"
vg 0 "-d model logreg" -d model --seed 1 logreg --features "$ex/logreg_X.txt" --labels "$ex/logreg_y.txt" \
   --prior-var 4 --predict "$ex/logreg_Xnew.txt"
vg 0 "-d sim info (the Verilated RTL)" -d sim info
vg 0 "-d sim sample (the Verilated RTL)" -d sim --seed 1 sample "$ex/A2.txt" --samples 200 -o "$w/y.npy"
vg 0 "-d vboard info (the Verilated board over a pty)" -d vboard info
vg 0 "-d vboard sample (the link: frames, CRC, FIFO reads)" -d vboard --seed 1 sample "$ex/A2.txt" --samples 100 -o "$w/z.npy"
vg 2 "solve with a missing file" -d model solve "$w/none.txt" "$ex/b4.txt"

echo "sanitize: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
