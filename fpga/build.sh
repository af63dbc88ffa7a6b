#!/usr/bin/env bash
# fpga/build.sh BOARD OUTDIR N P CLOCK_MHZ SEED GENDIR
#   iCEBreaker bitstream of rtl/boards/tspu_icebreaker_top.v (make bitstream):
#   yosys synth_ice40 -dsp -> nextpnr-ice40 --up5k --package sg48 (timing-driven
#   at CLOCK_MHZ, fixed seed) -> icepack -> OUTDIR/tspu.bin.
#   SEED may be a list ("1 2 3" or 1,2,3): a seed sweep, one place and route
#   per seed of the same netlist, keeping the one with the highest post-route
#   Fmax (OUTDIR/seeds.txt: seed and Fmax of each; the report names the seed).
#   OUTDIR/report.txt: yosys cells, nextpnr utilisation, achieved Fmax, verdict.
#   bench/results/fpga.json: this build's row (board, n, p) replaced or added:
#   {"board","n","p","lcs","dsps","brams","fmax_mhz","clock_mhz","fits","meets_timing"}.
# Exit 0 only with a bitstream that fits and meets CLOCK_MHZ; otherwise one
# line on stderr saying why (the resource that is over, or the Fmax missed),
# and the row says so (fits=false / meets_timing=false): nothing is pretended.
set -u
board=$1; out=$2; n=$3; p=$4; mhz=$5; seed=${6:-1}; gen=$7
root=$(cd "$(dirname "$0")/.." && pwd)
json="$root/bench/results/fpga.json"
die() { echo "bitstream: $*" >&2; exit 1; }
seeds=$(echo "$seed" | tr ',' ' ')
for s in $seeds; do
  case "$s" in ''|*[!0-9]*) die "FPGA_SEED=$seed: seeds are numbers (a sweep: \"1 2 3\")";; esac
