#!/usr/bin/env bash
# rtl_tests.sh BUILD_DIR - per-module RTL tests and the lockstep cases.
# Each program prints PASS:/FAIL: lines; 10^5 steps per lockstep case.
set -u
B=$1
S=${RTL_STEPS:-100000}
"$B/sim/noise/test_noise"
for n in 2 8 16; do
  # odd seeds start at lambda 0 (set 0 only), even seeds at lambda 1 (set 1 only)
  "$B/sim/ls$n/lockstep" --int em --steps $S --seed $((2 * n + 1))
  "$B/sim/ls$n/lockstep" --int lm --steps $S --seed $((2 * n + 2))
  "$B/sim/ls$n/lockstep" --int ud --steps $S --seed $((2 * n + 3))
  "$B/sim/ls$n/lockstep" --int lm --ramp --steps $S --seed $n
done
"$B/sim/ls8/lockstep" --int em --sat --steps 20000 --seed 2
"$B/sim/ls8/lockstep" --int ud --sat --steps 20000 --seed 3
# the harness must catch a deliberately broken RTL (flipped rounding bit)
"$B/sim/ls8brk/lockstep" --int lm --steps 2000 --expect-fail --name "lockstep catches broken operand rounding"
exit 0
