#!/usr/bin/env bash
# bench/link_bench.sh - link benchmark, run by bench/run.sh (`make bench`):
#   sim_samples_per_s: samples/s (wall clock) streamed from the "sim" device
#     (Verilated RTL in-process, N = 16, LM, every step kept, FIFO_STALL);
#   vboard_payload_fraction: the same stream through "vboard" (the Verilated
#     board, 8N1 UART at 3 Mbaud = 4 clocks/bit of the 12 MHz clock): sample
#     payload bytes of the READ_FIFO answers over the simulated interval from
#     the first to the end of the last one, divided by the line's byte
#     capacity over that interval (3e6 / 10 bytes/s; counted in simulated
#     clock cycles, not wall time).  Host turnaround costs no simulated time
#     (the board's clock waits while nothing happens).
# Writes bench/results/link.json.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
make --no-print-directory B="$B" "$B/bin/link_bench" "$B/bin/tspu-vboard" >/dev/null
mkdir -p bench/results
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
SIM_SAMPLES=${SIM_SAMPLES:-50000}
VB_SAMPLES=${VB_SAMPLES:-5000}
"$B/bin/link_bench" sim "$SIM_SAMPLES" >"$tmp/sim.json"
TSPU_VBOARD="$B/bin/tspu-vboard" TSPU_VBOARD_STATS="$tmp/vb_stats.json" \
  "$B/bin/link_bench" vboard "$VB_SAMPLES" >"$tmp/vb.json"
python3 - "$tmp" <<'PY'
import json, sys
t = sys.argv[1]
sim = json.load(open(f"{t}/sim.json"))
vb = json.load(open(f"{t}/vb.json"))
st = json.load(open(f"{t}/vb_stats.json"))
clock_hz, baud = 12_000_000, 3_000_000
div = st["div"]
assert clock_hz // div == baud, "the board's divisor is not 3 Mbaud at 12 MHz"
capacity = st["fifo_interval_cycles"] / (10 * div)          # line bytes in the interval
frac = st["fifo_payload_bytes"] / capacity if capacity else 0.0
out = {
    "sim_samples_per_s": round(sim["samples_per_s"], 1),
    "vboard_baud": baud,
    "vboard_payload_fraction": round(frac, 4),
    "detail": {
        "n": sim["n"], "sim_samples": sim["samples"], "sim_wall_s": sim["wall_s"],
        "vboard_samples": vb["samples"], "vboard_wall_s": vb["wall_s"],
        "vboard_clock_hz": clock_hz, "vboard_clocks_per_bit": div,
        "vboard_fifo_answers": st["fifo_frames"], "vboard_payload_bytes": st["fifo_payload_bytes"],
        "vboard_interval_cycles": st["fifo_interval_cycles"],
        "vboard_rx_dropped": st["rx_dropped"],
    },
}
with open("bench/results/link.json", "w") as f:
    json.dump(out, f, indent=2)
    f.write("\n")
print(f"link: sim {out['sim_samples_per_s']:.0f} samples/s (N={sim['n']}), "
      f"vboard payload fraction {frac:.4f} at {baud} baud")
PY
