#!/usr/bin/env bash
# postsynth_tests.sh LOCKSTEP N [SMALL_LOCKSTEP [OPSRAM_LOCKSTEP]] - post-synthesis lockstep: tspu_core as Yosys
# synthesized it for the iCE40 (synth_ice40 -dsp, write_verilog -noattr:
# SB_LUT4 / SB_CARRY / SB_DFF* / SB_MAC16 / SB_RAM40_4K cells), simulated with
# Yosys's ice40/cells_sim.v in Verilator, against the C model step by step
# (sim/lockstep.cpp).  It catches simulation/synthesis mismatches: RTL that
# Verilator and Yosys read differently, memories and DSPs mapped wrongly.
set -u
ls=$1; n=$2
S=${POSTSYNTH_STEPS:-2000}
what="post-synthesis lockstep (iCE40 netlist + cells_sim.v) N=$n"
"$ls" --int em --steps "$S" --seed 5 --name "$what em $S steps"
"$ls" --int lm --steps "$S" --seed 6 --name "$what lm $S steps"
"$ls" --int ud --steps "$S" --seed 7 --name "$what ud $S steps"
"$ls" --int lm --ramp --steps "$S" --seed 2 --name "$what lm ramp $S steps"
# the iCEBreaker's small core (no UD, no schedule; deep pipeline, TSPU_ICE40),
# and its twin: a UD program is not run as UD there (START refuses it in the
# register block), so the model's UD result must not match
if [ -n "${3:-}" ]; then
  small=$3
  what="post-synthesis lockstep, iCEBreaker small core (deep pipeline, iCE40 netlist) N=$n"
  "$small" --int em --steps "$S" --seed 41 --name "$what em $S steps"
  "$small" --int lm --steps "$S" --seed 42 --name "$what lm $S steps"
  "$small" --int lm --sat --steps "$S" --seed 43 --name "$what lm saturating $S steps"
  "$small" --int ud --steps 200 --seed 44 --expect-fail --name "$what: a UD program is not run as UD (twin)"
fi
# the small core with four chunks a row (N = 8, P = 2): the operands in block
# RAMs (SB_RAM40_4K), as the iCEBreaker's N = 16 build (P = 4) keeps them
if [ -n "${4:-}" ]; then
  what="post-synthesis lockstep, small core with operand RAMs (iCE40 netlist) N=8 P=2"
  "$4" --int em --steps "$S" --seed 55 --name "$what em $S steps"
  "$4" --int lm --steps "$S" --seed 56 --name "$what lm $S steps"
fi
exit 0
