#!/usr/bin/env bash
# rtl_tests.sh BUILD_DIR - per-module RTL tests and the lockstep cases.
# Each program prints PASS:/FAIL: lines; 10^5 steps per lockstep case.
set -u
B=$1
S=${RTL_STEPS:-100000}
"$B/sim/noise/test_noise"
# the data-drift pass engine against tspu_model_data_passes, and its broken twin
for n in 2 8 16; do
  "$B/sim/dp$n/test_data_pass" --cases 400 --seed $n
done
"$B/sim/dp8brk/test_data_pass" --expect-fail
for n in 2 8 16; do
  # odd seeds start at lambda 0 (set 0 only), even seeds at lambda 1 (set 1 only)
  "$B/sim/ls$n/lockstep" --int em --steps $S --seed $((2 * n + 1))
  "$B/sim/ls$n/lockstep" --int lm --steps $S --seed $((2 * n + 2))
  "$B/sim/ls$n/lockstep" --int ud --steps $S --seed $((2 * n + 3))
  "$B/sim/ls$n/lockstep" --int lm --ramp --steps $S --seed $n
done
"$B/sim/ls8/lockstep" --int em --sat --steps 20000 --seed 2
"$B/sim/ls8/lockstep" --int ud --sat --steps 20000 --seed 3
# the whole scale16 range (left shifts for D < 16, deep right shifts, clamps)
for d in 0 7 15 30 62; do
  "$B/sim/ls16/lockstep" --int em --dshift $d --steps 5000 --seed $((d + 5))
done
"$B/sim/ls8/lockstep" --int lm --ramp --dshift 3 --steps 5000 --seed 9
for k in 0 9 33 60; do
  "$B/sim/ls8/lockstep" --int ud --kshift $k --dshift 20 --steps 5000 --seed $((k + 4))
done
# the harness must catch a deliberately broken RTL (flipped rounding bit)
"$B/sim/ls8brk/lockstep" --int lm --steps 2000 --expect-fail --name "lockstep catches broken operand rounding"
exit 0
