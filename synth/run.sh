#!/usr/bin/env bash
# synth/run.sh OUTDIR N [P] - fit check of tspu_core on the iCE40UP5K.
#  1. yosys synth_ice40 -dsp of tspu_core alone: LUT4 / DFF / carry / DSP / BRAM
#     counts; lcs_est = max(LUT4, DFF) (each logic cell holds one LUT4 and one
#     flip-flop: a lower bound, it ignores DFF-only and carry-only cells).
#  2. if nextpnr-ice40 is installed (and SYNTH_PNR is not 0; routing N = 8 takes
#     a few minutes): place and route of synth/tspu_fit_top.v
#     (the core behind a 64-bit input shift register and a 32-bit output fold,
#     since the core has far more ports than the SG48 package has pins) for
#     --up5k --package sg48 at 48 MHz: pnr_lcs = packed logic cells of the
#     whole wrapper (wrap_lcs of them are the wrapper's own: LUT4 + DFF of a
#     black-box synthesis), fmax_mhz if it places and routes.
# Prints one line "SYNTH n=.. p=.. lcs_est=.. luts=.. dffs=.. carries=.. dsps=..
# brams=.. [sprams=.. data=..] [pnr_lcs=.. wrap_lcs=.. lcs=.. fits=yes|no
# fmax_mhz=..]" where lcs is pnr_lcs - wrap_lcs (the core's packed cells,
# approximately).  SYNTH_DATA=K builds the data-driven drift (DATA_MAX_OBS = K,
# `make synth-data`); the default, 0, leaves it out.
set -eu
out=$1; n=$2; p=${3:-8}
mkdir -p "$out"
# the core's sources only (rtl/ also holds the register block and board tops)
src="rtl/tspu_core.v rtl/tspu_fifo.v rtl/tspu_lfsr113.v rtl/tspu_mac_array.v \
rtl/tspu_noise_lanes.v rtl/tspu_noise_shape.v rtl/tspu_ram.v rtl/tspu_sequencer.v \
rtl/tspu_serial_mul.v rtl/tspu_data_pass.v rtl/tspu_spram.v"
# SYNTH_DATA=K: the core with the data-driven drift (DATA_MAX_OBS = K; its
# memory an SB_SPRAM256KA, TSPU_ICE40); default 0 (not built)
dmo=${SYNTH_DATA:-0}
tag="n${n}_p${p}"; [ "$dmo" != 0 ] && tag="${tag}_d${dmo}"
log="$out/synth_${tag}.log"
yosys -q -l "$log" -p "read_verilog -DTSPU_ICE40 -Irtl $src; \
  chparam -set N $n -set P $p -set DATA_MAX_OBS $dmo tspu_core; \
  synth_ice40 -dsp -top tspu_core -json $out/tspu_core_${tag}.json; \
  tee -o $out/stat_${tag}.txt stat" >/dev/null
st="$out/stat_${tag}.txt"
cnt() { awk -v c="$1" '$1 == c {s += $2} END {print s + 0}' "$2"; }
dffs_of() { grep -E '^ +SB_DFF' "$1" | awk '{s += $2} END {print s + 0}'; }
luts=$(cnt SB_LUT4 "$st")
dffs=$(dffs_of "$st")
carries=$(cnt SB_CARRY "$st")
dsps=$(cnt SB_MAC16 "$st")
brams=$(cnt SB_RAM40_4K "$st")
lcs_est=$(( luts > dffs ? luts : dffs ))
line="SYNTH n=$n p=$p lcs_est=$lcs_est luts=$luts dffs=$dffs carries=$carries dsps=$dsps brams=$brams"
[ "$dmo" != 0 ] && line="$line sprams=$(cnt SB_SPRAM256KA "$st") data=$dmo"

if [ "${SYNTH_PNR:-1}" != 0 ] && command -v nextpnr-ice40 >/dev/null 2>&1; then
  fit="$out/fit_${tag}"
  yosys -q -l "$fit.yosys.log" -p "read_verilog -DTSPU_ICE40 -Irtl $src synth/tspu_fit_top.v; \
    chparam -set N $n -set P $p -set DATA_MAX_OBS $dmo tspu_fit_top; \
    synth_ice40 -dsp -top tspu_fit_top -json $fit.json" >/dev/null
  # the wrapper's own cells: the core as a black box
  yosys -q -p "read_verilog -Irtl -lib rtl/tspu_core.v; read_verilog synth/tspu_fit_top.v; \
    chparam -set N $n -set P $p -set DATA_MAX_OBS $dmo tspu_fit_top; synth_ice40 -top tspu_fit_top; \
    tee -o $fit.wrap.txt stat" >/dev/null
  wrap=$(( $(cnt SB_LUT4 "$fit.wrap.txt") + $(dffs_of "$fit.wrap.txt") ))
  rc=0
  # --timing-allow-fail: a design that places and routes fits; Fmax is reported
  nextpnr-ice40 --up5k --package sg48 --json "$fit.json" --pcf-allow-unconstrained \
    --freq 48 --timing-allow-fail --seed 1 --log "$fit.pnr.log" -q >/dev/null 2>&1 || rc=$?
  pnr=$(sed -n 's/.*ICESTORM_LC: *\([0-9]*\)\/.*/\1/p' "$fit.pnr.log" | tail -1)
  fits=no; fmax=
  if [ "$rc" = 0 ]; then
    fits=yes
    fmax=$(sed -n "s/.*Max frequency for clock .*: \([0-9.]*\) MHz.*/\1/p" "$fit.pnr.log" | tail -1)
  fi
  line="$line pnr_lcs=${pnr:-0} wrap_lcs=$wrap lcs=$(( ${pnr:-0} - wrap )) fits=$fits"
  [ -n "$fmax" ] && line="$line fmax_mhz=$fmax"
fi
echo "$line"
