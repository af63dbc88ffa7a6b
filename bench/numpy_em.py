#!/usr/bin/python3
"""numpy Euler-Maruyama baseline for `make bench` (bench/run.sh).

Runs overdamped Euler-Maruyama, x <- x - h(Ax - b) + sqrt(2h/beta) xi, in
float64 on the problem that bench/model_bench --problem writes (the real
numbers the model's integers encode), vectorized over independent chains:
numpy's best case.  Each step is done in place with no temporaries:
    Y = X @ (I - hA)^T      (one BLAS gemm for all chains)
    Y += h b
    Z = standard_normal()   (Generator.standard_normal(out=Z), PCG64 + ziggurat)
    Y += s Z                (np.multiply(..., out=Z), then Y += Z)
which is algebraically the update above.  Several chain counts are tried and
the best rate reported, each the best of a few repetitions.  Run it with one
BLAS / OpenMP thread (bench/run.sh sets OMP_NUM_THREADS=1
OPENBLAS_NUM_THREADS=1 and pins it to one core), so it is one core against
the C model's one core.

usage: numpy_em.py PROBLEM_FILE [CHAINS ...]
prints one JSON object: n, lane_updates_per_s, steps_per_s (per chain), best
chains, and the rate for every chain count tried.
"""
import json
import sys
import time

import numpy as np

REPS = 5
MIN_SECONDS = 0.25  # per repetition
LANE_UPDATES_CAP = 3e8  # per repetition, to keep the runtime bounded


def load(path):
    with open(path) as f:
        n, h, beta = f.readline().split()
        n, h, beta = int(n), float(h), float(beta)
        rows = [list(map(float, f.readline().split())) for _ in range(n)]
        b = np.array(list(map(float, f.readline().split())))
    return n, h, beta, np.array(rows), b


def run(n, h, beta, A, b, chains, steps, rng):
    mt = np.ascontiguousarray((np.eye(n) - h * A).T)
    hb = h * b
    s = np.sqrt(2.0 * h / beta)
    x = np.zeros((chains, n))
    y = np.empty_like(x)
    z = np.empty_like(x)
    t0 = time.perf_counter()
    for _ in range(steps):
        np.matmul(x, mt, out=y)
        y += hb
        rng.standard_normal(out=z)
        np.multiply(z, s, out=z)
        y += z
        x, y = y, x
    t = time.perf_counter() - t0
    if not np.all(np.isfinite(x)):
        raise SystemExit("numpy_em: the chains diverged")
    return t


def rate(n, h, beta, A, b, chains, rng):
    steps = 16
    while True:  # calibrate: grow the run to MIN_SECONDS
        t = run(n, h, beta, A, b, chains, steps, rng)
        if t >= MIN_SECONDS or steps * chains * n >= LANE_UPDATES_CAP:
            break
        steps = int(steps * min(64.0, MIN_SECONDS * 1.2 / max(t, 1e-5))) + 1
    best = min(run(n, h, beta, A, b, chains, steps, rng) for _ in range(REPS))
    return steps * chains * n / best


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    n, h, beta, A, b = load(sys.argv[1])
    chain_counts = [int(c) for c in sys.argv[2:]] or [1, 16, 64, 256, 1024, 4096, 16384]
    rng = np.random.default_rng(12345)
    tried = {}
    for c in chain_counts:
        tried[c] = rate(n, h, beta, A, b, c, rng)
    best_c = max(tried, key=tried.get)
    lu = tried[best_c]
    print(json.dumps({"n": n, "lane_updates_per_s": lu, "steps_per_s": lu / (n * best_c),
                      "best_chains": best_c,
                      "by_chains": {str(c): r for c, r in tried.items()},
                      "numpy": np.__version__}))


if __name__ == "__main__":
    main()
