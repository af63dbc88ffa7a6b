#!/usr/bin/env bash
# fpga/prog.sh BOARD BIN - write the bitstream to the board's SPI flash
# (make prog).  ULX3S: openFPGALoader -b ulx3s, tspu.bit.  iCEBreaker: iceprog (fpga-icestorm) on the FT2232H's
# interface A; the FPGA boots the new gateware when iceprog releases it.
# Any failure is one line on stderr and a non-zero exit.
set -u
board=$1; bin=$2
die() { echo "prog: $*" >&2; exit 1; }
if [ "$board" = ulx3s ]; then
  bit=${bin%.bin}.bit
  [ -f "$bit" ] || die "$bit missing: run 'make bitstream BOARD=ulx3s' first (it must fit and meet its clock)"
  command -v openFPGALoader >/dev/null 2>&1 ||
    die "openFPGALoader not found (apt-get install openfpgaloader): it writes the ULX3S flash"
  openFPGALoader -b ulx3s -f "$bit" || die "openFPGALoader failed (board plugged in? permission on 0403:6015?)"
  exit 0
fi
[ "$board" = icebreaker ] || die "BOARD=$board: icebreaker or ulx3s"
[ -f "$bin" ] || die "$bin missing: run 'make bitstream BOARD=$board' first (it must fit and meet its clock)"
command -v iceprog >/dev/null 2>&1 || die "iceprog not found (apt-get install fpga-icestorm)"
log=$(mktemp); trap 'rm -f "$log"' EXIT
if iceprog "$bin" >"$log" 2>&1; then
  echo "prog: $bin written to the iCEBreaker's flash and booted"
  exit 0
fi
why=$(grep -m1 -i -E "can't find|cannot|error|permission|busy|unable" "$log" || tail -1 "$log")
die "iceprog failed: ${why:-no output} (board plugged in? udev rules: host/udev/60-tspu.rules)"
