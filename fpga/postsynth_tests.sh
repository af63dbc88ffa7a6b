#!/usr/bin/env bash
# postsynth_tests.sh LOCKSTEP N - post-synthesis lockstep: tspu_core as Yosys
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
exit 0