done
set -- $seeds; [ $# -ge 1 ] || die "FPGA_SEED is empty"; seed=$1; nseeds=$#
[ "$board" = ulx3s ] && [ "$nseeds" -gt 1 ] && die "FPGA_SEED=\"$seeds\": the seed sweep is for the iCEBreaker build (one ULX3S place and route takes minutes)"
[ "$board" = ulx3s ] && exec bash "$root/fpga/build_ulx3s.sh" "$out" "$n" "$p" "$mhz" "$seed" "$gen"
[ "$board" = icebreaker ] || die "BOARD=$board: icebreaker or ulx3s"
for t in yosys nextpnr-ice40 icepack icepll; do
  command -v $t >/dev/null 2>&1 || die "$t not found (apt-get install yosys nextpnr-ice40 fpga-icestorm)"
done
[ -f "$gen/tspu_regs.vh" ] || die "$gen/tspu_regs.vh missing (make generates it)"
mkdir -p "$out"
hz=$((mhz * 1000000))
rep="$out/report.txt"

# ---- the PLL: the top derives DIVF/DIVQ from CLOCK_HZ; icepll must agree ----
if [ "$mhz" != 12 ] && [ "$mhz" != 6 ]; then
  if [ $((mhz % 3)) != 0 ] || [ "$mhz" -lt 18 ] || [ "$mhz" -gt 132 ]; then
    die "CLOCK_MHZ=$mhz: must be 6 (12 MHz / 2, 1.5 Mbaud), 12 or a multiple of 3 in 18..132 (exact PLL and 3 Mbaud divisor)"
  fi
  if [ $((mhz * 8)) -ge 533 ]; then q=3; elif [ $((mhz * 16)) -ge 533 ]; then q=4; else q=5; fi
  f=$(( (mhz << q) / 12 - 1 ))
  ip=$(icepll -i 12 -o "$mhz" -p -q -f - 2>/dev/null)
  ipf=$(echo "$ip" | sed -n 's/.*DIVF = *\([0-9]*\).*/\1/p')
  ipq=$(echo "$ip" | sed -n 's/.*DIVQ = *\([0-9]*\).*/\1/p')
  ipr=$(echo "$ip" | sed -n 's/.*DIVR = *\([0-9]*\).*/\1/p')
  [ "$ipf" = "$f" ] && [ "$ipq" = "$q" ] && [ "$ipr" = 0 ] ||
    die "PLL at $mhz MHz: tspu_icebreaker_top has DIVR 0 DIVF $f DIVQ $q, icepll says DIVR $ipr DIVF $ipf DIVQ $ipq"
fi

# ---- synthesis ------------------------------------------------------------------
cd "$root"
src="rtl/boards/tspu_icebreaker_top.v rtl/boards/tspu_vboard_top.v $(ls rtl/*.v | tr '\n' ' ')"
# the netlist is kept while no source and no parameter changed
stamp="N=$n P=$p CLOCK_HZ=$hz"
newer=$(find $src rtl/*.vh "$gen/tspu_regs.vh" -newer "$out/tspu.json" 2>/dev/null | head -1)
if [ -f "$out/tspu.json" ] && [ -z "$newer" ] && [ "$(cat "$out/synth.stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "bitstream: netlist $out/tspu.json is up to date"
else
echo "bitstream: yosys synth_ice40 -dsp (N=$n P=$p ${mhz} MHz) -> $out/synth.log"
rm -f "$out/synth.stamp"
yosys -q -l "$out/synth.log" -p "read_verilog -DTSPU_ICE40 -Irtl -I$gen $src; \
  chparam -set N $n -set P $p -set CLOCK_HZ $hz tspu_icebreaker_top; \
  synth_ice40 -dsp -top tspu_icebreaker_top -json $out/tspu.json; \
  tee -q -o $out/stat.txt stat" >/dev/null 2>&1 ||
  die "yosys failed: $(grep -m1 ERROR "$out/synth.log" || tail -1 "$out/synth.log")"
echo "$stamp" > "$out/synth.stamp"
fi

# ---- place and route ------------------------------------------------------------
rm -f "$out/tspu.asc" "$out/tspu.bin" "$out/seeds.txt"
postroute_fmax() { # LOG -> the slowest clock's post-route Fmax (the second half of the reports)
  sed -n "s/.*Max frequency for clock .*: \([0-9.]*\) MHz.*/\1/p" "$1" |
    tail -n "$(grep -c "Max frequency for clock" "$1" | awk '{print int(($1 + 1) / 2)}')" | sort -g | head -1
}
best=""; bestf=""; bestok=0; prc=1
for s in $seeds; do
  sfx=""; [ "$nseeds" -gt 1 ] && sfx="-s$s"
  echo "bitstream: nextpnr-ice40 --up5k --package sg48 --freq $mhz --seed $s -> $out/pnr$sfx.log"
  nextpnr-ice40 --up5k --package sg48 --json "$out/tspu.json" --pcf constraints/icebreaker.pcf \
    --freq "$mhz" --seed "$s" --timing-allow-fail --asc "$out/tspu$sfx.asc" --log "$out/pnr$sfx.log" -q \
    >/dev/null 2>&1
  rc=$?
  f=$(postroute_fmax "$out/pnr$sfx.log")
  [ "$nseeds" -gt 1 ] && echo "seed $s fmax ${f:-n/a} rc $rc" | tee -a "$out/seeds.txt"
  # keep the routed seed with the highest Fmax (the first seed when none routes:
  # its report says why)
  ok=0; [ $rc = 0 ] && [ -n "$f" ] && ok=1
  if [ -z "$best" ] || { [ $ok = 1 ] && { [ $bestok = 0 ] || awk -v a="$f" -v b="$bestf" 'BEGIN{exit !(a > b)}'; }; }; then
    best=$s; bestf=$f; bestok=$ok; prc=$rc
  fi
done
seed=$best
if [ "$nseeds" -gt 1 ]; then
  cp "$out/pnr-s$seed.log" "$out/pnr.log"
  [ -f "$out/tspu-s$seed.asc" ] && cp "$out/tspu-s$seed.asc" "$out/tspu.asc"
fi
util() { # resource -> "used total"
  sed -n "s/^Info:[[:space:]]*$1:[[:space:]]*\([0-9]*\)\/[[:space:]]*\([0-9]*\).*/\1 \2/p" "$out/pnr.log" | head -1
}
read -r lcs lcs_max <<<"$(util ICESTORM_LC)"
read -r brams brams_max <<<"$(util ICESTORM_RAM)"
read -r dsps dsps_max <<<"$(util ICESTORM_DSP)"
[ -n "${lcs:-}" ] || die "nextpnr failed before packing: $(grep -m1 ERROR "$out/pnr.log")"
over=""
for r in "ICESTORM_LC $lcs $lcs_max" "ICESTORM_RAM $brams $brams_max" "ICESTORM_DSP $dsps $dsps_max"; do
  set -- $r
  [ "$2" -gt "$3" ] && over="$over${over:+, }$1 $2/$3 ($((100 * $2 / $3))%)"
done
fits=true; [ -n "$over" ] && fits=false
[ $prc != 0 ] && fits=false
# achieved Fmax: the post-route figure of each clock, the slowest one
fmax=$(postroute_fmax "$out/pnr.log")
meets=false
if [ "$fits" = true ] && [ -n "$fmax" ] && awk -v a="$fmax" -v b="$mhz" 'BEGIN{exit !(a >= b)}'; then
  meets=true
fi

# ---- bitstream --------------------------------------------------------------------
if [ "$fits" = true ]; then
  icepack "$out/tspu.asc" "$out/tspu.bin" || die "icepack failed"
fi

# ---- report and results row ---------------------------------------------------------
{
  echo "board      icebreaker (iCE40UP5K-SG48), tspu_icebreaker_top N=$n P=$p"
  echo "clock      $mhz MHz ($( [ "$mhz" = 6 ] && echo "12 MHz / 2, UART 1.5 Mbaud" || { [ "$mhz" = 12 ] && echo "the 12 MHz pin" || echo "PLL from 12 MHz"; }); reported by the CLOCK_HZ register: $hz)"
  echo "seed       $seed$( [ "$nseeds" -gt 1 ] && echo " (best of a sweep: $(awk '{printf "%s%s %s MHz", (NR > 1 ? ", " : ""), $2, $4}' "$out/seeds.txt"))")"
  echo "yosys      $(awk '$1 ~ /^SB_/ {printf "%s=%s ", $1, $2}' "$out/stat.txt")"
  echo "nextpnr    LCs $lcs/$lcs_max  BRAMs $brams/$brams_max  DSPs $dsps/$dsps_max"
  echo "fmax       ${fmax:-n/a} MHz (target $mhz MHz)"
  echo "fits       $fits${over:+ (over: $over)}"
  echo "meets      $meets"
  echo "bitstream  $( [ -f "$out/tspu.bin" ] && echo "$out/tspu.bin" || echo none)"
} > "$rep"
cat "$rep"
# (FPGA_JSON=0: no row, e.g. the CI fit check in make test)
[ "${FPGA_JSON:-1}" = 0 ] || { mkdir -p "$(dirname "$json")"; python3 "$root/fpga/fpga_json.py" "$json" icebreaker "$n" "$p" "$lcs" "$dsps" "$brams" "${fmax:-}" "$mhz" "$fits" "$meets"; }

if [ "$fits" != true ]; then
  [ -n "$over" ] && die "N=$n does not fit the iCE40UP5K: $over (report: $rep)"
  die "nextpnr failed: $(grep -m1 ERROR "$out/pnr.log") (report: $rep)"
fi
if [ "$meets" != true ]; then
  best=$(awk -v f="${fmax:-0}" 'BEGIN{m = int(f / 3) * 3; if (m < 18) m = 12; if (m > f) m = 6; if (m > f) m = 0; print m}')
  if [ "$best" = 0 ]; then
    die "N=$n misses $mhz MHz: Fmax ${fmax:-n/a} MHz, below the lowest clock (6 MHz) (report: $rep)"
  fi
  die "N=$n misses $mhz MHz: Fmax ${fmax:-n/a} MHz; rebuild with FPGA_MHZ=$best (report: $rep)"
fi
echo "bitstream: $out/tspu.bin (N=$n, $mhz MHz, Fmax $fmax MHz)"
