#!/usr/bin/env bash
# bench/fpga_bench.sh - the fpga part of `make bench`: builds the iCEBreaker
# bitstreams at N = 8 and N = 16 (P = 4) (make bitstream: fpga/build.sh
# writes each row of bench/results/fpga.json, fits or not), optionally the
# ULX3S ones (N = 16, 32 at P = 8, N = 32 at P = 16)
# (FPGA_BENCH_ULX3S=1; slow), then bench/fpga_bench.py adds the projected
# throughput and relaxation figures to fpga.json and docs/benchmarks.md.
# FPGA_BENCH_PNR=0 skips the builds (figures from the rows already there).
set -uo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
if [ "${FPGA_BENCH_PNR:-1}" != 0 ]; then
  for n in 8 16; do
    echo "bench: fpga: make bitstream BOARD=icebreaker FPGA_N=$n (yosys + nextpnr, a few minutes)" >&2
    make --no-print-directory B="$B" bitstream BOARD=icebreaker FPGA_N=$n >&2 ||
      echo "bench: fpga: the icebreaker N=$n build failed its checks (its row says how)" >&2
  done
  if [ "${FPGA_BENCH_ULX3S:-0}" = 1 ]; then
    for np in "16 8" "32 8" "32 16"; do
      set -- $np
      make --no-print-directory B="$B" bitstream BOARD=ulx3s FPGA_N=$1 FPGA_P=$2 >&2 ||
        echo "bench: fpga: the ulx3s N=$1 P=$2 build failed its checks" >&2
    done
  fi
fi
/usr/bin/python3 bench/fpga_bench.py .
