#!/usr/bin/env bash
# fit_test.sh OUTDIR GENDIR [N] [CLOCK_MHZ] [P] - the CI check of issue 6: build the
# iCEBreaker bitstream from the sources (fpga/build.sh, fixed seed) and check,
# on nextpnr's own report (OUTDIR/pnr.log), that
#   - it fits the iCE40UP5K: every resource used <= available and routing done;
#   - it meets the clock it claims: the post-route Fmax of the clock is at
#     least CLOCK_MHZ, the figure the gateware reports in CLOCK_HZ.
# Would-fail twins, judged by the same parser on the report text (no second
# P&R): the report with the claimed clock just above the achieved Fmax must be
# judged "misses", and the report with the LC count over the device must be
# judged "does not fit".  One PASS/FAIL line per check.
set -u
out=$1; gen=$2; n=${3:-8}; mhz=${4:-6}; p=${5:-8}
root=$(cd "$(dirname "$0")/.." && pwd)

# ---- the parser (shared by the check and its twins) ---------------------------
# fits LOG -> "yes|no DETAIL"; fmax LOG -> MHz of the slowest clock, post-route
fits() {
  local log=$1 r used tot detail="" ok=yes
  for r in ICESTORM_LC ICESTORM_RAM ICESTORM_DSP ICESTORM_SPRAM; do
    read -r used tot <<<"$(sed -n "s/^Info:[[:space:]]*$r:[[:space:]]*\([0-9]*\)\/[[:space:]]*\([0-9]*\).*/\1 \2/p" "$log" | head -1)"
    [ -n "${used:-}" ] || { [ $r = ICESTORM_SPRAM ] && continue; ok=no; detail="$detail $r missing"; continue; }
    detail="$detail ${r#ICESTORM_} $used/$tot"
    [ "$used" -le "$tot" ] || ok=no
  done
  grep -q "Routing complete" "$log" || { ok=no; detail="$detail, not routed"; }
  echo "$ok$detail"
}
fmax() { # the second half of the "Max frequency" lines is the post-route report
  local log=$1 k
  k=$(grep -c "Max frequency for clock" "$log")
  sed -n "s/.*Max frequency for clock .*: \([0-9.]*\) MHz.*/\1/p" "$log" |
    tail -n "$(( (k + 1) / 2 ))" | sort -g | head -1
}
meets() { # LOG CLAIM_MHZ -> "yes|no FMAX"
  local f; f=$(fmax "$1")
  if [ -n "$f" ] && awk -v a="$f" -v b="$2" 'BEGIN{exit !(a >= b)}'; then echo "yes $f"; else echo "no ${f:-n/a}"; fi
}

# ---- the build --------------------------------------------------------------------
t0=$(date +%s)
FPGA_JSON=0 bash "$root/fpga/build.sh" icebreaker "$out" "$n" "$p" "$mhz" 1 "$gen" >"$out.build.log" 2>&1
t1=$(date +%s)
log="$out/pnr.log"
what="iCEBreaker N=$n P=$p bitstream ($mhz MHz, $((t1 - t0)) s)"
if [ ! -s "$log" ]; then
  echo "FAIL: $what: no nextpnr report ($(tail -1 "$out.build.log"))"
  exit 0
fi

read -r fit fdetail <<<"$(fits "$log")"
if [ "$fit" = yes ] && [ -s "$out/tspu.bin" ]; then
  echo "PASS: $what fits the iCE40UP5K:$fdetail"
else
  echo "FAIL: $what fits the iCE40UP5K:$fdetail$( [ -s "$out/tspu.bin" ] || echo ', no bitstream')"
fi
# the clock the gateware claims: CLOCK_HZ in the netlist's parameter (report.txt)
claim_hz=$(sed -n 's/.*CLOCK_HZ register: \([0-9]*\).*/\1/p' "$out/report.txt" 2>/dev/null)
read -r ok f <<<"$(meets "$log" "$mhz")"
if [ "$fit" = yes ] && [ "$ok" = yes ] && [ "${claim_hz:-0}" = $((mhz * 1000000)) ]; then
  echo "PASS: $what meets the clock it claims: CLOCK_HZ $claim_hz, Fmax $f MHz"
else
  echo "FAIL: $what meets the clock it claims: CLOCK_HZ ${claim_hz:-?}, Fmax $f MHz"
fi

# ---- would-fail twins on the report text ---------------------------------------------
tw="$out/twin.log"
if [ "$f" != n/a ]; then
  above=$(awk -v a="$f" 'BEGIN{printf "%d", int(a) + 1}')
  read -r ok2 _ <<<"$(meets "$log" "$above")"
  [ "$ok2" = no ] && echo "PASS: twin claiming $above MHz (above Fmax $f) is judged to miss it" ||
    echo "FAIL: twin claiming $above MHz (above Fmax $f) is judged to meet it"
else
  # no post-route figure: a report that states one below the claim must miss
  { cat "$log"; echo "Info: Max frequency for clock 'clk': 1.00 MHz (FAIL at $mhz.00 MHz)"; } > "$tw"
  read -r ok2 _ <<<"$(meets "$tw" "$mhz")"
  [ "$ok2" = no ] && echo "PASS: twin report with Fmax 1 MHz is judged to miss $mhz MHz" ||
    echo "FAIL: twin report with Fmax 1 MHz is judged to meet $mhz MHz"
fi
sed 's/^\(Info:[[:space:]]*ICESTORM_LC:[[:space:]]*\)[0-9]*\//\19999\//' "$log" > "$tw"
grep -q "ICESTORM_LC: *9999/" "$tw" || echo "Info: ICESTORM_LC: 9999/ 5280 189%" >> "$tw"
read -r fit2 d2 <<<"$(fits "$tw")"
[ "$fit2" = no ] && echo "PASS: twin report with 9999 LCs is judged not to fit:$d2" ||
  echo "FAIL: twin report with 9999 LCs is judged to fit:$d2"
exit 0
