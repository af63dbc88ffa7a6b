# tests/cli_lib.sh - shared by the CLI test scripts (tests/test_cli.sh,
# tests/test_cli_bayes.sh); sourced after they set W (their scratch folder).
# PASS:/FAIL: lines like tests/tt.h; fails counts the failures.
fails=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1 -- $2"; fails=$((fails + 1)); }

# expect_err NAME CODE PATTERN CMD...: exit CODE, one stderr line "tspu: ..." matching PATTERN, no stdout
expect_err() {
  local name=$1 code=$2 pat=$3; shift 3
  "$@" >"$W/out" 2>"$W/err"
  local rc=$? lines
  lines=$(wc -l <"$W/err")
  if [ "$rc" -ne "$code" ]; then
    fail "$name" "exit $rc, expected $code; stderr: $(head -c 300 "$W/err")"
  elif [ "$lines" -ne 1 ]; then
    fail "$name" "$lines lines on stderr: $(head -c 300 "$W/err")"
  elif ! grep -q '^tspu: ' "$W/err" || ! grep -qE -- "$pat" "$W/err"; then
    fail "$name" "stderr '$(cat "$W/err")' does not match '$pat'"
  elif [ -s "$W/out" ]; then
    fail "$name" "unexpected stdout: $(head -c 200 "$W/out")"
  else
    pass "$name"
  fi
}
