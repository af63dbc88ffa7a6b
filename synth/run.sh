#!/usr/bin/env bash
# synth/run.sh OUTDIR N [P] - yosys synth_ice40 -dsp of tspu_core for the
# iCE40UP5K; prints one line "SYNTH n=.. p=.. lcs=.. luts=.. dffs=.. carries=.. dsps=.. brams=.."
# lcs is max(LUT4, DFF): each logic cell holds one LUT4 and one flip-flop
# (a lower bound on the packed count; the core alone has too many ports to
# place in the SG48 package, so nextpnr runs on the board top, not here).
set -eu
out=$1; n=$2; p=${3:-8}
mkdir -p "$out"
log="$out/synth_n${n}_p${p}.log"
yosys -q -l "$log" -p "read_verilog -Irtl $(ls rtl/*.v | tr '\n' ' '); \
  chparam -set N $n -set P $p tspu_core; \
  synth_ice40 -dsp -top tspu_core -json $out/tspu_core_n${n}_p${p}.json; \
  tee -o $out/stat_n${n}_p${p}.txt stat" >/dev/null
st="$out/stat_n${n}_p${p}.txt"
cnt() { awk -v c="$1" '$1 == c {s += $2} END {print s + 0}' "$st"; }
luts=$(cnt SB_LUT4)
dffs=$(grep -E '^ +SB_DFF' "$st" | awk '{s += $2} END {print s + 0}')
carries=$(cnt SB_CARRY)
dsps=$(cnt SB_MAC16)
brams=$(cnt SB_RAM40_4K)
lcs=$(( luts > dffs ? luts : dffs ))
echo "SYNTH n=$n p=$p lcs=$lcs luts=$luts dffs=$dffs carries=$carries dsps=$dsps brams=$brams"
