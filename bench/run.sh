#!/usr/bin/env bash
# bench/run.sh - run by `make bench` (after the Makefile has built the bench
# programs into $B/bin).  Model benchmark: the bit-exact C model against a
# numpy Euler-Maruyama baseline, both on one core, in the same run; writes
# bench/results/model.json and the model section of docs/benchmarks.md.
# Later benchmarks (RTL, link, FPGA) add their own steps and doc sections.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
NS=(8 16 32 64)
# Debian's python3 with python3-numpy; a python3 earlier on the PATH (pyenv,
# venv) may be a separate build without numpy.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

make --no-print-directory B="$B" "$B/bin/model_bench" "$B/bin/model_golden" >/dev/null

# one core for both: pin to CPU 0 when taskset exists; one BLAS thread
PIN=()
command -v taskset >/dev/null 2>&1 && taskset -c 0 true 2>/dev/null && PIN=(taskset -c 0)
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p bench/results docs

# the model being timed must still be the bit-exact one: every step of EM,
# LM and UD hashed against bench/golden/model_golden.txt
if "$B/bin/model_golden" bench/golden/model_golden.txt >&2; then golden=true; else golden=false; fi

echo "bench: model (bit-exact C, EM, one core) vs numpy EM (float64, one core), N = ${NS[*]}" >&2
for n in "${NS[@]}"; do
  "$B/bin/model_bench" --problem "$n" "$tmp/problem$n.txt"
  "${PIN[@]}" "$B/bin/model_bench" "$n" >"$tmp/model$n.json"
  "${PIN[@]}" "$PY" bench/numpy_em.py "$tmp/problem$n.txt" >"$tmp/numpy$n.json"
  echo "  N=$n done" >&2
done

cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
[ -n "$cpu" ] || cpu=$(uname -m)
gccv=$(${CC:-gcc} -dumpfullversion 2>/dev/null || echo unknown)

"$PY" - "$tmp" "$cpu" "$gccv" "${PIN[*]:-none}" "$golden" "${NS[@]}" <<'EOF'
import datetime, json, sys
tmp, cpu, gccv, pin, golden, ns = sys.argv[1:6] + [sys.argv[6:]]
golden = golden == "true"
rows = []
for n in ns:
    m = json.load(open(f"{tmp}/model{n}.json"))
    p = json.load(open(f"{tmp}/numpy{n}.json"))
    rows.append({
        "n": int(n),
        "model_lane_updates_per_s": m["lane_updates_per_s"],
        "numpy_lane_updates_per_s": p["lane_updates_per_s"],
        "ratio": m["lane_updates_per_s"] / p["lane_updates_per_s"],
        "model_steps_per_s": m["steps_per_s"],
        "model_ns_per_step": m["ns_per_step"],
        "numpy_best_chains": p["best_chains"],
        "numpy_steps_per_s_per_chain": p["steps_per_s"],
        "numpy_lane_updates_per_s_by_chains": p["by_chains"],
    })
date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
out = {"benchmark": "model", "date": date, "cpu": cpu, "gcc": gccv,
       "numpy": json.load(open(f"{tmp}/numpy{ns[0]}.json"))["numpy"],
       "pinned": pin, "model_golden_match": golden, "rows": rows}
with open("bench/results/model.json", "w") as f:
    json.dump(out, f, indent=2)
    f.write("\n")

def si(v):
    return f"{v / 1e6:,.1f} M"

table = [
    f"Measured {date} on **{cpu}** (one core, `{pin}`), gcc {gccv}, "
    f"numpy {out['numpy']}; both measured in the same `make bench` run.  "
    f"Golden trace of the model: {'matches' if golden else '**DOES NOT MATCH**'} "
    "`bench/golden/model_golden.txt`.",
    "",
    "| N | model steps/s | model lane-updates/s | numpy lane-updates/s (best chains) | model / numpy |",
    "|---:|---:|---:|---:|---:|",
]
for r in rows:
    table.append(f"| {r['n']} | {si(r['model_steps_per_s'])} | {si(r['model_lane_updates_per_s'])} | "
                 f"{si(r['numpy_lane_updates_per_s'])} ({r['numpy_best_chains']}) | "
                 f"{r['ratio']:.2f}x |")

INTRO = """## Model: bit-exact C model vs numpy Euler-Maruyama

What is measured (`bench/model_bench.c`, `bench/numpy_em.py`, `bench/run.sh`):

- **Problem**, per N: a random symmetric positive-definite A (off-diagonal
  entries uniform in ±1/N, diagonally dominant with margin 1, so its
  eigenvalues lie in [1, 3]), random b in [-1, 1], beta = 1, h = 0.05, mapped
  with `tspu_map_problem` for the Euler-Maruyama integrator.  numpy gets the
  real numbers the model's integers encode (`A_eff`, `b_eff`), so both
  integrate the same problem.
- **Model**: one unit of N lanes, EM, fixed lambda (one coupling set), the
  sampling phase with every step kept (thin 1): moments accumulated and each
  sample written to the FIFO, which the host drains as it fills.
  Steps/s is the best of 5 runs of at least 0.25 s.  Built as `make` builds
  it: -O3, and the run loop has a baseline x86-64 and an x86-64-v3
  (AVX2 + FMA) copy, picked at load time (see the "Speed" note in
  `host/model/model.c`).
- **Bit-exactness**: before timing, `bench/model_golden` hashes every state
  word of every step of EM, LM and UD (N = 2, 8, 16, 64, lambda ramps between
  two coupling sets, fixed lambda, saturating dynamics, FIFO overflow) and
  compares with the hashes recorded from the original, unoptimised model.
- **numpy**: `x <- x - h(Ax - b) + sqrt(2h/beta) xi` in float64, vectorized
  over independent chains (its best case): per step one gemm with (I - hA)^T,
  in-place adds, `Generator.standard_normal(out=...)`; chain counts 1 to
  16384 are tried and the best is reported (best of 5 runs each).
- **Lane-update**: one coordinate advanced by one step.  Model
  lane-updates/s = steps/s x N; numpy = steps/s x chains x N.
- **One core**: both are pinned to CPU 0 (`taskset -c 0`) with
  OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = 1.
- The model does more per lane-update than numpy (moments, FIFO, saturation
  accounting, integer rounding); numpy does not accumulate statistics.
- Raw figures, including numpy's rate at every chain count: `bench/results/model.json`.

"""
# the whole section lives between the markers: bench/doc_section.py rewrites only that
sys.path.insert(0, "bench")
from doc_section import write_section
write_section("model", INTRO + "\n".join(table) + "\n", by="bench/run.sh")

print(f"{'N':>3} {'model lane-upd/s':>17} {'numpy lane-upd/s':>17} {'ratio':>6}")
for r in rows:
    print(f"{r['n']:>3} {r['model_lane_updates_per_s']:>17.4g} {r['numpy_lane_updates_per_s']:>17.4g} "
          f"{r['ratio']:>6.2f}")
print("wrote bench/results/model.json and docs/benchmarks.md (model section)")
EOF

# link benchmark: sim samples/s, vboard payload fraction (bench/results/link.json)
B="$B" bash bench/link_bench.sh

# algorithms benchmark: solve / inv error vs emulated device time beside LAPACK
# (bench/results/algo.json, bench/results/algo_error_vs_time.png)
B="$B" bash bench/algo_bench.sh

# Bayesian inference benchmark: time per independent posterior sample and ramp
# time for fixed dissipation against d (bench/results/bayes.json)
B="$B" bash bench/bayes_bench.sh
