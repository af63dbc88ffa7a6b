#!/usr/bin/env bash
# rtl_tests.sh BUILD_DIR - per-module RTL tests and the lockstep cases.
# Each program prints PASS:/FAIL: lines; 10^5 steps per lockstep case
# (10^4 or fewer for the data-drift cases, whose steps cost thousands of cycles).
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
# data-driven drift (the builds above have DATA_MAX_OBS = 1024 / 1024 / 832):
# Gaussian and logistic, EM / LM / UD, ramps with work (--ramp: lambda 0 held
# in the burn-in, i.e. passes skipped, then 0 -> 1 with clamps, hold, down to
# 1/2), lambda 1 and 0.7 (seeds that are multiples of 3), saturation-heavy
# data (--dsat), K from 1 to DATA_MAX_OBS; about 2 minutes
D=${RTL_DATA_STEPS:-10000}
"$B/sim/ls2/lockstep"  --int em --ramp --steps $D --seed 21 --data gauss --obs 1
"$B/sim/ls2/lockstep"  --int lm --steps $D --seed 22 --data logistic --obs 24
"$B/sim/ls2/lockstep"  --int ud --steps $((D / 5)) --seed 23 --data gauss --obs 200 --dsat
"$B/sim/ls8/lockstep"  --int lm --ramp --steps $D --seed 31 --data gauss --obs 40
"$B/sim/ls8/lockstep"  --int em --steps $((D * 3 / 20)) --seed 33 --data logistic --obs 200
"$B/sim/ls8/lockstep"  --int ud --ramp --steps $D --seed 34 --data gauss --obs 20
"$B/sim/ls8/lockstep"  --int lm --ramp --steps $D --seed 35 --data logistic --obs 16
"$B/sim/ls8/lockstep"  --int lm --steps $((D / 2)) --seed 37 --data gauss --obs 50 --dsat
"$B/sim/ls8/lockstep"  --int ud --steps $((D / 2)) --seed 38 --data logistic --obs 30 --dsat
"$B/sim/ls16/lockstep" --int lm --ramp --steps $D --seed 41 --data gauss --obs 40
"$B/sim/ls16/lockstep" --int ud --steps $((D * 3 / 100)) --seed 42 --data logistic --obs 832
"$B/sim/ls16/lockstep" --int em --steps $((D * 3 / 10)) --seed 43 --data gauss --obs 64 --dsat
# ... and a data path broken on purpose (z truncated: BREAK_DATA)
"$B/sim/ls8dbrk/lockstep" --int lm --steps 2000 --data gauss --obs 20 --expect-fail \
  --name "lockstep catches broken data rounding (z truncated)"
# the harness must catch a deliberately broken RTL (flipped rounding bit)
"$B/sim/ls8brk/lockstep" --int lm --steps 2000 --expect-fail --name "lockstep catches broken operand rounding"
# the iCEBreaker's small core (HAVE_UD = HAVE_SCHEDULE = 0): EM / LM at lambda 0
# (odd seeds) and 1 (even seeds), saturation; twin: a UD program (not built
# there, START refuses it in the register block) must not match the model
"$B/sim/ls8small/lockstep" --int em --steps $S --seed 41 --name "small core (no UD, no schedule) N=8 em lambda 0"
"$B/sim/ls8small/lockstep" --int lm --steps $S --seed 42 --name "small core (no UD, no schedule) N=8 lm lambda 1"
"$B/sim/ls8small/lockstep" --int lm --sat --steps 20000 --seed 43 --name "small core (no UD, no schedule) N=8 lm saturating"
"$B/sim/ls8small/lockstep" --int ud --steps 2000 --seed 44 --expect-fail --name "small core: a UD program is not run as UD (twin)"
# N = 16: two chunks a row through the deep pipeline, and the scale16 extremes
"$B/sim/ls16small/lockstep" --int em --steps 20000 --seed 45 --name "small core (deep pipeline) N=16 em lambda 0"
"$B/sim/ls16small/lockstep" --int lm --steps 20000 --seed 46 --name "small core (deep pipeline) N=16 lm lambda 1"
"$B/sim/ls16small/lockstep" --int lm --sat --steps 5000 --seed 47 --name "small core (deep pipeline) N=16 lm saturating"
"$B/sim/ls16small/lockstep" --int em --dshift 0 --steps 3000 --seed 49 --name "small core (deep pipeline) N=16 em D=0"
"$B/sim/ls16small/lockstep" --int em --dshift 62 --steps 3000 --seed 51 --name "small core (deep pipeline) N=16 em D=62"
# N = 16 with P = 4 (the iCEBreaker's N = 16 build): four chunks a row, the
# operands in block RAMs
"$B/sim/ls16p4small/lockstep" --int em --steps 20000 --seed 52 --name "small core P=4 (operand RAMs) N=16 em lambda 0"
"$B/sim/ls16p4small/lockstep" --int lm --steps 20000 --seed 53 --name "small core P=4 (operand RAMs) N=16 lm lambda 1"
"$B/sim/ls16p4small/lockstep" --int lm --sat --steps 5000 --seed 54 --name "small core P=4 (operand RAMs) N=16 lm saturating"
# N = 32 with 16 MACs (the ULX3S's wide build): the full core, two chunks a row
"$B/sim/ls32p16/lockstep" --int em --steps 5000 --seed 61 --name "lockstep N=32 P=16 em 5000 steps"
"$B/sim/ls32p16/lockstep" --int ud --steps 2000 --seed 63 --name "lockstep N=32 P=16 ud 2000 steps"
"$B/sim/ls32p16/lockstep" --int lm --ramp --steps 3000 --seed 64 --name "lockstep N=32 P=16 lm ramp 3000 steps"
exit 0
