#!/usr/bin/env bash
# bench/fpga_bench.sh - the fpga part of `make bench`: builds the iCEBreaker
# bitstream at N = 8 (make bitstream: fpga/build.sh writes its row of
# bench/results/fpga.json, fits or not), optionally the ULX3S ones
# (FPGA_BENCH_ULX3S=1; slow), then bench/fpga_bench.py adds the projected
# throughput and relaxation figures to fpga.json and docs/benchmarks.md.
# FPGA_BENCH_PNR=0 skips the builds (figures from the rows already there).
set -uo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
if [ "${FPGA_BENCH_PNR:-1}" != 0 ]; then
  echo "bench: fpga: make bitstream BOARD=icebreaker N=8 (yosys + nextpnr, a few minutes)" >&2
  make --no-print-directory B="$B" bitstream BOARD=icebreaker FPGA_N=8 >&2 ||
    echo "bench: fpga: the icebreaker build failed its checks (its row says how)" >&2
  if [ "${FPGA_BENCH_ULX3S:-0}" = 1 ]; then
    for n in 16 32; do
      make --no-print-directory B="$B" bitstream BOARD=ulx3s FPGA_N=$n >&2 ||
        echo "bench: fpga: the ulx3s N=$n build failed its checks" >&2
    done
  fi
fi
/usr/bin/python3 bench/fpga_bench.py .
