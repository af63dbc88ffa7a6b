#!/usr/bin/env bash
# bench/rtl_bench.sh - RTL benchmark, run by `make bench-rtl` (and `make
# bench`): cycles per step of the Verilated core (lockstep harness, LM,
# burn-in only, checked against the model while measuring) for N = 2, 8, 16
# at P = 8 and N = 32 at P = 16 (and the small cores), against the MAC
# roofline ceil(N^2/P); yosys synth_ice40 -dsp
# resources for N = 8, 16 and, with nextpnr-ice40, packed logic cells and
# Fmax (synth/run.sh).  Writes bench/results/rtl.json and the rtl section of
# docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
P=8
mkdir -p bench/results docs
rows=(); srows=(); synth=()
HDR="| N | P | cycles/step | roofline ceil(N^2/P) | MAC utilization |"$'\n'"|---|---|---|---|---|"
# cps_row BUILD N [P]: one steady-state measurement (LM, burn-in only); sets
# row (the rtl.json object) and mdrow (the table line)
cps_row() {
  local out cps roof util n=$2 p=${3:-$P}
  out=$("$B/sim/$1/lockstep" --bench --int lm --steps 5000 --seed 1)
  echo "$out" | grep -q '^PASS' || { echo "$out" >&2; exit 1; }
  cps=$(echo "$out" | sed -n 's/^BENCH n=[0-9]* cycles_per_step=\([0-9]*\).*/\1/p')
  roof=$(( (n * n + p - 1) / p ))
  util=$(awk -v n=$n -v p=$p -v c=$cps 'BEGIN {printf "%.4f", n * n / (p * c)}')
  row="{\"n\":$n,\"p\":$p,\"cycles_per_step\":$cps,\"roofline_cycles\":$roof,\"mac_utilization\":$util}"
  mdrow="| $n | $p | $cps | $roof | $(awk -v u=$util 'BEGIN {printf "%.1f %%", 100 * u}') |"
}
md=$HDR
for n in 2 8 16; do
  cps_row "ls$n" $n; rows+=("$row"); md+=$'\n'"$mdrow"
done
# the ULX3S's wide build: N = 32 with 16 MACs
cps_row ls32p16 32 16; rows+=("$row"); md+=$'\n'"$mdrow"
# the iCEBreaker's small core (no UD, no schedule: the deep fast pipeline,
# docs/architecture.md "Deep pipeline"), the cycles its bitstream runs at
md+=$'\n\n'"Small core of the iCEBreaker (HAVE_UD = HAVE_SCHEDULE = 0, deep pipeline):"$'\n\n'"$HDR"
for n in 8 16; do
  cps_row "ls${n}small" $n; srows+=("$row"); md+=$'\n'"$mdrow"
done
# ... and its N = 16 build: P = 4, the operands in block RAMs
cps_row ls16p4small 16 4; srows+=("$row"); md+=$'\n'"$mdrow"
# data-driven drift (the lockstep builds have it): cycles per step at lambda 1
# against K, Gaussian and logistic (docs/architecture.md, "Data-driven drift")
drows=()
dmd="| N | K | cycles/step Gaussian | cycles/step logistic |"$'\n'"|---|---|---|---|"
for n in 2 8 16; do
  for k in 1 16 128; do
    line="| $n | $k |"
    for m in gauss logistic; do
      out=$("$B/sim/ls$n/lockstep" --bench --int lm --steps 200 --seed 1 --data $m --obs $k)
      echo "$out" | grep -q '^PASS' || { echo "$out" >&2; exit 1; }
      cps=$(echo "$out" | sed -n 's/^BENCH n=[0-9]* cycles_per_step=\([0-9]*\).*/\1/p')
      drows+=("{\"n\":$n,\"p\":$P,\"k\":$k,\"mode\":\"$m\",\"cycles_per_step\":$cps}")
      line+=" $cps |"
    done
    dmd+=$'\n'"$line"
  done
done
md+=$'\n\n'"Data-driven drift (lambda = 1, LM, Sr = 10, Sg = 9; every step runs both passes):"$'\n\n'"$dmd"
md+=$'\n\n'"| N | P | LCs (nextpnr, core) | LCs (yosys max(LUT4, DFF)) | LUT4 | DFF | SB_MAC16 | SB_RAM40_4K | fits UP5K (5280 / 8 / 30) | Fmax (MHz) |"$'\n'"|---|---|---|---|---|---|---|---|---|---|"
for n in 8 16; do
  line=$(bash synth/run.sh "$B/synth" $n $P | grep '^SYNTH')
  get() { echo "$line" | sed -n "s/.* $1=\([0-9.a-z]*\).*/\1/p"; }
  est=$(get lcs_est); lcs=$(get lcs); dsps=$(get dsps); brams=$(get brams); fmax=$(get fmax_mhz)
  if [ -n "$lcs" ]; then
    # nextpnr placed the fit wrapper (or ran out of cells): its verdict
    fits=$(get fits)
  else
    lcs=$est; fits=no
    [ "$est" -le 5280 ] && [ "$dsps" -le 8 ] && [ "$brams" -le 30 ] && fits=yes
  fi
  row="{\"n\":$n,\"p\":$P,\"lcs\":$lcs,\"lcs_yosys\":$est,\"luts\":$(get luts),\"dffs\":$(get dffs),\"dsps\":$dsps,\"brams\":$brams"
  [ -n "$(get pnr_lcs)" ] && row+=",\"pnr_lcs_with_wrapper\":$(get pnr_lcs)"
  [ -n "$fmax" ] && row+=",\"fmax_mhz\":$fmax"
  synth+=("$row,\"fits_up5k\":$([ $fits = yes ] && echo true || echo false)}")
  md+=$'\n'"| $n | $P | $lcs | $est | $(get luts) | $(get dffs) | $dsps | $brams | $fits | ${fmax:--} |"
done
join() { local IFS=,; echo "$*"; }
printf '{"rows":[%s],"small_rows":[%s],"data_rows":[%s],"synth":[%s]}\n' "$(join "${rows[@]}")" \
  "$(join "${srows[@]}")" "$(join "${drows[@]}")" "$(join "${synth[@]}")" > bench/results/rtl.json
body="## RTL: cycles per step and resources

Cycles per step of tspu_core (fixed-lambda LM, steady state, measured by the
lockstep harness while it checks every state word against the model) and
iCE40UP5K resources: yosys \`synth_ice40 -dsp\` cell counts and, from
nextpnr-ice40 (--up5k --package sg48) on synth/tspu_fit_top.v, the packed
logic cells of the core (wrapper cells subtracted; DFF-only and carry-only
cells make it larger than yosys' max(LUT4, DFF)) and Fmax when it places.

$md"
# the section of docs/benchmarks.md between the rtl-bench markers
printf '%s\n' "$body" | python3 bench/doc_section.py rtl
cat bench/results/rtl.json
