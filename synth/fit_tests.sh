#!/usr/bin/env bash
# synth/fit_tests.sh OUTDIR N... - issue 3's synthesis check in `make test`:
# tspu_core at each N (P = 8) through synth/run.sh (yosys synth_ice40 -dsp,
# then nextpnr-ice40 --up5k through synth/tspu_fit_top.v) must fit the
# iCE40UP5K: placed and routed (every logic cell, <= 5280), <= 8 SB_MAC16,
# <= 30 SB_RAM40_4K.  One PASS/FAIL line per N.  Would-fail twins: the same
# judge applied to a run's line with one resource pushed past the device
# (a 31st BRAM, a 9th DSP, a failed placement) must say "does not fit".
set -u
out=$1; shift
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# judge LINE -> "yes" or "no: reason"
judge() {
  local line=$1 v why=""
  field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
  v=$(field fits);  [ "$v" = yes ] || why="$why placed+routed=${v:-missing}"
  v=$(field dsps);  [ -n "$v" ] && [ "$v" -le 8 ]  || why="$why dsps=${v:-?}>8"
  v=$(field brams); [ -n "$v" ] && [ "$v" -le 30 ] || why="$why brams=${v:-?}>30"
  [ -z "$why" ] && echo yes || echo "no:$why"
}

for n in "$@"; do
  t0=$(date +%s)
  line=$(bash synth/run.sh "$out" "$n" 8 2>&1 | grep '^SYNTH' | tail -1)
  t1=$(date +%s)
  what="synth: tspu_core N=$n P=8 fits the iCE40UP5K ($((t1 - t0)) s)"
  if ! command -v nextpnr-ice40 >/dev/null; then
    echo "FAIL: $what -- nextpnr-ice40 missing (scripts/deps.sh installs it)"; continue
  fi
  verdict=$(judge "$line")
  if [ "$verdict" = yes ]; then
    echo "PASS: $what: ${line#SYNTH }"
  else
    echo "FAIL: $what -- $verdict (${line:-no SYNTH line})"
  fi
  # twins on this run's own line
  for mut in 's/ brams=[0-9]*/ brams=31/' 's/ dsps=[0-9]*/ dsps=9/' 's/ fits=yes/ fits=no/'; do
    bad=$(sed "$mut" <<<"$line")
    if [ "$(judge "$bad")" != yes ]; then
      echo "PASS: synth N=$n twin ($mut) judged not to fit"
    else
      echo "FAIL: synth N=$n twin ($mut) judged to fit"
    fi
  done
done
